using MlPipeline.Evaluation;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Tests.Scoring;

/// <summary>Images much larger than the model's input: reduced-scale JPEG decoding and the budget of decoded pixels.</summary>
public sealed class LargeImageTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>The first <paramref name="count"/> MNIST test digits upscaled to <paramref name="size"/>² JPEGs in folders per label.</summary>
    string WriteLargeDigits(int count, int size)
    {
        string folder = Path.Combine(dir, "large");
        var test = Digits.Mnist.Test;
        for (int i = 0; i < count; i++)
        {
            using var small = new SKBitmap(28, 28, SKColorType.Gray8, SKAlphaType.Opaque);
            var pixels = test.Image(i);
            for (int p = 0; p < 784; p++) { small.SetPixel(p % 28, p / 28, new SKColor(pixels[p], pixels[p], pixels[p])); }
            using var large = small.Resize(new SKImageInfo(size, size, SKColorType.Bgra8888, SKAlphaType.Opaque), SKFilterQuality.High);
            using var data = large.Encode(SKEncodedImageFormat.Jpeg, 92);
            string label = test.ClassNames[test.Labels.Span[i]];
            Directory.CreateDirectory(Path.Combine(folder, label));
            File.WriteAllBytes(Path.Combine(folder, label, $"{i:D5}.jpg"), data.ToArray());
        }
        return folder;
    }

    [Test]
    public void ReducedScaleDecoding_IsUsedOnLargeJpegs_AndChangesAccuracyByLessThanHalfAPoint()
    {
        string folder = WriteLargeDigits(600, 112);
        var images = LabelledImages.FromFolder(folder);
        using var reduced = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { Threads = 1 });
        using var full = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { ReducedScaleDecoding = false, Threads = 1 });

        double reducedAccuracy = reduced.Evaluate(images).Metrics.MicroAccuracy;
        double fullAccuracy = full.Evaluate(images).Metrics.MicroAccuracy;

        // The largest decode: a quarter-scale 28x28, or the full 112x112.
        Assert.That(reduced.Model.Decode.Budget.LargestRequest, Is.EqualTo(28 * 28));
        Assert.That(full.Model.Decode.Budget.LargestRequest, Is.EqualTo(112 * 112));
        Assert.That(fullAccuracy, Is.GreaterThan(0.95));
        Assert.That(Math.Abs(reducedAccuracy - fullAccuracy), Is.LessThan(0.005), $"reduced {reducedAccuracy:P2}, full {fullAccuracy:P2}");
    }

    [Test]
    public void SmallOrNonJpegImages_AreDecodedAtFullSize()
    {
        string folder = WriteLargeDigits(5, 55);
        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { Threads = 1 });
        var png = Path.Combine(dir, "large.png");
        using (var bitmap = new SKBitmap(200, 200))
        using (var data = bitmap.Encode(SKEncodedImageFormat.Png, 100))
        {
            File.WriteAllBytes(png, data.ToArray());
        }

        classifier.ScoreFolder(folder, recursive: true).ToList();
        Assert.That(classifier.Model.Decode.Budget.LargestRequest, Is.EqualTo(55 * 55), "55 is under twice 28: no reduction");
        classifier.Predict(png);
        Assert.That(classifier.Model.Decode.Budget.LargestRequest, Is.EqualTo(200 * 200), "PNG has no reduced-scale decoding");
    }

    [Test]
    public void TheBudget_BoundsTheDecodedPixelsInFlight()
    {
        string folder = WriteLargeDigits(64, 112);
        // Four decoding threads, room for one full 112x112 decode at a time.
        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { ReducedScaleDecoding = false, Threads = 4, DecodedPixelBudget = 20_000, BatchSize = 16 });

        var results = classifier.ScoreFolder(folder, recursive: true).ToList();

        Assert.That(results.All(r => r.Succeeded), Is.True);
        Assert.That(results, Has.Count.EqualTo(64));
        Assert.That(classifier.Model.Decode.Budget.Peak, Is.LessThanOrEqualTo(20_000));
        Assert.That(classifier.Model.Decode.Budget.LargestRequest, Is.EqualTo(112 * 112));
    }
}
