using MlPipeline.Data;

namespace MlPipeline.Training.Tests.Training;

/// <summary>Training on images read from the run folder's decoded-image cache gives, bit for bit, the weights of training on the same images in memory.</summary>
public sealed class ImageCacheTrainingTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static IReadOnlyDictionary<string, float[]> Weights(string run)
    {
        using var model = TrainedModel.Load(run);
        return model.Weights();
    }

    TrainingOptions Options(string run, int epochs, bool? resume = null) => new()
    {
        Run = new RunFolderOptions { OutputDirectory = Path.Combine(dir, run), Resume = resume ?? epochs > 1 },
        Epochs = epochs,
        BatchSize = 16,
        Execution = new ExecutionOptions { Threads = 1 },
        Seed = 5,
        Augmentation = Augmentation.Parse("rotate=10,shift=0.1"),
    };

    [Test]
    public void Train_FromTheCacheFile_OneThreadAndResumed_GivesTheInMemoryWeightsBitForBit()
    {
        string folder = Path.Combine(dir, "digits");
        Digits.Mnist.Test.WritePngFolder(folder, 300);
        var folderOptions = new ImageFolderOptions { ValidationSplit = 0.25, Seed = 3 };
        var inMemory = ImageFolderData.Load(folder, folderOptions).Data;

        ClassifierTrainer.Train(inMemory, Options("memory", 1, resume: false));
        ClassifierTrainer.Train(inMemory, Options("memory", 2));
        // Each call loads anew from the cache in the run folder, as a command run twice does; the second reuses it.
        foreach (int epochs in new[] { 1, 2 })
        {
            using var run = RunFolder.Open(Path.Combine(dir, "disk"));
            var cached = ImageFolderData.Load(folder, folderOptions with { CacheDirectory = run.Path }).Data;
            Assert.That(cached.Train.CacheFile, Is.EqualTo(Path.Combine(run.Path, "images-training.bin")));
            ClassifierTrainer.Train(cached, Options("disk", epochs, resume: epochs > 1), run);
        }

        var expected = Weights(Path.Combine(dir, "memory"));
        var actual = Weights(Path.Combine(dir, "disk"));
        Assert.That(actual.Keys, Is.EqualTo(expected.Keys));
        foreach (string name in expected.Keys) { Assert.That(actual[name], Is.EqualTo(expected[name]), name); }
        Assert.That(File.ReadAllText(Path.Combine(dir, "disk", RunFolder.MetricsFile)), Is.EqualTo(File.ReadAllText(Path.Combine(dir, "memory", RunFolder.MetricsFile))));
    }

    [Test]
    public void Train_FolderNotTheOptionsOutputDirectory_IsRefusedNamingBoth()
    {
        using var run = RunFolder.Open(Path.Combine(dir, "a"));
        var images = Digits.Mnist.Test.Take(20);
        var e = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Train(new TrainingData(images, images, new Dictionary<string, string>()), Options("b", 1), run));
        Assert.That(e!.Message, Does.Contain(Path.Combine(dir, "a")).And.Contain(Path.Combine(dir, "b")));
    }
}
