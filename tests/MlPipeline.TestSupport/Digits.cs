using MlPipeline.Data;

namespace MlPipeline.TestSupport;

/// <summary>Real MNIST for the tests, fetched once per process through the same code users run.</summary>
public static class Digits
{
    static readonly Lazy<string> MnistFolder = new(() => MlPipeline.Datasets.Mnist.Ensure());
    static readonly Lazy<TrainingData> Data = new(() => MlPipeline.Datasets.Mnist.Load(MnistFolder.Value));

    /// <summary>The verified MNIST folder (the per-user cache).</summary>
    public static string MnistDirectory => MnistFolder.Value;

    /// <summary>MNIST, loaded once.</summary>
    public static TrainingData Mnist => Data.Value;

    /// <summary>A small, quick split: the first <paramref name="train"/> training and <paramref name="test"/> test images.</summary>
    public static TrainingData Subset(int train, int test) =>
        Mnist with { Train = Mnist.Train.Take(train), Test = Mnist.Test.Take(test) };

    /// <summary>
    /// Digits as colour images of <paramref name="size"/>×<paramref name="size"/>: each digit scaled up (nearest
    /// neighbour) and drawn in a colour that depends on its label, for models that need larger or colour inputs.
    /// </summary>
    public static ImageSet Coloured(ImageSet digits, int size)
    {
        ArgumentNullException.ThrowIfNull(digits);
        byte[] pixels = new byte[digits.Count * 3 * size * size];
        int[] labels = digits.Labels.ToArray();
        for (int n = 0; n < digits.Count; n++)
        {
            var digit = digits.Image(n);
            for (int c = 0; c < 3; c++)
            {
                // Channel weights between 0.4 and 1 that differ per label and channel.
                double weight = 0.4 + (0.6 * (((labels[n] * 3) + c) % 7) / 6.0);
                for (int y = 0; y < size; y++)
                {
                    for (int x = 0; x < size; x++)
                    {
                        byte value = digit[(y * digits.Height / size * digits.Width) + (x * digits.Width / size)];
                        pixels[(((n * 3) + c) * size * size) + (y * size) + x] = (byte)(value * weight);
                    }
                }
            }
        }
        return new ImageSet(pixels, labels, 3, size, size, digits.ClassNames);
    }

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
