using MlPipeline.Data;
using MlPipeline.Scoring;

namespace MlPipeline.Datasets.Tests.Data;

// ImageFolderDataTests: what Load refuses or warns about before and after decoding (classes, shared files, sizes, formats).
public sealed partial class ImageFolderDataTests
{
    [Test]
    public void Load_ClassWhoseEveryFileIsCorrupt_IsLeftOutOfTheLabelsWithAWarningNamingItsFolder()
    {
        for (int i = 0; i < 4; i++) { Image($"set/a/{i}.png", 8, 8, i); Image($"set/b/{i}.png", 8, 8, 10 + i); }
        Directory.CreateDirectory(Path.Combine(dir, "set", "c"));
        File.WriteAllText(Path.Combine(dir, "set", "c", "0.png"), "not an image");
        File.WriteAllBytes(Path.Combine(dir, "set", "c", "1.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);

        var loaded = ImageFolderData.Load(Path.Combine(dir, "set"), new ImageFolderOptions { ValidationSplit = 0.5 });

        Assert.That(loaded.Data.Train.ClassNames, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(loaded.Data.Test.ClassNames, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(loaded.Failed, Has.Count.EqualTo(2));
        string warning = loaded.Warnings.Single(w => w.Contains("'c'", StringComparison.Ordinal));
        Assert.That(warning, Does.Contain($"class folder '{Path.Combine(dir, "set", "c")}'").And.Contain("none of its 2 image file(s) could be decoded").And.Contain("left out of the labels"));
        Assert.That(loaded.Warnings, Has.None.Contains("0 image(s)"));
        // Labels are renumbered over the classes left: images of a and b keep their own class.
        var labels = loaded.Data.Train.Labels.ToArray().Concat(loaded.Data.Test.Labels.ToArray()).ToArray();
        Assert.That(labels.Count(l => l == 0), Is.EqualTo(4));
        Assert.That(labels.Count(l => l == 1), Is.EqualTo(4));
    }

    [Test]
    public void Load_TwoClassesOneWhollyCorrupt_IsAnErrorNamingTheClassLeft()
    {
        for (int i = 0; i < 4; i++) { Image($"set/a/{i}.png", 8, 8, i); }
        Directory.CreateDirectory(Path.Combine(dir, "set", "b"));
        File.WriteAllText(Path.Combine(dir, "set", "b", "0.png"), "not an image");

        var e = Assert.Throws<InvalidDataException>(() => ImageFolderData.Load(Path.Combine(dir, "set"), new ImageFolderOptions { ValidationSplit = 0.5 }));

        Assert.That(e!.Message, Does.Contain("1 class with a decodable image (only 'a')").And.Contain("at least two").And.Contain($"class folder '{Path.Combine(dir, "set", "b")}'"));
    }

    [Test]
    public void Load_CsvWithAFileClassHeader_ReadsTheHeaderAsNoImage()
    {
        for (int i = 0; i < 4; i++) { Image($"set/{i}.png", 8, 8, i); }
        string csv = Path.Combine(dir, "set", "labels.csv");
        File.WriteAllText(csv, "file,class\n0.png,a\n1.png,a\n2.png,b\n3.png,b\n");

        var loaded = ImageFolderData.Load(csv, new ImageFolderOptions { ValidationSplit = 0.5 });

        Assert.That(loaded.Data.Train.ClassNames, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(loaded.Failed, Is.Empty);
    }

    [Test]
    public void Load_TestSetIsTheTrainingFolder_IsRefusedNamingAFileAndTheCountBeforeDecoding()
    {
        for (int i = 0; i < 3; i++) { Image($"set/a/{i}.png", 8, 8, i); Image($"set/b/{i}.png", 8, 8, 10 + i); }
        string set = Path.Combine(dir, "set");

        var e = Assert.Throws<ArgumentException>(() => ImageFolderData.Load(set, new ImageFolderOptions { Test = Path.Combine(dir, "set", "..", "set") }));

        Assert.That(e!.Message, Does.Contain("The test set").And.Contain($"the training set '{set}' share 6 file(s), for example '").And.Contain(Path.Combine("a", "0.png")));
    }

    [Test]
    public void Load_ValidationFileLinkedToATrainingFile_IsRefusedNamingBoth()
    {
        if (OperatingSystem.IsWindows()) { Assert.Ignore("Device and inode are a Unix matter."); }
        for (int i = 0; i < 3; i++) { Image($"set/a/{i}.png", 8, 8, i); Image($"set/b/{i}.png", 8, 8, 10 + i); }
        Image("val/a/own.png", 8, 8, 20);
        Image("val/b/own.png", 8, 8, 21);
        string target = Path.Combine(dir, "set", "b", "2.png"), link = Path.Combine(dir, "val", "b", "linked.png");
        File.CreateSymbolicLink(link, target);

        var e = Assert.Throws<ArgumentException>(() => ImageFolderData.Load(Path.Combine(dir, "set"), new ImageFolderOptions { Validation = Path.Combine(dir, "val") }));

        Assert.That(e!.Message, Does.Contain("The validation set").And.Contain("share 1 file(s)").And.Contain($"'{link}' (the same file as '{target}')"));
    }

    [Test]
    public void Load_SizeWhoseBytesDoNotFitInOneSet_IsRefusedBeforeDecodingNamingTheBytesAndTheLimit()
    {
        for (int i = 0; i < 25; i++) { Image($"set/a/{i}.png", 8, 8, i); Image($"set/b/{i}.png", 8, 8, 100 + i); }
        var reports = new List<string>();

        // 50 images of 4096x4096 RGB: 2,516,582,400 bytes, more than one .NET array holds (and an int can count).
        var e = Assert.Throws<ArgumentException>(() => ImageFolderData.Load(Path.Combine(dir, "set"), new ImageFolderOptions { Width = 4096, Height = 4096, ColorMode = ColorMode.Rgb },
            new SyncReports(reports)));

        Assert.That(e!.Message, Does.Contain("has 50 images, which at size 4096x4096 with 3 channel(s) take 2,516,582,400 bytes"));
        Assert.That(e.Message, Does.Contain($"a set holds at most {Array.MaxLength.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} bytes").And.Contain("ImageFolderOptions.Width/Height"));
        Assert.That(reports, Is.Empty, "refused before any image is sampled or decoded");
    }

    [TestCase(4097, 8)]
    [TestCase(8, 0)]
    public void Load_SideOutsideTheLimit_IsRefusedNamingTheLimit(int width, int height)
    {
        var e = Assert.Throws<ArgumentException>(() => ImageFolderData.Load(dir, new ImageFolderOptions { Width = width, Height = height }));

        Assert.That(e!.Message, Does.Contain($"Size {width}x{height} is invalid; expected a width and height from 1 to {ImageFolderOptions.MaxSide}"));
    }

    [Test]
    public void Load_WidthWithoutHeight_NamesTheMissingSideAsNone()
    {
        var e = Assert.Throws<ArgumentException>(() => ImageFolderData.Load(dir, new ImageFolderOptions { Width = 5000 }));

        Assert.That(e!.Message, Does.Contain("Size 5000xnone is invalid"));
    }

    /// <summary>Progress that records each report at once, on the reporting thread.</summary>
    sealed class SyncReports(List<string> reports) : IProgress<DataProgress>
    {
        public void Report(DataProgress value) => reports.Add(value.Message ?? $"{value.Step}: {value.Done}/{value.Total}");
    }

    [Test]
    public void Load_TiffAndNetpbmFilesInSeveralSets_AreNamedOnceWithTheSupportedFormats()
    {
        for (int i = 0; i < 2; i++) { Image($"set/a/{i}.png", 8, 8, i); Image($"set/b/{i}.png", 8, 8, 10 + i); Image($"val/a/{i}.png", 8, 8, 20 + i); Image($"val/b/{i}.png", 8, 8, 30 + i); }
        File.WriteAllText(Path.Combine(dir, "set", "a", "scan.tif"), "II*");
        File.WriteAllText(Path.Combine(dir, "set", "b", "scan.TIFF"), "MM*");
        File.WriteAllText(Path.Combine(dir, "val", "b", "frame.ppm"), "P6");
        File.WriteAllText(Path.Combine(dir, "set", "b", "notes.txt"), "not an image format");

        var loaded = ImageFolderData.Load(Path.Combine(dir, "set"), new ImageFolderOptions { Validation = Path.Combine(dir, "val") });

        var said = loaded.Warnings.Where(w => w.Contains("not supported", StringComparison.Ordinal)).ToList();
        Assert.That(said, Has.Count.EqualTo(1), string.Join("\n", loaded.Warnings));
        Assert.That(said[0], Does.Contain("3 file(s) in an image format that is not supported (1 .ppm, 1 .tif, 1 .tiff)").And.Contain("png, jpg, jpeg, bmp, gif, webp"));
        Assert.That(loaded.Failed, Is.Empty);
    }

    [Test]
    public void Load_FolderOfTiffFilesOnly_SaysTheyAreNotSupported()
    {
        Directory.CreateDirectory(Path.Combine(dir, "set", "a"));
        File.WriteAllText(Path.Combine(dir, "set", "a", "scan.tiff"), "II*");

        var e = Assert.Throws<InvalidDataException>(() => ImageFolderData.Load(Path.Combine(dir, "set")));

        Assert.That(e!.Message, Does.Contain("holds no images").And.Contain("1 file(s) in an image format that is not supported (1 .tiff)"));
    }

    [Test]
    public void Load_OneFileUnderTwoNamesWithAValidationSplit_IsRefusedNamingBoth()
    {
        if (OperatingSystem.IsWindows()) { Assert.Ignore("Device and inode are a Unix matter."); }
        for (int i = 0; i < 3; i++) { Image($"set/a/{i}.png", 8, 8, i); Image($"set/b/{i}.png", 8, 8, 10 + i); }
        string target = Path.Combine(dir, "set", "a", "0.png"), link = Path.Combine(dir, "set", "a", "copy.png");
        File.CreateSymbolicLink(link, target);

        var e = Assert.Throws<ArgumentException>(() => ImageFolderData.Load(Path.Combine(dir, "set"), new ImageFolderOptions { ValidationSplit = 0.5 }));

        Assert.That(e!.Message, Does.Contain("holds 1 file(s) twice under other names").And.Contain($"'{link}' (the same file as '{target}')"));
    }
}
