using Microsoft.ML;
using Microsoft.ML.Data;
using MlPipeline.Scoring;

namespace MlPipeline.Tests.Scoring;

/// <summary>The scoring side against real MNIST digits rendered to PNG, the shipped model and a foreign copy of it.</summary>
public sealed class ImageClassifierTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string WriteDigits(int count) => Digits.WritePngFolder(Path.Combine(dir, "digits"), count);

    [Test]
    public void ScoreFolder_MnistTestDigits_AgreesWithTheShippedAccuracy()
    {
        string folder = WriteDigits(500);
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        var results = classifier.ScoreFolder(folder, recursive: true).ToList();

        Assert.That(results, Has.Count.EqualTo(500));
        Assert.That(results.All(r => r.Succeeded), Is.True);
        double accuracy = results.Count(r => r.Path.Split('/')[0] == r.Prediction!.Label) / 500.0;
        Assert.That(accuracy, Is.GreaterThan(0.98));
        Assert.That(results.Select(r => r.Path), Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
    }

    [Test]
    public void ScoreFiles_BatchedCalls_EqualTheStockMlNetPipeline()
    {
        string folder = WriteDigits(40);
        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { BatchSize = 16, IncludeProbabilities = true });
        var files = ImageClassifier.ListFolder(folder, recursive: true).Images;
        string model = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(model, File.ReadAllBytes(Repository.File("onnx/mnist-cnn.onnx")));

        var ours = classifier.ScoreFiles(folder, files).Select(r => r.Prediction!.Probabilities!.ToArray()).ToList();
        // The reference is written here from ML.NET's public transforms, as a user of stock ML.NET would write it for
        // this model (28x28 gray, pixels / 255, one row per ApplyOnnxModel call), not taken from the product.
        var ml = new MLContext(seed: 0);
        var pipeline = ml.Transforms.LoadImages("image", folder, "path")
            .Append(ml.Transforms.ResizeImages("image", 28, 28, "image", Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.Fill))
            .Append(ml.Transforms.ConvertToGrayscale("image", "image"))
            .Append(ml.Transforms.ExtractPixels("input", "image", Microsoft.ML.Transforms.Image.ImagePixelExtractingEstimator.ColorBits.Red, interleavePixelColors: false, scaleImage: 1f / 255f))
            .Append(ml.Transforms.ApplyOnnxModel(["probabilities"], ["input"], model));
        var rows = ml.Data.LoadFromEnumerable(files.Select(f => new PathRow { Path = Path.GetRelativePath(folder, f) }));
        using var fitted = pipeline.Fit(rows);
        var stock = fitted.Transform(rows).GetColumn<float[]>("probabilities").ToList();

        Assert.That(stock, Has.Count.EqualTo(ours.Count));
        for (int i = 0; i < stock.Count; i++) { Assert.That(ours[i], Is.EqualTo(stock[i]).Within(1e-6), files[i]); }
    }

    sealed class PathRow
    {
        [Microsoft.ML.Data.ColumnName("path")]
        public string Path { get; set; } = "";
    }

    [Test]
    public void ScoreFolder_BadFiles_AreReportedAndTheBatchContinues()
    {
        string folder = WriteDigits(30);
        string bad = Path.Combine(folder, "bad");
        Directory.CreateDirectory(bad);
        byte[] good = Digits.Png(0);
        File.WriteAllBytes(Path.Combine(bad, "empty.png"), []);
        File.WriteAllText(Path.Combine(bad, "text.png"), "this is not an image");
        File.WriteAllBytes(Path.Combine(bad, "truncated.png"), good[..(good.Length * 2 / 3)]);
        File.CreateSymbolicLink(Path.Combine(bad, "dangling.PNG"), Path.Combine(dir, "missing.png"));
        File.WriteAllText(Path.Combine(bad, "notes.txt"), "ignored");
        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { BatchSize = 7 });

        var (images, ignored) = ImageClassifier.ListFolder(folder, recursive: true);
        var results = classifier.ScoreFiles(folder, images).ToList();

        Assert.That(ignored, Is.EqualTo(1));
        Assert.That(results, Has.Count.EqualTo(34));
        Assert.That(results.Count(r => r.Succeeded), Is.EqualTo(30));
        var errors = results.Where(r => !r.Succeeded).ToDictionary(r => r.Path, r => r.Error);
        Assert.That(errors["bad/empty.png"], Does.Contain("empty"));
        Assert.That(errors["bad/text.png"], Does.Contain("not a readable image"));
        Assert.That(errors["bad/truncated.png"], Does.Contain("truncated"));
        Assert.That(errors["bad/dangling.PNG"], Does.Contain("does not exist"));
    }

    [Test]
    public void ScoreFiles_UnreadableFiles_AreReportedAndTheBatchContinues()
    {
        string folder = WriteDigits(5);
        // A directory where a file is expected cannot be read by anyone, root included.
        string directory = Path.Combine(dir, "folder.png");
        Directory.CreateDirectory(directory);
        var files = ImageClassifier.ListFolder(folder, recursive: true).Images.Append(directory).ToList();
        string? locked = null;
        if (!OperatingSystem.IsWindows() && !Environment.IsPrivilegedProcess)
        {
            locked = Path.Combine(dir, "locked.png");
            File.WriteAllBytes(locked, Digits.Png(0));
            File.SetUnixFileMode(locked, UnixFileMode.None);
            files.Add(locked);
        }
        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { BatchSize = 3 });

        var results = classifier.ScoreFiles(dir, files).ToList();

        Assert.That(results.Count(r => r.Succeeded), Is.EqualTo(5));
        Assert.That(results.Single(r => r.Path == "folder.png").Error, Does.Contain("cannot be read"));
        if (locked is not null) { Assert.That(results.Single(r => r.Path == "locked.png").Error, Does.Contain("cannot be read")); }
    }

    [Test]
    public void ScoreImages_InMemoryBatch_KeepsOrderAndReportsTheBadImage()
    {
        var test = Digits.Mnist.Test;
        var images = Enumerable.Range(0, 9).Select(i => ($"digit{i}", Digits.Png(i))).ToList();
        images.Insert(4, ("broken", [1, 2, 3]));
        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { BatchSize = 4 });

        var results = classifier.ScoreImages(images);

        Assert.That(results.Select(r => r.Path), Is.EqualTo(images.Select(i => i.Item1)));
        Assert.That(results[4].Succeeded, Is.False);
        Assert.That(results[4].Error, Does.Contain("not a readable image"));
        // The reference: ML.NET's stock chain over the same images written as files.
        string dir = TempDirectory.Create();
        try
        {
            var good = images.Where(i => i.Item1 != "broken").ToList();
            foreach (var (name, bytes) in good) { File.WriteAllBytes(Path.Combine(dir, name + ".png"), bytes); }
            var stock = StockChain.Scores(classifier, dir, Repository.File("onnx/mnist-cnn.onnx"), good.Select(i => i.Item1 + ".png"));
            foreach (var (result, expected) in results.Where(r => r.Succeeded).Zip(stock))
            {
                Assert.That(result.Prediction!.Label, Is.EqualTo(classifier.Labels[Array.IndexOf(expected, expected.Max())]), result.Path);
                Assert.That(result.Prediction.Confidence, Is.EqualTo(expected.Max()).Within(1e-6), result.Path);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        Assert.That(results.Where(r => r.Succeeded).Count(r => r.Prediction!.Label == test.ClassNames[test.Labels.Span[int.Parse(r.Path[5..], System.Globalization.CultureInfo.InvariantCulture)]]), Is.GreaterThanOrEqualTo(8));
    }

    [Test]
    public void Predict_ColourAndOddSizedImage_IsConvertedAndResized()
    {
        var test = Digits.Mnist.Test;
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        // The first test digit (a 7) in colour at 56x40: a yellow stroke on dark blue, which only reads as a 7 once
        // the colours are converted to gray (yellow is bright, dark blue is dark) and the image is resized.
        using var bitmap = new SkiaSharp.SKBitmap(56, 40);
        for (int y = 0; y < 40; y++)
        {
            for (int x = 0; x < 56; x++)
            {
                float v = test.Image(0)[(y * 28 / 40 * 28) + (x * 28 / 56)] / 255f;
                bitmap.SetPixel(x, y, new SkiaSharp.SKColor((byte)(255 * v), (byte)(220 * v), (byte)(70 * (1 - v))));
            }
        }
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        byte[] jpeg = image.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 95).ToArray();

        var prediction = classifier.Predict(jpeg);

        Assert.That(prediction.Label, Is.EqualTo("7"));
    }

    [TestCase(ColorMode.Rgb, 0, 1, 2)]
    [TestCase(ColorMode.Bgr, 2, 1, 0)]
    public void ScoreImages_ThreeChannelModel_FeedsTheChannelsInTheConfiguredOrder(ColorMode mode, int first, int second, int third)
    {
        // A model whose probabilities are the softmax of its three input channels' means, so the expected output
        // follows from the image's colour alone: a 6x4 PNG of one colour (R 200, G 100, B 20).
        string model = Path.Combine(dir, "means.onnx");
        File.WriteAllBytes(model, OnnxModels.ChannelMeans(3, 4, 6));
        byte[] rgb = [200, 100, 20];
        using var bitmap = new SkiaSharp.SKBitmap(6, 4);
        bitmap.Erase(new SkiaSharp.SKColor(rgb[0], rgb[1], rgb[2]));
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        byte[] png = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray();
        using var classifier = ImageClassifier.Load(model, new ImageClassifierOptions { ColorMode = mode, IncludeProbabilities = true });

        var result = classifier.ScoreImages([("flat", png)]).Single();

        float[] expected = OnnxModels.Softmax([rgb[first] / 255.0, rgb[second] / 255.0, rgb[third] / 255.0]);
        Assert.That(classifier.Channels, Is.EqualTo(3));
        Assert.That(result.Prediction!.Probabilities, Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void Predict_EightThreadsAtOnce_GiveTheSequentialResults()
    {
        var test = Digits.Mnist.Test;
        var pngs = Enumerable.Range(0, 64).Select(i => Digits.Png(i)).ToList();
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        var sequential = pngs.Select(p => classifier.Predict(p).Confidence).ToList();

        var parallel = new float[pngs.Count];
        Parallel.For(0, pngs.Count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = classifier.Predict(pngs[i]).Confidence);

        Assert.That(parallel, Is.EqualTo(sequential));
    }

    string ForeignModel(Action<Onnx.ModelProto>? change = null)
    {
        string path = Path.Combine(dir, "foreign.onnx");
        File.WriteAllBytes(path, OnnxModels.Edit(File.ReadAllBytes(Repository.File("onnx/mnist-cnn.onnx")), change));
        return path;
    }

    [Test]
    public void Load_ForeignModelWithoutMetadata_TakesShapeFromTheModelAndDefaultsLabels()
    {
        string folder = WriteDigits(20);
        using var builtIn = ImageClassifier.LoadBuiltInMnist();
        using var foreign = ImageClassifier.Load(ForeignModel());

        Assert.That(foreign.Metadata, Is.Null);
        Assert.That(foreign.Labels, Is.EqualTo(builtIn.Labels));
        Assert.That(foreign.Preprocessing, Is.EqualTo(builtIn.Preprocessing));
        Assert.That(foreign.ScoreFolder(folder, true).Select(r => r.Prediction!.Label), Is.EqualTo(builtIn.ScoreFolder(folder, true).Select(r => r.Prediction!.Label)));
    }

    [Test]
    public void Load_ForeignModelWithRgbColour_ThrowsNamingTheChannelMismatch()
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageClassifier.Load(ForeignModel(), new ImageClassifierOptions { ColorMode = ColorMode.Rgb }));

        Assert.That(e!.Message, Does.Contain("takes 1 channel(s) but colour mode rgb gives 3"));
    }

    [Test]
    public void Load_TooFewLabels_ThrowsNamingBothCounts()
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageClassifier.Load(ForeignModel(), new ImageClassifierOptions { Labels = ["a", "b"] }));

        Assert.That(e!.Message, Does.Contain("outputs 10 classes but 2 labels were given"));
    }

    [Test]
    public void Load_WrongSize_ThrowsNamingBothSizes()
    {
        var e = Assert.Throws<InvalidDataException>(() => ImageClassifier.Load(ForeignModel(), new ImageClassifierOptions { Width = 32, Height = 32 }));

        Assert.That(e!.Message, Does.Contain("takes 28x28 images but the preprocessing size is 32x32"));
    }

    [Test]
    public void Load_RandomBytes_ThrowsNotAValidModel()
    {
        string path = Path.Combine(dir, "random.onnx");
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 500).Select(i => (byte)(i * 37))]);

        var e = Assert.Throws<InvalidDataException>(() => ImageClassifier.Load(path));

        Assert.That(e!.Message, Does.Contain(path).And.Contain("not a valid ONNX model"));
    }

}
