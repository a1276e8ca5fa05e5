using Microsoft.ML.OnnxRuntime;
using MlPipeline.Data;
using MlPipeline.Scoring;
using MlPipeline.Training.Export;
using MlPipeline.Training.Models;
using MlPipeline.Training.Transfer;

namespace MlPipeline.Training.Tests.Transfer;

/// <summary>
/// A head trained on ResNet-18's features of 224×224 colour digits: it learns, exports as one ONNX file equal to
/// backbone-in-ONNX-Runtime + head-in-TorchSharp, scores with no flags, and reuses its cached features.
/// </summary>
public sealed class TransferTrainingTests
{
    string dir = "";
    TrainingData data = null!;
    TrainingResult result = null!;
    TrainedModel model = null!;
    string onnx = "";

    static TrainingOptions Options(string output) => new()
    {
        Run = new RunFolderOptions { OutputDirectory = output },
        Backbone = Backbone.ResNet18,
        Epochs = 15,
        BatchSize = 32,
        LearningRate = 0.003,
        // One thread: libtorch's multithreaded reductions may round differently from run to run (a 1-ulp difference in
        // the head's weights was seen with two), and these tests compare runs bit for bit.
        Execution = new ExecutionOptions { Threads = 1 },
    };

    [OneTimeSetUp]
    public void Train()
    {
        dir = TempDirectory.Create();
        data = Digits.Mnist with { Train = Digits.Coloured(Digits.Mnist.Train.Take(120), 224), Test = Digits.Coloured(Digits.Mnist.Test.Take(64), 224) };
        result = ClassifierTrainer.Train(data, Options(Path.Combine(dir, "run")));
        model = TrainedModel.Load(result.RunDirectory);
        onnx = Path.Combine(dir, "model.onnx");
        OnnxExporter.Export(model, onnx);
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        model?.Dispose();
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void Train_LinearHead_LearnsFromTheFeatures()
    {
        // Ten classes, 120 training images: chance is 10 %.
        Assert.That(result.TestAccuracy, Is.GreaterThanOrEqualTo(0.6));
        Assert.That(result.Features, Is.EqualTo(new FeatureStatistics(184, 0, result.Features!.Seconds)), "every image's features computed once");
        Assert.That(model.Architecture.Name, Is.EqualTo("resnet18-linear"));
        Assert.That(model.Architecture.Layers.OfType<LinearLayer>().Single(), Is.EqualTo(new LinearLayer(512, 10)));
        Assert.That(model.Info.Backbone, Is.EqualTo(new TransferSettings("resnet18", "Microsoft.ML.DnnImageFeaturizer.ResNet18", "0.23.1", Backbone.Locate("resnet18").ModelChecksum(), HeadKind.Linear, 0)));
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(64)]
    public void Export_OneFile_EqualsBackboneInOnnxRuntimeThenHeadInTorchSharp(int batchSize)
    {
        var verification = OnnxVerifier.Verify(model, onnx, data.Test, count: 64, batchSize: batchSize);

        Assert.That(verification.MaxAbsDifference, Is.LessThanOrEqualTo(1e-4));
        Assert.That(verification.ArgmaxAgreement, Is.EqualTo(1.0));
        Assert.That(verification.Images, Is.EqualTo(64));
    }

    [Test]
    public void Export_Metadata_DescribesInputBackboneAndHead()
    {
        using var session = new InferenceSession(onnx);
        var metadata = session.ModelMetadata.CustomMetadataMap;

        Assert.That(session.InputMetadata["input"].Dimensions, Is.EqualTo(new[] { -1, 3, 224, 224 }));
        Assert.That(session.OutputNames, Is.EqualTo(new[] { "logits", "probabilities" }));
        Assert.That(metadata["mlpipeline.backbone"], Is.EqualTo("resnet18"));
        Assert.That(metadata["mlpipeline.backbone_package"], Is.EqualTo("Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1"));
        Assert.That(metadata["mlpipeline.head"], Is.EqualTo("linear"));
        Assert.That(metadata["mlpipeline.architecture"], Is.EqualTo("resnet18-linear"));
        Assert.That((metadata["mlpipeline.image_width"], metadata["mlpipeline.color_mode"], metadata["mlpipeline.pixel_scale"]), Is.EqualTo(("224", "rgb", "1")));
    }

    [Test]
    public void Score_ExportedFileWithNoFlags_GivesTheModelsProbabilities()
    {
        // The test digits as lossless PNG files, scored through the ML.NET pipeline with nothing but the model file.
        string folder = Path.Combine(dir, "pngs");
        Directory.CreateDirectory(folder);
        var files = new List<string>();
        for (int i = 0; i < 16; i++)
        {
            using var bitmap = new SkiaSharp.SKBitmap(224, 224, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
            var image = data.Test.Image(i);
            for (int y = 0; y < 224; y++)
            {
                for (int x = 0; x < 224; x++)
                {
                    int p = (y * 224) + x;
                    bitmap.SetPixel(x, y, new SkiaSharp.SKColor(image[p], image[(224 * 224) + p], image[(2 * 224 * 224) + p]));
                }
            }
            string file = Path.Combine(folder, $"{i:D2}.png");
            using (var stream = File.Create(file)) { bitmap.Encode(stream, SkiaSharp.SKEncodedImageFormat.Png, 100); }
            files.Add(file);
        }
        using var classifier = ImageClassifier.Load(onnx, new ImageClassifierOptions { IncludeProbabilities = true });
        var scored = classifier.ScoreFiles(folder, files).ToList();

        using var session = new InferenceSession(onnx);
        float[] pixels = [.. data.Test.Take(16).ToArray().Select(b => (float)b)];
        using var outputs = session.Run(new RunOptions(), ["input"], [OrtValue.CreateTensorValueFromMemory(pixels, [16, 3, 224, 224])], ["probabilities"]);
        var expected = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.That(classifier.Labels, Is.EqualTo(data.Train.ClassNames));
        for (int i = 0; i < 16; i++)
        {
            Assert.That(scored[i].Error, Is.Null);
            Assert.That(scored[i].Prediction!.Probabilities, Is.EqualTo(expected[(i * 10)..((i + 1) * 10)]).Within(1e-5));
        }
    }

    [Test]
    public void Train_SecondRunWithTheCache_ComputesNothingAndLearnsTheSameWeights()
    {
        string second = Path.Combine(dir, "second");
        Directory.CreateDirectory(second);
        File.Copy(Path.Combine(result.RunDirectory, RunFolder.FeaturesFile), Path.Combine(second, RunFolder.FeaturesFile));

        var again = ClassifierTrainer.Train(data, Options(second));

        Assert.That((again.Features!.Computed, again.Features.Cached), Is.EqualTo((0, 184)));
        using var secondModel = TrainedModel.Load(second);
        Assert.That(secondModel.Weights()["1.weight"], Is.EqualTo(model.Weights()["1.weight"]));
        Assert.That(again.TestAccuracy, Is.EqualTo(result.TestAccuracy));
    }

    [Test]
    public void Train_StoppedWhileComputingFeatures_KeepsThemAndTheNextRunGoesOn()
    {
        string run = Path.Combine(dir, "stopped");
        var small = data with { Train = data.Train.Take(48), Test = data.Test.Take(16) };
        using var stop = new CancellationTokenSource();
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Features is { Done: >= FeatureExtractor.BatchSize }) { stop.Cancel(); }
        });

