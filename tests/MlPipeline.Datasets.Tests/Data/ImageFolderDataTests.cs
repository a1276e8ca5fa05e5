using MlPipeline.Data;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Datasets.Tests.Data;

/// <summary>Labelled image folders as training data: sizes, colour, bad files, splits, and no train/serve skew.</summary>
public sealed partial class ImageFolderDataTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>Writes a <paramref name="width"/>x<paramref name="height"/> image whose colour depends on <paramref name="seed"/>.</summary>
    string Image(string relative, int width, int height, int seed, SKEncodedImageFormat format = SKEncodedImageFormat.Png, bool gray = false)
    {
        string path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(width, height);
        var random = new Random(seed);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                byte r = (byte)random.Next(256);
                bitmap.SetPixel(x, y, gray ? new SKColor(r, r, r) : new SKColor(r, (byte)random.Next(256), (byte)(x * 255 / width)));
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        File.WriteAllBytes(path, image.Encode(format, 90).ToArray());
        return path;
    }

    [Test]
    public void Load_SeveralSizesAndFormats_GivesExactlyTheTensorScoringFeedsTheModel()
    {
        var files = new[]
        {
            Image("set/a/one.png", 40, 30, 1),
            Image("set/a/two.jpg", 17, 23, 2, SKEncodedImageFormat.Jpeg),
            Image("set/b/three.webp", 64, 64, 3, SKEncodedImageFormat.Webp),
            Image("set/b/nested/four.png", 9, 50, 4),
        };
        string model = Path.Combine(dir, "means.onnx");
        File.WriteAllBytes(model, OnnxModels.ChannelMeans(3, 24, 20));

        var loaded = ImageFolderData.Load(Path.Combine(dir, "set"), new ImageFolderOptions { Width = 20, Height = 24, ValidationSplit = 0.5 });

        // Scoring a file through ImageClassifier with the same size and colour and pixels as bytes (offset 0, scale 1)
        // must give the training bytes exactly.
        using var classifier = ImageClassifier.Load(model, new ImageClassifierOptions { ColorMode = ColorMode.Rgb, Offsets = [0], Scales = [1] });
        var all = new[] { loaded.Data.Train, loaded.Data.Test };
        Assert.That(loaded.Preprocessing, Is.EqualTo(new ImagePreprocessing(20, 24, ColorMode.Rgb, 0, 1)));
        Assert.That(all.Sum(s => s.Count), Is.EqualTo(4));
        var training = all.SelectMany(s => Enumerable.Range(0, s.Count).Select(i => s.Image(i).ToArray().Select(b => (float)b).ToArray())).ToList();
        foreach (string file in files)
        {
            float[] served = classifier.Preprocess(File.ReadAllBytes(file));
            Assert.That(training, Has.Some.EqualTo(served), file);
        }
    }

    [Test]
    public void Load_MixedSizesWithoutSize_NamesTwoSizesAndTheOption()
    {
        Image("set/a/one.png", 28, 28, 1);
        Image("set/b/two.png", 32, 28, 2);

        var e = Assert.Throws<InvalidDataException>(() => ImageFolderData.Load(Path.Combine(dir, "set")));

        Assert.That(e!.Message, Does.Contain("28x28").And.Contain("32x28").And.Contain("ImageFolderOptions.Width and Height"));
    }

    [Test]
    public void Load_GrayImages_AreReadAsGrayAndColourOnesAsRgb()
    {
        Image("gray/a/1.png", 8, 8, 1, gray: true);
        Image("gray/b/2.png", 8, 8, 2, gray: true);
        Image("colour/a/1.png", 8, 8, 1, gray: true);
        Image("colour/b/2.png", 8, 8, 2);

        Assert.That(ImageFolderData.Load(Path.Combine(dir, "gray")).Preprocessing.ColorMode, Is.EqualTo(ColorMode.Gray));
        Assert.That(ImageFolderData.Load(Path.Combine(dir, "colour")).Preprocessing.ColorMode, Is.EqualTo(ColorMode.Rgb));
    }

    [Test]
    public void Load_OneClass_IsAnErrorNamingIt()
    {
        Image("set/only/1.png", 8, 8, 1);
        Image("set/only/2.png", 8, 8, 2);

        var e = Assert.Throws<InvalidDataException>(() => ImageFolderData.Load(Path.Combine(dir, "set")));

        Assert.That(e!.Message, Does.Contain("1 class ('only')").And.Contain("at least two"));
    }

    [Test]
    public void Load_BadFilesAndAnEmptyClass_AreReportedAndLeftOut()
    {
        for (int i = 0; i < 6; i++) { Image($"set/a/{i}.png", 8, 8, i); Image($"set/b/{i}.png", 8, 8, 10 + i); }
        File.WriteAllText(Path.Combine(dir, "set", "a", "broken.png"), "not an image");
        File.WriteAllText(Path.Combine(dir, "set", "b", "notes.txt"), "ignored");
        Directory.CreateDirectory(Path.Combine(dir, "set", "empty"));

        var loaded = ImageFolderData.Load(Path.Combine(dir, "set"), new ImageFolderOptions { Width = 8, Height = 8 });

        Assert.That(loaded.Failed.Select(f => Path.GetFileName(f.Path)), Is.EqualTo(new[] { "broken.png" }));
        Assert.That(loaded.Failed[0].Error, Does.Contain("not a readable image"));
        Assert.That(loaded.Ignored, Is.EqualTo(1));
        Assert.That(loaded.Warnings, Has.Some.Contains("'empty' holds no images"));
        Assert.That(loaded.Data.Train.ClassNames, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(loaded.Data.Train.Count + loaded.Data.Test.Count, Is.EqualTo(12));
    }

    [Test]
    public void Load_CsvNamingAFifo_ReportsItInsteadOfBlocking()
    {
        if (OperatingSystem.IsWindows()) { Assert.Ignore("FIFOs are a Unix matter."); }
        for (int i = 0; i < 4; i++) { Image($"set/{i}.png", 8, 8, i); }
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(dir, "set", "fifo.png")])) { mkfifo.WaitForExit(); }
        string csv = Path.Combine(dir, "set", "labels.csv");
        File.WriteAllText(csv, "0.png,a\n1.png,a\n2.png,b\n3.png,b\nfifo.png,b\n");

        // No size or colour given: the header and colour sampling must not block on the FIFO either.
        var load = Task.Run(() => ImageFolderData.Load(csv, new ImageFolderOptions { ValidationSplit = 0.5 }));

        Assert.That(load.Wait(TimeSpan.FromMinutes(1)), Is.True, "reading must not block on the FIFO");
        Assert.That(load.Result.Failed.Single().Error, Does.Contain("not a regular file"));
        Assert.That(load.Result.Data.Train.Count + load.Result.Data.Test.Count, Is.EqualTo(4));
    }

    [Test]
    public void Split_IsStratifiedAndTheSameForTheSameSeed()
    {
        var labels = Enumerable.Repeat(0, 50).Concat(Enumerable.Repeat(1, 10)).Concat(Enumerable.Repeat(2, 1)).ToArray();
        var all = new ImageSet([.. Enumerable.Range(0, labels.Length).Select(i => (byte)i)], labels, 1, 1, 1, ["big", "small", "single"]);
        var warnings = new List<string>();

        var (train, validation) = ImageFolderData.Split(all, 0.2, 7, warnings);
        var (train2, validation2) = ImageFolderData.Split(all, 0.2, 7, []);
        var (_, other) = ImageFolderData.Split(all, 0.2, 8, []);

        int[] Count(ImageSet set) => [.. Enumerable.Range(0, 3).Select(c => set.Labels.ToArray().Count(l => l == c))];
        Assert.That(Count(validation), Is.EqualTo(new[] { 10, 2, 0 }), "20 % of each class, none of a class of one");
        Assert.That(Count(train), Is.EqualTo(new[] { 40, 8, 1 }));
        Assert.That(validation2.ToArray(), Is.EqualTo(validation.ToArray()));
        Assert.That(train2.ToArray(), Is.EqualTo(train.ToArray()));
        Assert.That(other.ToArray(), Is.Not.EqualTo(validation.ToArray()), "another seed, another split");
        Assert.That(validation.ToArray().Intersect(train.ToArray()), Is.Empty, "no image in both");
        Assert.That(warnings, Has.Some.Contains("'single' has 1 image(s)"));
    }

    [TestCase(0.999, 5, "too few for a 99.9 % validation share (which would hold out 5); 4 are held out and one is kept for training", 4)]
    [TestCase(0.001, 5, "too few for a 0.1 % validation share (which would hold out 0); one is held out for validation", 1)]
    [TestCase(0.999, 2, "too few for a 99.9 % validation share (which would hold out 2); one is held out for validation", 1)]
    [TestCase(0.5, 1, "too few for a 50 % validation share (which would hold out 1); it is used for training only", 0)]
    public void Split_ShareThatRoundsToAllOrNone_SaysTheShareAndWhatIsHeldOut(double share, int images, string expected, int held)
    {
        var all = new ImageSet([.. Enumerable.Range(0, images + 10).Select(i => (byte)i)], [.. Enumerable.Repeat(0, images), .. Enumerable.Repeat(1, 10)], 1, 1, 1, ["small", "big"]);
        var warnings = new List<string>();

        var (_, validation) = ImageFolderData.Split(all, share, 1, warnings);

        Assert.That(warnings, Has.Some.EqualTo($"class 'small' has {images} image(s), {expected}"));
        Assert.That(validation.Labels.ToArray().Count(l => l == 0), Is.EqualTo(held));
    }

    [TestCase(0.0)]
    [TestCase(1.0)]
    [TestCase(double.NaN)]
    public void Load_ValidationSplitOutsideZeroToOne_IsRefused(double split)
    {
        var e = Assert.Throws<ArgumentException>(() => ImageFolderData.Load(dir, new ImageFolderOptions { ValidationSplit = split }));

        Assert.That(e!.Message, Does.Contain("ValidationSplit must be above 0 and below 1"));
    }
}
