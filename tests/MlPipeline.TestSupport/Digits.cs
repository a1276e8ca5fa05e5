using MlPipeline.Data;

namespace MlPipeline.TestSupport;

/// <summary>Real MNIST for the tests, fetched once per process through the same code users run.</summary>
public static class Digits
{
    static readonly Lazy<string> MnistFolder = new(() => MlPipeline.Data.Mnist.Ensure());
    static readonly Lazy<TrainingData> Data = new(() => MlPipeline.Data.Mnist.Load(MnistFolder.Value));

    /// <summary>The verified MNIST folder (the per-user cache).</summary>
    public static string MnistDirectory => MnistFolder.Value;

    /// <summary>MNIST, loaded once.</summary>
    public static TrainingData Mnist => Data.Value;

    /// <summary>A small, quick split: the first <paramref name="train"/> training and <paramref name="test"/> test images.</summary>
    public static TrainingData Subset(int train, int test) =>
        Mnist with { Train = Mnist.Train.Take(train), Test = Mnist.Test.Take(test) };

    /// <summary>Writes the first <paramref name="count"/> MNIST test digits as PNG files in FOLDER/&lt;label&gt;/ and returns the folder.</summary>
    public static string WritePngFolder(string folder, int count)
    {
        Mnist.Test.WritePngFolder(folder, count);
        return folder;
    }

    /// <summary>Test digit <paramref name="index"/> encoded as a PNG file's bytes.</summary>
    public static byte[] Png(int index)
    {
        var test = Mnist.Test;
        return MlPipeline.Internals.GrayPng.Encode(test.Image(index), test.Width, test.Height);
    }
}
