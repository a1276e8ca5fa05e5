using MlPipeline.Data;
using MlPipeline.Training.Models;
using MlPipeline.Training.Transfer;
using TorchSharp;
using static TorchSharp.torch;

namespace MlPipeline.Training.Tests.Transfer;

/// <summary>
/// A run on a backbone reads its features from the run folder's cache per batch, and trains exactly as it did when
/// every feature was held in one tensor (a second implementation in this fixture: the old whole-set computation and
/// <see cref="TensorInputs"/>); a drive too small for the features is refused before anything is computed.
/// </summary>
public sealed class TransferInputsTests
{
    string dir = "";
    TrainingData data = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        dir = TempDirectory.Create();
        var mnist = Digits.Mnist;
        data = mnist with { Train = Digits.Coloured(mnist.Train.Take(20), 224), Test = Digits.Coloured(mnist.Test.Take(8), 224) };
    }

    [OneTimeTearDown]
    public void CleanUp() => Directory.Delete(dir, recursive: true);

    static TrainingOptions Options(string output) => new()
    {
        Run = new RunFolderOptions { OutputDirectory = output },
        Backbone = Backbone.ResNet18,
        FineTuneBlocks = 1,
        Augmentation = Augmentation.Parse("flip,shift=0.1"),
        AugmentCopies = 2,
        Epochs = 2,
        BatchSize = 8,
        LearningRate = 1e-4,
        // One thread, so that libtorch's reductions round the same in both runs.
        Execution = new ExecutionOptions { Threads = 1 },
    };

    [Test]
    public void Train_FineTunedWithCopies_LearnsTheWeightsOfFeaturesHeldInMemory()
    {
        var options = Options(Path.Combine(dir, "streamed"));
        var trained = ClassifierTrainer.Train(data, options);
        using var streamed = TrainedModel.Load(trained.RunDirectory);

        var plan = TrainingPlan.Create(data, options);
        var (reference, features) = TrainInMemory(plan, options with { Run = options.Run with { OutputDirectory = Path.Combine(dir, "in-memory") } });

        Assert.That(trained.Features!.Computed + trained.Features.Cached, Is.EqualTo((20 * 3) + 8));
        // What the cache holds is what the whole-set computation gives, row for row.
        using (var cache = FeatureCache.Open(Path.Combine(trained.RunDirectory, RunFolder.FeaturesFile), plan.Cut!.FeatureSize))
        using (var extractor = new FeatureExtractor(plan.Backbone!, plan.Cut, threads: 1))
        {
            var rows = extractor.Rows(plan.Train, new Augmenter(options.Augmentation, plan.Preprocessing, options.Seed), 2, "copy 2", default);
            for (int i = 0; i < rows.Count; i++)
            {
                Assert.That(cache.TryGet(rows.Keys[i], out float[] cached), Is.True);
                Assert.That(cached, Is.EqualTo(features[2].AsSpan(i * plan.Cut.FeatureSize, plan.Cut.FeatureSize).ToArray()), $"copy 2, row {i}");
            }
        }
        var weights = streamed.Weights();
        Assert.That(weights.Keys, Is.EquivalentTo(reference.Keys));
        foreach (var (name, values) in reference) { Assert.That(weights[name], Is.EqualTo(values), name); }
    }

    [Test]
    public void Prepare_DriveTooSmall_RefusesBeforeComputingAndKeepsTheCache()
    {
        var small = data with { Train = data.Train.Take(4), Test = data.Test.Take(2) };
        var options = Options(Path.Combine(dir, "full-disk"));
        var plan = TrainingPlan.Create(small, options);
        using var folder = RunFolder.Open(options.Run.OutputDirectory);
        string cachePath = folder[RunFolder.FeaturesFile];
        using (var cache = FeatureCache.Open(cachePath, plan.Cut!.FeatureSize))
        {
            cache.Add([FeatureCacheTests.KeyOf(1)], new float[plan.Cut.FeatureSize]);
        }
        byte[] before = File.ReadAllBytes(cachePath);
        string? asked = null;
        using var inputs = new TransferInputs(plan.Backbone!, plan, options, folder, null, default, freeSpace: path =>
        {
            asked = path;
            return 1_000_000;
        });
        long record = 32 + (plan.Cut.FeatureSize * 4) + 16, rows = (4 * 3) + 2;

        var e = Assert.Throws<IOException>(inputs.Prepare);

        Assert.That(e!.Message, Does.StartWith($"Not enough disk space for the backbone features: {rows} image(s) not yet in the cache '{cachePath}' need"));
        Assert.That(e.Message, Does.Contain($"({rows} × {record} bytes), and its drive has 976.6 KiB free").Or.Contain($"({rows} × {record} bytes), and its drive has 1000000 bytes free"));
        Assert.That(e.Message, Does.EndWith("nothing was computed and nothing in the run folder was removed."));
        Assert.That(asked, Is.EqualTo(folder.Path));
        Assert.That(inputs.Statistics.Computed, Is.Zero);
        Assert.That(File.ReadAllBytes(cachePath), Is.EqualTo(before));
    }

    /// <summary>
    /// What training did before the features were streamed: each set's (and copy's) features computed a batch of
    /// <see cref="FeatureExtractor.BatchSize"/> at a time into one array, held in a <see cref="TensorInputs"/>, and the
    /// run's model built as <see cref="ClassifierTrainer"/> builds it. Returns the trained weights and the training features by copy.
    /// </summary>
    static (Dictionary<string, float[]> Weights, List<float[]> Features) TrainInMemory(TrainingPlan plan, TrainingOptions options)
    {
        using var extractor = new FeatureExtractor(plan.Backbone!, plan.Cut!, options.Execution.Threads);
        var augmenter = new Augmenter(options.Augmentation, plan.Preprocessing, options.Seed);
        var training = new List<float[]> { Compute(extractor, plan.Train, null, 0) };
        for (int copy = 1; copy <= options.AugmentCopies; copy++) { training.Add(Compute(extractor, plan.Train, augmenter, copy)); }
        float[] validation = Compute(extractor, plan.Validation, null, 0);
        var cut = plan.Cut!;
        ModelInputs Inputs(ImageSet set, bool train)
        {
            float[] all = train ? [.. training.SelectMany(f => f)] : ReferenceEquals(set, plan.Validation) ? validation : Compute(extractor, set, null, 0);
            return new TensorInputs(tensor(all, [all.Length / cut.FeatureSize, cut.Channels, cut.Height, cut.Width]));
        }

        torch.set_num_threads(options.Execution.Threads!.Value);
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(options.Seed);
        var model = ModuleFactory.Build(plan.Spec);
        if (options.Initialization == WeightInitialization.Glorot) { ModuleFactory.InitializeGlorot(model); }
        ModuleFactory.Load(model, cut.Weights, requireAll: false);
        var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        using var folder = RunFolder.Open(options.Run.OutputDirectory);
        using var loop = new EpochLoop(model, optimizer, plan, options, folder, Inputs);
        Assert.That(loop.Run(plan.FreshState(options), null, default).Completed, Is.True);
        var weights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float32).data<float>().ToArray());
        return (weights, training);
    }

    /// <summary>The old whole-set computation: pixels as floats, augmented per batch (copy, batch number), the backbone run on the batch.</summary>
    static float[] Compute(FeatureExtractor extractor, ImageSet set, Augmenter? augmenter, int copy)
    {
        int imageSize = set.ImageSize, size = extractor.Cut.FeatureSize;
        var result = new float[set.Count * size];
        for (int start = 0; start < set.Count; start += FeatureExtractor.BatchSize)
        {
            int n = Math.Min(FeatureExtractor.BatchSize, set.Count - start);
            float[] pixels = [.. set.ToArray().AsSpan(start * imageSize, n * imageSize).ToArray().Select(b => (float)b)];
            if (augmenter is not null)
            {
                using var scope = torch.NewDisposeScope();
                augmenter.Apply(tensor(pixels, [n, 3, set.Height, set.Width]), copy, start / FeatureExtractor.BatchSize).clamp(0, 255).contiguous().data<float>().CopyTo(pixels);
            }
            extractor.Run(pixels, n).CopyTo(result, start * size);
        }
        return result;
    }
}