        var stopped = ClassifierTrainer.Train(small, Options(run), progress, stop.Token);

        Assert.That(stopped.Completed, Is.False);
        Assert.That(File.Exists(Path.Combine(run, RunFolder.CheckpointFile)), Is.False);
        int done = stopped.Features!.Computed;
        Assert.That(done, Is.InRange(FeatureExtractor.BatchSize, 47));
        // A kill mid-append leaves a torn record: it is dropped, the whole ones are kept.
        using (var file = new FileStream(Path.Combine(run, RunFolder.FeaturesFile), FileMode.Append)) { file.Write(new byte[100]); }

        var resumed = ClassifierTrainer.Train(small, Options(run));

        Assert.That(resumed.Completed, Is.True);
        Assert.That((resumed.Features!.Cached, resumed.Features.Computed), Is.EqualTo((done, 64 - done)));
    }

    [Test]
    public void Train_AugmentCopies_AddsTheFeaturesOfAugmentedCopies()
    {
        string run = Path.Combine(dir, "copies");
        var small = data with { Train = data.Train.Take(32), Test = data.Test.Take(16) };
        var options = Options(run) with { Epochs = 2, Augmentation = Augmentation.Parse("flip,shift=0.1"), AugmentCopies = 2 };

        var trained = ClassifierTrainer.Train(small, options, new SyncProgress<TrainingProgress>(p =>
        {
            // Two steps of 32 per epoch would mean no copies; 96 rows make three.
            if (p.CompletedEpoch is null && p.Features is null) { Assert.That(p.Steps, Is.EqualTo(3)); }
        }));

        Assert.That(trained.Features!.Computed + trained.Features.Cached, Is.EqualTo((32 * 3) + 16));
        Assert.That(trained.Features.Computed, Is.GreaterThan(32 + 16), "copies differ from the originals");
        using var copies = TrainedModel.Load(run);
        Assert.That(copies.Info.Backbone!.AugmentCopies, Is.EqualTo(2));
    }

    [Test]
    public void Train_FineTuningTheLastBlock_StartsFromImageNetAndExportsAsOneFile()
    {
        string run = Path.Combine(dir, "fine-tuned"), file = Path.Combine(dir, "fine-tuned.onnx");
        var small = data with { Train = data.Train.Take(48), Test = data.Test.Take(16) };
        var cut = Backbone.Locate(Backbone.ResNet18).Cut(1);

        var trained = ClassifierTrainer.Train(small, Options(run) with { Epochs = 2, FineTuneBlocks = 1, LearningRate = 1e-4 });
        using var fineTuned = TrainedModel.Load(run);
        OnnxExporter.Export(fineTuned, file);
        var verification = OnnxVerifier.Verify(fineTuned, file, small.Test, count: 16, batchSize: 7);

        Assert.That(fineTuned.Architecture.Name, Is.EqualTo("resnet18-ft1-linear"));
        Assert.That(fineTuned.Architecture.Layers[0], Is.EqualTo(cut.Blocks[0]));
        Assert.That((fineTuned.Architecture.InputChannels, fineTuned.Architecture.InputHeight), Is.EqualTo((cut.Channels, cut.Height)));
        // Trained, so moved from the pretrained weights, but not far at this rate: it started from them.
        float[] before = cut.Weights["0.conv2.weight"], after = fineTuned.Weights()["0.conv2.weight"];
        double moved = before.Zip(after, (b, a) => Math.Abs(b - a)).Max();
        Assert.That(moved, Is.GreaterThan(0).And.LessThan(0.05));
        Assert.That(trained.Features!.Computed + trained.Features.Cached, Is.EqualTo(64));
        Assert.That(verification.MaxAbsDifference, Is.LessThanOrEqualTo(1e-4));
        Assert.That(verification.ArgmaxAgreement, Is.EqualTo(1.0));
        using var session = new InferenceSession(file);
        Assert.That(session.ModelMetadata.CustomMetadataMap["mlpipeline.fine_tuned_blocks"], Is.EqualTo("1"));
        Assert.That(session.InputMetadata["input"].Dimensions, Is.EqualTo(new[] { -1, 3, 224, 224 }));
    }

    [Test]
    public void Train_CacheFileNotACache_IsAnErrorSayingToDeleteIt()
    {
        string run = Path.Combine(dir, "bad-cache");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, RunFolder.FeaturesFile), "not features");

        var e = Assert.Throws<InvalidDataException>(() => ClassifierTrainer.Train(data with { Train = data.Train.Take(16), Test = data.Test.Take(8) }, Options(run)));

        Assert.That(e!.Message, Does.Contain("is not an MlPipeline feature cache; delete it to compute the features again"));
    }

    [Test]
    public void Export_BackboneFileChanged_IsRefusedNamingBothChecksums()
    {
        string run = Path.Combine(dir, "other-backbone");
        Directory.CreateDirectory(run);
        foreach (string file in Directory.GetFiles(result.RunDirectory)) { File.Copy(file, Path.Combine(run, Path.GetFileName(file))); }
        string json = File.ReadAllText(Path.Combine(run, RunFolder.ModelFile));
        File.WriteAllText(Path.Combine(run, RunFolder.ModelFile), json.Replace(model.Info.Backbone!.ModelChecksum, "sha256:" + new string('0', 64), StringComparison.Ordinal));
        using var changed = TrainedModel.Load(run);

        var e = Assert.Throws<InvalidOperationException>(() => OnnxExporter.Export(changed, Path.Combine(dir, "refused.onnx")));

        Assert.That(e!.Message, Does.Contain("is not the file the head was trained on (sha256:000"));
        Assert.That(File.Exists(Path.Combine(dir, "refused.onnx")), Is.False);
    }

    [Test]
    public void Train_GrayImages_AreRefusedWithWhatTheBackboneTakes()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(Digits.Subset(20, 10), Options(Path.Combine(dir, "gray"))));

        Assert.That(e!.Message, Does.Contain("The resnet18 backbone takes 224x224 RGB images but the data is 1x28x28"));
        Assert.That(Directory.Exists(Path.Combine(dir, "gray")), Is.False, "a refused run leaves nothing");
    }

    [TestCase("resnet50", 0, "none", "Backbone 'resnet50' is not known; expected one of: resnet18")]
    [TestCase("resnet18", 2, "none", "AugmentCopies (2) needs an Augmentation")]
    [TestCase("resnet18", 0, "flip", "give AugmentCopies (--augment-copies N)")]
    [TestCase("resnet18", 33, "flip", "AugmentCopies must be from 0 to 32")]
    [TestCase(null, 2, "flip", "AugmentCopies (2) applies to training on a Backbone")]
    [TestCase("resnet18", -1, "none", "AugmentCopies must be from 0 to 32")]
    public void Validate_BadTransferOptions_NameTheProblem(string? backbone, int copies, string augment, string expected)
    {
        var options = new TrainingOptions { Backbone = backbone, AugmentCopies = copies, Augmentation = Augmentation.Parse(augment) };

        var e = Assert.Catch<ArgumentException>(() => options.Validate());

        Assert.That(e!.Message, Does.Contain(expected));
    }

    [Test]
    public void Validate_BackboneWithNormalize_SaysTheBackboneNormalises()
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainingOptions { Backbone = "resnet18", Normalize = true }.Validate());

        Assert.That(e!.Message, Does.Contain("brings its own input normalisation"));
    }

    sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
