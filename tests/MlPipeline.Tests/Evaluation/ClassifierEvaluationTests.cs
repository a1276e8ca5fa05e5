using System.Buffers.Binary;
using System.Text.Json;
using MlPipeline.Evaluation;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Tests.Evaluation;

/// <summary>Evaluation of the shipped model on real MNIST digits rendered to PNG, the report files and the plots.</summary>
public sealed class ClassifierEvaluationTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string DigitFolder(int? count = null)
    {
        string folder = Path.Combine(dir, "digits");
        Digits.Mnist.Test.WritePngFolder(folder, count);
        return folder;
    }

    /// <summary>Width and height from a PNG's IHDR chunk, after checking the signature.</summary>
    static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.That(png.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        Assert.That(System.Text.Encoding.ASCII.GetString(png, 12, 4), Is.EqualTo("IHDR"));
        using var decoded = ImageDecoder.DecodeBitmap(png, long.MaxValue);
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    [Test]
    public void Evaluate_ShippedModelOnTheTestSetAsPngs_EqualsTheTrainingLoopsAccuracy()
    {
        var images = LabelledImages.FromFolder(DigitFolder());
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        var report = classifier.Evaluate(images);

        Assert.That(report.Metrics.Count, Is.EqualTo(10_000));
        Assert.That(report.Failed, Is.Empty);
        double training = classifier.Metadata!.TestAccuracy!.Value;
        // A PNG of a digit becomes exactly its training tensor and the exported logits stay within 1e-4 of
        // TorchSharp's (both tested elsewhere), so not a single one of the 10,000 predictions may differ: the
        // counts of correct images must be equal, as the README states.
        Assert.That((int)Math.Round(report.Metrics.MicroAccuracy * 10_000), Is.EqualTo((int)Math.Round(training * 10_000)));
        Assert.That(report.Misclassified, Has.Count.EqualTo(10_000 - (int)Math.Round(report.Metrics.MicroAccuracy * 10_000)));
        Assert.That(report.Misclassified.Select(m => m.Confidence), Is.Ordered.Descending);
        Assert.That(report.Misclassified.All(m => m.Actual != m.Predicted && m.Path.StartsWith(m.Actual + "/", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public void Evaluate_BadFile_IsReportedAndLeftOutOfTheMetrics()
    {
        string folder = DigitFolder(40);
        File.WriteAllBytes(Path.Combine(folder, "3", "broken.png"), [0x89, 0x50, 0x4E, 0x47]);
        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { BatchSize = 16 });

        var report = classifier.Evaluate(LabelledImages.FromFolder(folder));

        Assert.That(report.Metrics.Count, Is.EqualTo(40));
        Assert.That(report.Failed.Select(f => f.Path), Is.EqualTo(new[] { "3/broken.png" }));
        Assert.That(report.Metrics.PerClass.Sum(c => c.Support), Is.EqualTo(40));
    }

    [Test]
    public void Evaluate_LabelsTheModelDoesNotKnow_ThrowsListingThem()
    {
        string folder = DigitFolder(5);
        Directory.CreateDirectory(Path.Combine(folder, "cat"));
        Directory.CreateDirectory(Path.Combine(folder, "dog"));
        File.Copy(Directory.GetFiles(Path.Combine(folder, "7"))[0], Path.Combine(folder, "cat", "a.png"));
        File.Copy(Directory.GetFiles(Path.Combine(folder, "7"))[0], Path.Combine(folder, "dog", "b.png"));
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        var ex = Assert.Throws<InvalidDataException>(() => classifier.Evaluate(LabelledImages.FromFolder(folder)));

        Assert.That(ex!.Message, Does.Contain("'cat', 'dog'").And.Contain("0, 1, 2"));
    }

    [Test]
    public void FromCsv_PathsAndLabels_MatchTheFolderLayout()
    {
        string folder = DigitFolder(12);
        var fromFolder = LabelledImages.FromFolder(folder);
        string csv = Path.Combine(dir, "labels.csv");
        File.WriteAllText(csv, Csv.Format(fromFolder.Items.Select(i => (IReadOnlyList<string>)[Path.GetRelativePath(folder, i.Path), i.Label]).Prepend(["path", "label"])));

        var fromCsv = LabelledImages.FromCsv(csv, folder);
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        Assert.That(fromCsv.Items, Is.EqualTo(fromFolder.Items));
        Assert.That(classifier.Evaluate(fromCsv).Metrics.ConfusionMatrix, Is.EqualTo(classifier.Evaluate(fromFolder).Metrics.ConfusionMatrix));
    }

    [TestCase("path,label\na.png,1\na.png,2\n", "lists 'a.png' twice (lines 2 and 3)")]
    [TestCase("a.png\n", "line 1 has 1 field(s); expected 2")]
    [TestCase("a.png,1,extra\n", "line 1 has 3 field(s)")]
    [TestCase("a.png,\n", "line 1 has an empty label")]
    [TestCase("path,label\n", "lists no images")]
    [TestCase("\"a.png,1\n", "quoted field is not closed")]
    [TestCase("path,label\nb.png,1\n../x.png,2\n", "line 3 has the path '../x.png', which leads outside")]
    [TestCase("/etc/hostname,1\n", "line 1 has the path '/etc/hostname', which is absolute; expected the path of an image relative to the input folder '")]
    [TestCase("ok.png,1\nsub/../../../../etc/passwd,1\n", "line 2 has the path 'sub/../../../../etc/passwd', which leads outside")]
    public void FromCsv_BadFile_ThrowsNamingTheLine(string content, string expected)
    {
        string csv = Path.Combine(dir, "labels.csv");
        File.WriteAllText(csv, content);

        var ex = Assert.Throws<InvalidDataException>(() => LabelledImages.FromCsv(csv));

        Assert.That(ex!.Message, Does.Contain(expected).And.Contain(csv));
    }

    [TestCase("path,label")]
    [TestCase("file,class")]
    [TestCase(" Filename , Category ")]
    [TestCase("image,target")]
    [TestCase("filepath,labels")]
    [TestCase("name,digit")]
    public void FromCsv_HeaderOfColumnWords_IsNotAnImage(string header)
    {
        string csv = Path.Combine(dir, "labels.csv");
        File.WriteAllText(csv, $"{header}\na.png,cat\nb.png,dog\n");

        var images = LabelledImages.FromCsv(csv);

        Assert.That(images.Items.Select(i => (Path.GetFileName(i.Path), i.Label)), Is.EqualTo(new[] { ("a.png", "cat"), ("b.png", "dog") }));
    }

    [Test]
    public void FromCsv_FirstRowOfWordsThatNamesAnExistingFile_IsAnImage()
    {
        string csv = Path.Combine(dir, "labels.csv");
        File.WriteAllText(Path.Combine(dir, "image"), "");
        File.WriteAllText(csv, "image,class\nb.png,dog\n");

        var images = LabelledImages.FromCsv(csv);

        Assert.That(images.Items.Select(i => i.Label), Is.EqualTo(new[] { "class", "dog" }));
    }

    [Test]
    public void FromCsv_QuotedPathsWithNewlinesAndLeadingSpaces_AreReadExactly()
    {
        // RFC 4180 as score writes it: a quoted field may hold a line break, quotes and leading spaces.
        string csv = Path.Combine(dir, "labels.csv");
        File.WriteAllText(csv, "path,label\r\n\"two\nlines.png\",3\r\n\"  spaced.png\",4\r\n\"say \"\"hi\"\".png\",5\r\nplain.png, 6\r\n");

        var images = LabelledImages.FromCsv(csv);

        Assert.That(images.Items.Select(i => Path.GetFileName(i.Path)), Is.EqualTo(new[] { "two\nlines.png", "  spaced.png", "say \"hi\".png", "plain.png" }));
        Assert.That(images.Items.Select(i => i.Label), Is.EqualTo(new[] { "3", "4", "5", "6" }));
    }

    [Test]
    public void FromCsv_MissingInputFolder_NamesTheFolderNotEachFile()
    {
        string csv = Path.Combine(dir, "labels.csv");
        File.WriteAllText(csv, string.Concat(Enumerable.Range(0, 200).Select(i => $"{i}.png,1\n")));

        var ex = Assert.Throws<DirectoryNotFoundException>(() => LabelledImages.FromCsv(csv, Path.Combine(dir, "missing")));

        Assert.That(ex!.Message, Does.Contain("Input folder").And.Contain("missing' does not exist"));
    }

    [Test]
    public void FromFolder_ImagesOutsideClassFolders_ThrowsNamingThem()
    {
        string folder = DigitFolder(3);
        File.Copy(Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories)[0], Path.Combine(folder, "loose.png"));

        var ex = Assert.Throws<InvalidDataException>(() => LabelledImages.FromFolder(folder));

        Assert.That(ex!.Message, Does.Contain("loose.png").And.Contain("<label>"));
    }

    [Test]
    public void WriteTo_WritesMetricsCsvFilesAndPlotsOfTheExpectedSize()
    {
        string folder = DigitFolder(300);
        File.WriteAllText(Path.Combine(folder, "5", "bad.png"), "text");
        string history = Path.Combine(dir, "history.json");
        File.WriteAllText(history, """[{"epoch":1,"trainLoss":0.3,"trainAccuracy":0.9,"testLoss":0.2,"testAccuracy":0.95,"seconds":1},{"epoch":2,"trainLoss":0.1,"trainAccuracy":0.97,"testLoss":0.08,"testAccuracy":0.98,"seconds":1}]""");
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        var report = classifier.Evaluate(LabelledImages.FromFolder(folder));
        string output = Path.Combine(dir, "report");

        var written = report.WriteTo(output, history);

        Assert.That(written.Select(Path.GetFileName), Is.EquivalentTo(new[] { "metrics.json", "confusion.csv", "misclassified.csv", "errors.csv", "confusion.png", "mistakes.png", "training-curves.png", ".mlpipeline-report" }));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        Assert.That(metrics.RootElement.GetProperty("microAccuracy").GetDouble(), Is.EqualTo(report.Metrics.MicroAccuracy));
        Assert.That(File.ReadAllLines(Path.Combine(output, "misclassified.csv")), Has.Length.EqualTo(report.Misclassified.Count + 1));
        Assert.That(File.ReadAllText(Path.Combine(output, "errors.csv")), Does.Contain("5/bad.png"));
        Assert.That(PngSize(File.ReadAllBytes(Path.Combine(output, "confusion.png"))), Is.EqualTo((800, 720)));
        Assert.That(PngSize(File.ReadAllBytes(Path.Combine(output, "training-curves.png"))), Is.EqualTo((900, 500)));
        int shown = Math.Min(24, report.Misclassified.Count);
        Assert.That(PngSize(File.ReadAllBytes(Path.Combine(output, "mistakes.png"))), Is.EqualTo((6 * 136, 36 + Math.Max(1, (shown + 5) / 6) * 162)));
        Assert.That(Directory.GetFiles(output, "*.tmp"), Is.Empty);
    }

    [Test]
    public void Plots_RequestedSizes_AreValidPngsOfThatSize()
    {
        var metrics = ClassificationMetrics.Compute(["a", "b"], [0, 1, 1], [[0.9f, 0.1f], [0.3f, 0.7f], [0.6f, 0.4f]]);

        Assert.That(PngSize(EvaluationPlots.ConfusionMatrix(metrics, 320, 240)), Is.EqualTo((320, 240)));
    }

    [Test]
    public void Images_ColourSet_DrawsEachImageInItsCellWithItsColour()
    {
        // Two 4x4 images: one pure red, one pure blue (planar R, G, B).
        byte[] pixels = [.. Enumerable.Repeat((byte)255, 16), .. new byte[32], .. new byte[32], .. Enumerable.Repeat((byte)255, 16)];
        var images = new MlPipeline.Data.ImageSet(pixels, [0, 1], 3, 4, 4, ["red", "blue"]);

        byte[] png = EvaluationPlots.Images(images, "two", columns: 2, cellSize: 64);

        Assert.That(PngSize(png), Is.EqualTo((2 * 80, 36 + 64 + 28)));
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.That(bitmap.GetPixel(8 + 32, 36 + 32), Is.EqualTo(new SkiaSharp.SKColor(255, 0, 0)));
        Assert.That(bitmap.GetPixel(80 + 8 + 32, 36 + 32), Is.EqualTo(new SkiaSharp.SKColor(0, 0, 255)));
    }

    [Test]
    public void TrainingCurves_WithALearningRateScheduleAndABestEpoch_DrawsMore()
    {
        string plain = Path.Combine(dir, "plain.json"), scheduled = Path.Combine(dir, "scheduled.json");
        string Row(int epoch, double rate, bool best) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{{\"epoch\":{epoch},\"trainLoss\":{1.0 / epoch},\"trainAccuracy\":0.{epoch},\"testLoss\":{1.2 / epoch},\"testAccuracy\":0.{epoch},\"learningRate\":{rate},\"best\":{(best ? "true" : "false")}}}");
        File.WriteAllText(plain, "[" + string.Join(",", Enumerable.Range(1, 4).Select(e => Row(e, 0.001, false))) + "]");
        File.WriteAllText(scheduled, "[" + string.Join(",", Enumerable.Range(1, 4).Select(e => Row(e, 0.001 / e, e == 3))) + "]");

        using var a = SkiaSharp.SKBitmap.Decode(EvaluationPlots.TrainingCurves(plain));
        using var b = SkiaSharp.SKBitmap.Decode(EvaluationPlots.TrainingCurves(scheduled));

        // The kept epoch is a sea-green line (46, 139, 87) that the plain history does not have.
        static int SeaGreen(SkiaSharp.SKBitmap bitmap) => bitmap.Pixels.Count(c => Math.Abs(c.Red - 46) < 30 && Math.Abs(c.Green - 139) < 30 && Math.Abs(c.Blue - 87) < 30);
        Assert.That(SeaGreen(a), Is.LessThan(20));
        Assert.That(SeaGreen(b), Is.GreaterThan(100));
        Assert.That((a.Width, a.Height), Is.EqualTo((b.Width, b.Height)));
    }

    [Test]
    public void WriteTo_BadHistory_ThrowsAndWritesNothing()
    {
        string folder = DigitFolder(20);
        string history = Path.Combine(dir, "history.json");
        File.WriteAllText(history, "{ not json");
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        var report = classifier.Evaluate(LabelledImages.FromFolder(folder));
        string output = Path.Combine(dir, "report");

        var ex = Assert.Throws<InvalidDataException>(() => report.WriteTo(output, history));

        Assert.That(ex!.Message, Does.Contain(history));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void WriteTo_CleanRerunIntoTheSameFolder_RemovesThePreviousErrorsFile()
    {
        string folder = DigitFolder(20);
        string broken = Path.Combine(folder, "4", "broken.png");
        File.WriteAllText(broken, "not an image");
        string output = Path.Combine(dir, "report");
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        classifier.Evaluate(LabelledImages.FromFolder(folder)).WriteTo(output);
        Assert.That(File.Exists(Path.Combine(output, "errors.csv")), Is.True);
        File.Delete(broken);

        var written = classifier.Evaluate(LabelledImages.FromFolder(folder)).WriteTo(output);

        Assert.That(File.Exists(Path.Combine(output, "errors.csv")), Is.False, "no stale failures beside the new figures");
        Assert.That(written.Select(Path.GetFileName), Does.Not.Contain("errors.csv"));
    }
}
