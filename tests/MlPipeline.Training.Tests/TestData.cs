using MlPipeline.Training.Data;

namespace MlPipeline.Training.Tests;

/// <summary>Real MNIST for the tests, fetched once per test run through the same code users run.</summary>
internal static class TestData
{
    static readonly Lazy<string> Directory = new(() => MlPipeline.Training.Data.Mnist.Ensure());
    static readonly Lazy<TrainingData> Data = new(() => MlPipeline.Training.Data.Mnist.Load(Directory.Value));

    public static string MnistDirectory => Directory.Value;

    public static TrainingData Mnist => Data.Value;

    /// <summary>A small, quick split: the first <paramref name="train"/> training and <paramref name="test"/> test images.</summary>
    public static TrainingData Subset(int train, int test) =>
        Mnist with { Train = Mnist.Train.Take(train), Test = Mnist.Test.Take(test) };

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlpipeline-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A file of the repository (found above the test binaries, next to MlPipeline.sln).</summary>
    public static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, relative);
            if (File.Exists(path) && File.Exists(Path.Combine(dir.FullName, "MlPipeline.sln"))) { return path; }
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
