using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using MlPipeline.Training.Data;

namespace MlPipeline.Training.Tests.Scoring;

/// <summary>The scoring side against real MNIST digits rendered to PNG, the shipped model and a foreign copy of it.</summary>
public sealed class ImageClassifierTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TestData.TempDirectory();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static byte[] Png(ImageSet set, int index) => GrayPng.Encode(set.Image(index), set.Width, set.Height);

    string WriteDigits(int count)
    {
        string folder = Path.Combine(dir, "digits");
        TestData.Mnist.Test.WritePngFolder(folder, count);
        return folder;
    }

    [Test]
    public void Preprocess_PngOfAnMnistDigit_EqualsTheTrainingTensor()
    {
        var test = TestData.Mnist.Test;
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        using var training = ClassifierTrainer.ToTensor(test.Take(20), classifier.Preprocessing);
        float[] expected = training.data<float>().ToArray();

        for (int i = 0; i < 20; i++)
        {
            float[] served = classifier.Preprocess(Png(test, i));

            Assert.That(served, Is.EqualTo(expected.AsSpan(i * 784, 784).ToArray()), $"digit {i}");
        }
    }

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
        File.WriteAllBytes(model, File.ReadAllBytes(TestData.RepositoryFile("onnx/mnist-cnn.onnx")));

        var ours = classifier.ScoreFiles(folder, files).Select(r => r.Prediction!.Probabilities!.ToArray()).ToList();
        var (ml, pipeline, output) = classifier.StockPipeline(folder, model);
        var rows = ml.Data.LoadFromEnumerable(files.Select(f => new PathRow { Path = Path.GetRelativePath(folder, f) }));
        var transformed = pipeline.Fit(rows).Transform(rows);
        var stock = transformed.GetColumn<float[]>(output).ToList();

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
        byte[] good = Png(TestData.Mnist.Test, 0);
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
            File.WriteAllBytes(locked, Png(TestData.Mnist.Test, 0));
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
        var test = TestData.Mnist.Test;
        var images = Enumerable.Range(0, 9).Select(i => ($"digit{i}", Png(test, i))).ToList();
        images.Insert(4, ("broken", [1, 2, 3]));
        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { BatchSize = 4 });

        var results = classifier.ScoreImages(images);

        Assert.That(results.Select(r => r.Path), Is.EqualTo(images.Select(i => i.Item1)));
        Assert.That(results[4].Succeeded, Is.False);
        Assert.That(results[4].Error, Does.Contain("not a readable image"));
        foreach (var (result, (name, bytes)) in results.Zip(images).Where(p => p.First.Succeeded))
        {
            var single = classifier.Predict(bytes);
            Assert.That(result.Prediction!.Label, Is.EqualTo(single.Label), name);
            Assert.That(result.Prediction.Confidence, Is.EqualTo(single.Confidence).Within(1e-6), name);
        }
        Assert.That(results.Where(r => r.Succeeded).Count(r => r.Prediction!.Label == test.ClassNames[test.Labels.Span[int.Parse(r.Path[5..], System.Globalization.CultureInfo.InvariantCulture)]]), Is.GreaterThanOrEqualTo(8));
    }

    [Test]
    public void Predict_ColourAndOddSizedImage_IsConvertedAndResized()
    {
        var test = TestData.Mnist.Test;
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        // The first test digit (a 7) drawn white-on-black in red-ish colour at 56x40.
        using var bitmap = new SkiaSharp.SKBitmap(56, 40);
        for (int y = 0; y < 40; y++)
        {
            for (int x = 0; x < 56; x++)
            {
                byte v = test.Image(0)[(y * 28 / 40 * 28) + (x * 28 / 56)];
                bitmap.SetPixel(x, y, new SkiaSharp.SKColor(v, v, v));
            }
        }
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        byte[] jpeg = image.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 95).ToArray();

        var prediction = classifier.Predict(jpeg);

        Assert.That(prediction.Label, Is.EqualTo("7"));
    }

    [Test]
    public void Predict_EightThreadsAtOnce_GiveTheSequentialResults()
    {
        var test = TestData.Mnist.Test;
        var pngs = Enumerable.Range(0, 64).Select(i => Png(test, i)).ToList();
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        var sequential = pngs.Select(p => classifier.Predict(p).Confidence).ToList();

        var parallel = new float[pngs.Count];
        Parallel.For(0, pngs.Count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = classifier.Predict(pngs[i]).Confidence);

        Assert.That(parallel, Is.EqualTo(sequential));
    }

    string ForeignModel(Action<Onnx.ModelProto>? change = null)
    {
        var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestData.RepositoryFile("onnx/mnist-cnn.onnx")));
        proto.MetadataProps.Clear();
        change?.Invoke(proto);
        string path = Path.Combine(dir, "foreign.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
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
