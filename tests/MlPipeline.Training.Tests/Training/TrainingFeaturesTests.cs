using MlPipeline.Data;
using MlPipeline.Evaluation;
using MlPipeline.Scoring;
using TorchSharp;

namespace MlPipeline.Training.Tests.Training;

/// <summary>Augmentation, early stopping, learning-rate schedules, weight decay, label smoothing and class weights.</summary>
public sealed class TrainingFeaturesTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>640 training digits, 100 validation digits, 200 test digits.</summary>
    static TrainingData Data()
    {
        var subset = Digits.Subset(640, 300);
        var test = subset.Test;
        return subset with { Test = test.Take(200), Validation = new ImageSet(test.ToArray()[(200 * 784)..], test.Labels[200..].ToArray(), 1, 28, 28, test.ClassNames) };
    }

    TrainingOptions Options(string name, int epochs = 2, bool resume = false) => new()
    {
        Run = new RunFolderOptions { OutputDirectory = Path.Combine(dir, name), Resume = resume },
        Epochs = epochs,
        BatchSize = 32,
        Execution = new ExecutionOptions { Threads = 1 },
        Seed = 7,
    };

    static IReadOnlyDictionary<string, float[]> Weights(string run)
    {
        using var model = TrainedModel.Load(run);
        return model.Weights();
    }

    [TestCase("none", "none")]
    [TestCase("light", "flip,shift=0.1")]
    [TestCase("standard", "flip,rotate=15,shift=0.1,zoom=0.1,color=0.2")]
    [TestCase(" Rotate=10 , shift=0.05 ", "rotate=10,shift=0.05")]
    public void Augmentation_Parse_ReadsPresetsAndLists(string text, string expected)
    {
        Assert.That(Augmentation.Parse(text).ToString(), Is.EqualTo(expected));
        Assert.That(Augmentation.Parse(expected), Is.EqualTo(Augmentation.Parse(text)));
    }

    [TestCase("wobble", "'wobble' is unknown")]
    [TestCase("rotate=400", "rotate=400 is out of range; expected 0 to 180")]
    [TestCase("shift=-0.1", "shift=-0.1 is out of range")]
    [TestCase("zoom", "'zoom' needs a number")]
    [TestCase("flip=1", "'flip=1' is unknown")]
    public void Augmentation_Parse_BadText_NamesItAndTheAcceptedValues(string text, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => Augmentation.Parse(text));

        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void Augmenter_SameSeedEpochAndStep_GivesTheSameBatch_AndAnotherStepAnother()
    {
        var images = Digits.Mnist.Test.Take(16);
        var preprocessing = ImagePreprocessing.UnitRange(28, 28, ColorMode.Gray);
        using var batch = TrainingTensors.Images(images, preprocessing);
        var augmenter = new Augmenter(Augmentation.Standard, preprocessing, seed: 3);

        using var a = augmenter.Apply(batch, 1, 5);
        using var b = augmenter.Apply(batch, 1, 5);
        using var c = augmenter.Apply(batch, 1, 6);

        Assert.That(a.data<float>().ToArray(), Is.EqualTo(b.data<float>().ToArray()));
        Assert.That(a.data<float>().ToArray(), Is.Not.EqualTo(c.data<float>().ToArray()));
        Assert.That(a.data<float>().ToArray(), Is.Not.EqualTo(batch.data<float>().ToArray()));
        Assert.That(a.shape, Is.EqualTo(batch.shape));
        // Pixels stay pixels: brightness and contrast are clamped to [0, 255] before normalising again.
        Assert.That(a.min().item<float>(), Is.GreaterThanOrEqualTo(-1e-6f));
        Assert.That(a.max().item<float>(), Is.LessThanOrEqualTo(1 + 1e-6f));
    }

    [Test]
    public void Augmenter_FlipOnly_MirrorsSomeImagesExactlyAndLeavesTheOthers()
    {
        var images = Digits.Mnist.Test.Take(32);
        var preprocessing = ImagePreprocessing.Standardized(28, 28, ColorMode.Gray, 0.13f, 0.31f);
        using var batch = TrainingTensors.Images(images, preprocessing);

        using var flipped = new Augmenter(new Augmentation(Flip: true), preprocessing, seed: 1).Apply(batch, 1, 0);

        int mirrored = 0, kept = 0;
        for (int i = 0; i < 32; i++)
        {
            float[] original = batch[i].data<float>().ToArray();
            float[] result = flipped[i].data<float>().ToArray();
            float[] mirror = batch[i].flip(2).data<float>().ToArray();
            if (result.Zip(original).All(p => Math.Abs(p.First - p.Second) < 1e-5)) { kept++; }
            else if (result.Zip(mirror).All(p => Math.Abs(p.First - p.Second) < 1e-5)) { mirrored++; }
        }
        Assert.That(mirrored + kept, Is.EqualTo(32), "every image is either itself or its mirror image");
        Assert.That(mirrored, Is.InRange(6, 26));
    }

    [Test]
    public void Preview_GivesTheOriginalFirstThenAugmentedCopies()
    {
        var images = Digits.Mnist.Test.Take(4);

        var preview = Augmentation.Parse("rotate=20,shift=0.1").Preview(images, index: 2, count: 5);

        Assert.That(preview.Count, Is.EqualTo(5));
        Assert.That(preview.Image(0).ToArray(), Is.EqualTo(images.Image(2).ToArray()));
        for (int i = 1; i < 5; i++) { Assert.That(preview.Image(i).ToArray(), Is.Not.EqualTo(images.Image(2).ToArray()), $"copy {i}"); }
        Assert.That(preview.Labels.ToArray(), Is.All.EqualTo(images.Labels.Span[2]));
    }

    [Test]
    public void Train_Augmented_ChangesTheWeightsButNeverTheValidationImages()
    {
        var data = Data();

        var plain = ClassifierTrainer.Train(data, Options("plain", 1));
        var augmented = ClassifierTrainer.Train(data, Options("augmented", 1) with { Augmentation = Augmentation.Parse("rotate=10,shift=0.1,zoom=0.1,color=0.2") });

        Assert.That(Weights(augmented.RunDirectory)["0.weight"], Is.Not.EqualTo(Weights(plain.RunDirectory)["0.weight"]));
        // The per-epoch figure is the model's accuracy on the untouched validation images.
        using var model = TrainedModel.Load(augmented.RunDirectory);
        var validation = data.Validation!;
        using var x = TrainingTensors.Images(validation, model.Info.Preprocessing);
        float[] logits = model.Logits(x.data<float>().ToArray(), validation.Count);
        int right = Enumerable.Range(0, validation.Count).Count(i => ScoreMath.ArgMax(logits.AsSpan(i * 10, 10)) == validation.Labels.Span[i]);
        Assert.That(augmented.History[^1].TestAccuracy, Is.EqualTo((double)right / validation.Count).Within(1e-9));
        Assert.That(model.Info.Training!.Augmentation, Is.EqualTo("rotate=10,shift=0.1,zoom=0.1,color=0.2"));
    }

    [Test]
    public void EarlyStopping_Decide_FollowsPatienceMinDeltaAndDirection()
    {
        static EpochMetrics E(int epoch, double loss, double accuracy) => new(epoch, 0, 0, loss, accuracy, 0);
        var history = new[] { E(1, 0.50, 0.80), E(2, 0.40, 0.85), E(3, 0.39, 0.84), E(4, 0.41, 0.86) };

        Assert.That(new EarlyStopping(2).Decide(history), Is.EqualTo((3, false)));
        Assert.That(new EarlyStopping(2, MinDelta: 0.02).Decide(history), Is.EqualTo((2, true)));
        Assert.That(new EarlyStopping(1, EarlyStoppingMonitor.ValAccuracy).Decide(history), Is.EqualTo((4, false)));
        Assert.That(new EarlyStopping(1, EarlyStoppingMonitor.ValAccuracy, MinDelta: 0.07).Decide(history), Is.EqualTo((1, true)));
    }

    [Test]
    public void Train_EarlyStopping_StopsAfterPatienceAndKeepsTheBestEpochsWeights()
    {
        var data = Data();
        // No later epoch can lower the loss by 10: the first epoch stays the best, and patience 2 stops after epoch 3.
        var options = Options("early", epochs: 6) with { EarlyStopping = new EarlyStopping(2, MinDelta: 10) };

        var result = ClassifierTrainer.Train(data, options);

        Assert.That(result.History.Select(h => h.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(result.History.Select(h => h.Best), Is.EqualTo(new[] { true, false, false }));
        Assert.That(result.BestEpoch, Is.EqualTo(1));
        using var model = TrainedModel.Load(result.RunDirectory);
        Assert.That(model.Info.BestEpoch, Is.EqualTo(1));
        var validation = data.Validation!;
        using var x = TrainingTensors.Images(validation, model.Info.Preprocessing);
        float[] logits = model.Logits(x.data<float>().ToArray(), validation.Count);
        int right = Enumerable.Range(0, validation.Count).Count(i => ScoreMath.ArgMax(logits.AsSpan(i * 10, 10)) == validation.Labels.Span[i]);
        Assert.That((double)right / validation.Count, Is.EqualTo(result.History[0].TestAccuracy).Within(1e-9), "the model has epoch 1's weights");
        string history = File.ReadAllText(Path.Combine(result.RunDirectory, RunFolder.HistoryFile));
        Assert.That(history, Does.Contain("\"best\": true"));
    }

    [Test]
    public void Train_EarlyStoppingInterruptedAndResumed_StopsAtTheSameEpochWithTheSameWeights()
    {
        var data = Data();
        var options = Options("straight", epochs: 6) with { EarlyStopping = new EarlyStopping(2, MinDelta: 10), Schedule = LearningRateSchedule.Plateau };
        var straight = ClassifierTrainer.Train(data, options);

        using var cancel = new CancellationTokenSource();
        var stopInEpoch2 = new Progress(p => { if (p is { Epoch: 2, Step: 5 }) { cancel.Cancel(); } });
        var first = ClassifierTrainer.Train(data, options with { Run = new RunFolderOptions { OutputDirectory = Path.Combine(dir, "resumed") } }, stopInEpoch2, cancel.Token);
        var second = ClassifierTrainer.Train(data, options with { Run = new RunFolderOptions { OutputDirectory = Path.Combine(dir, "resumed"), Resume = true } });

        Assert.That(first.Completed, Is.False);
        Assert.That(second.History.Select(h => h.Epoch), Is.EqualTo(straight.History.Select(h => h.Epoch)));
        Assert.That(second.BestEpoch, Is.EqualTo(straight.BestEpoch));
        var a = Weights(straight.RunDirectory);
        var b = Weights(second.RunDirectory);
        foreach (var key in a.Keys) { Assert.That(b[key], Is.EqualTo(a[key]), key); }
    }

    [Test]
    public void Train_OneCycleInterruptedMidEpochAndResumed_EqualsTheUninterruptedRun()
    {
        var data = Data();
        var options = Options("straight", epochs: 2) with { Schedule = LearningRateSchedule.OneCycle, LearningRate = 0.003 };
        var straight = ClassifierTrainer.Train(data, options);

        using var cancel = new CancellationTokenSource();
        var stop = new Progress(p => { if (p is { Epoch: 1, Step: 9 }) { cancel.Cancel(); } });
        ClassifierTrainer.Train(data, options with { Run = new RunFolderOptions { OutputDirectory = Path.Combine(dir, "resumed") } }, stop, cancel.Token);
        var resumed = ClassifierTrainer.Train(data, options with { Run = new RunFolderOptions { OutputDirectory = Path.Combine(dir, "resumed"), Resume = true } });

        Assert.That(resumed.History.Select(h => h.LearningRate), Is.EqualTo(straight.History.Select(h => h.LearningRate)));
        var a = Weights(straight.RunDirectory);
        var b = Weights(resumed.RunDirectory);
        foreach (var key in a.Keys) { Assert.That(b[key], Is.EqualTo(a[key]), key); }
        // One cycle: up to the rate by 30 % of the steps, then down; the end of the run is far below it.
        Assert.That(straight.History[0].LearningRate, Is.LessThan(0.003).And.GreaterThan(0.0003));
        Assert.That(straight.History[1].LearningRate, Is.LessThan(1e-5));
    }

    [Test]
    public void Train_Cosine_RecordsTheCosineRateOfEachEpoch()
    {
        var data = Data();

        var result = ClassifierTrainer.Train(data, Options("cosine", epochs: 3) with { Schedule = LearningRateSchedule.Cosine, LearningRate = 0.002 });

        // Epoch e trains at lr · (1 + cos(π (e - 1) / 3)) / 2.
        double[] expected = [.. Enumerable.Range(0, 3).Select(e => 0.002 * (1 + Math.Cos(Math.PI * e / 3)) / 2)];
        Assert.That(result.History.Select(h => h.LearningRate), Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void BalancedWeights_AreInverseFrequency()
    {
        // Classes a: 6 images, b: 2, c: 0 (left out by a limit, say).
        var set = new ImageSet(new byte[8], [0, 0, 0, 0, 0, 0, 1, 1], 1, 1, 1, ["a", "b", "c"]);

        float[] weights = EpochLoop.BalancedWeights(set);

        Assert.That(weights, Is.EqualTo(new[] { 8f / (3 * 6), 8f / (3 * 2), 0f }).Within(1e-6));
    }

    [Test]
    public void Train_WeightDecayLabelSmoothingAndClassWeights_ChangeTheRunAndAreRecorded()
    {
        var data = Data();
        var plain = ClassifierTrainer.Train(data, Options("plain", 1));

        var tuned = ClassifierTrainer.Train(data, Options("tuned", 1) with { WeightDecay = 0.05, LabelSmoothing = 0.1, ClassWeights = ClassWeighting.Balanced });

        Assert.That(Weights(tuned.RunDirectory)["0.weight"], Is.Not.EqualTo(Weights(plain.RunDirectory)["0.weight"]));
        using var model = TrainedModel.Load(tuned.RunDirectory);
        Assert.That(model.Info.Training, Is.EqualTo(new TrainingSettings("none", LearningRateSchedule.Constant, 0.05, 0.1, ClassWeighting.Balanced, null)));
    }

    [Test]
    public void Train_EarlyStoppingWithoutAValidationSet_IsRefusedNamingWhatIsNeeded()
    {
        var data = Digits.Subset(64, 50);

        var e = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(data, Options("none") with { EarlyStopping = new EarlyStopping(2) }));
        var p = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(data, Options("none") with { Schedule = LearningRateSchedule.Plateau }));

        Assert.That(e!.Message, Does.Contain("validation set").And.Contain("--val-split"));
        Assert.That(p!.Message, Does.Contain("plateau").And.Contain("validation"));
        Assert.That(Directory.Exists(Path.Combine(dir, "none")), Is.False);
    }

    [Test]
    public void Train_ResumeWithAnotherAugmentation_IsRefusedNamingIt()
    {
        var data = Data();
        ClassifierTrainer.Train(data, Options("run", 1));

        var e = Assert.Throws<InvalidOperationException>(() => ClassifierTrainer.Train(data, Options("run", 2, resume: true) with { Augmentation = Augmentation.Light }));

        Assert.That(e!.Message, Does.Contain("it was trained with augment none (now flip,shift=0.1). Resume with"), "that setting alone");
    }

    sealed class Progress(Action<TrainingProgress> handler) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => handler(value);
    }
}
