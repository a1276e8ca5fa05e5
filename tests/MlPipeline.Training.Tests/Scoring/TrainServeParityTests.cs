using MlPipeline.Data;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Training.Tests.Scoring;

/// <summary>Training and scoring turn a file into the same tensor: no train/serve skew.</summary>
public sealed class TrainServeParityTests
{
    [Test]
    public void Preprocess_PngOfAnMnistDigit_EqualsTheTrainingTensor()
    {
        var test = Digits.Mnist.Test;
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        using var training = TrainingTensors.Images(test.Take(20), classifier.Preprocessing);
        float[] expected = training.data<float>().ToArray();

        for (int i = 0; i < 20; i++)
        {
            float[] served = classifier.Preprocess(Digits.Png(i));

            Assert.That(served, Is.EqualTo(expected.AsSpan(i * 784, 784).ToArray()), $"digit {i}");
        }
    }

    [Test]
    public void Preprocess_ColourFilesWithPerChannelNormalisation_EqualsTheTrainingTensorExactly()
    {
        string dir = TempDirectory.Create();
        try
        {
            var files = new List<string>();
            for (int i = 0; i < 6; i++)
            {
                // Several sizes, so the resize runs; colours that differ per channel.
                int width = 13 + (i * 7), height = 11 + (i * 5);
                using var bitmap = new SKBitmap(width, height);
                for (int y = 0; y < height; y++)
                {
                    for (int x = 0; x < width; x++) { bitmap.SetPixel(x, y, new SKColor((byte)(x * 9 + i), (byte)(y * 13), (byte)((x + y) * 5 * i))); }
                }
                using var image = SKImage.FromBitmap(bitmap);
                string path = Path.Combine(dir, "set", i % 2 == 0 ? "even" : "odd", $"{i}.png");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, image.Encode(SKEncodedImageFormat.Png, 100).ToArray());
                files.Add(path);
            }
            var set = ImageFolderData.Load(Path.Combine(dir, "set"), new ImageFolderOptions { Width = 16, Height = 12, ValidationSplit = 0.5 }).Data;
            var preprocessing = ImagePreprocessing.Standardized(16, 12, ColorMode.Rgb, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
            string model = Path.Combine(dir, "m.onnx");
            File.WriteAllBytes(model, OnnxModels.ChannelMeans(3, 12, 16));
            using var classifier = ImageClassifier.Load(model, new ImageClassifierOptions { Means = [0.485f, 0.456f, 0.406f], Stds = [0.229f, 0.224f, 0.225f] });
            Assert.That(classifier.Preprocessing, Is.EqualTo(preprocessing));

            var training = new List<float[]>();
            foreach (var images in new[] { set.Train, set.Test })
            {
                using var tensor = TrainingTensors.Images(images, preprocessing);
                float[] all = tensor.data<float>().ToArray();
                training.AddRange(all.Chunk(3 * 12 * 16));
            }

            Assert.That(training, Has.Count.EqualTo(6));
            foreach (string file in files) { Assert.That(training, Has.Some.EqualTo(classifier.Preprocess(File.ReadAllBytes(file))), file); }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
