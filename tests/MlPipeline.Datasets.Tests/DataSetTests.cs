using SkiaSharp;

namespace MlPipeline.Datasets.Tests;

/// <summary>The data sets besides MNIST: Fashion-MNIST from Debian's package, the emoji categories from npm.</summary>
public sealed class DataSetTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static void RequireFashionMnistPackage()
    {
        // .ci/run installs the Debian package; elsewhere a missing package is said, not failed.
        if (!Directory.Exists(IdxDataSet.FashionMnist.SystemFolder) && Environment.GetEnvironmentVariable("CI") is null)
        {
            Assert.Ignore($"Fashion-MNIST needs the Debian package: apt-get install {IdxDataSet.FashionMnist.AptPackage}");
        }
    }

    [Test]
    public void FashionMnist_FromTheDebianPackage_IsVerifiedAndLoadsWithClassNames()
    {
        RequireFashionMnistPackage();

        string folder = IdxDataSet.FashionMnist.Ensure(new DataSetFetchOptions { Directory = Path.Combine(dir, "fashion") });
        var data = IdxDataSet.FashionMnist.Load(folder);

        Assert.That(data.Train.Count, Is.EqualTo(60_000));
        Assert.That(data.Test.Count, Is.EqualTo(10_000));
        Assert.That(data.Test.ClassNames, Is.EqualTo(new[] { "T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" }));
        // Fashion-MNIST is balanced: 1,000 test images per class.
        Assert.That(data.Test.Labels.ToArray().GroupBy(l => l).Select(g => g.Count()), Has.All.EqualTo(1000));
        foreach (var (name, md5) in IdxDataSet.FashionMnist.ExpectedMd5) { Assert.That(Checksums.Md5Sum(Path.Combine(folder, name)), Is.EqualTo(md5), name); }
    }

    [Test]
    public void FashionMnist_WrittenAsPngFolders_HasReadableClassFolders()
    {
        RequireFashionMnistPackage();
        var test = IdxDataSet.FashionMnist.Load(IdxDataSet.FashionMnist.Ensure()).Test;

        int written = test.WritePngFolder(Path.Combine(dir, "png"), 200);

        var folders = Directory.GetDirectories(Path.Combine(dir, "png")).Select(Path.GetFileName).ToList();
        Assert.That(written, Is.EqualTo(200));
        Assert.That(folders, Is.EquivalentTo(IdxDataSet.FashionMnist.ClassNames));
        Assert.That(Directory.GetFiles(Path.Combine(dir, "png"), "*.png", SearchOption.AllDirectories), Has.Length.EqualTo(200));
    }

    [Test]
    public void MnistAndFashionMnist_DifferInEveryFile()
    {
        Assert.That(IdxDataSet.Mnist.ExpectedMd5.Keys, Is.EqualTo(IdxDataSet.FashionMnist.ExpectedMd5.Keys));
        Assert.That(IdxDataSet.Mnist.ExpectedMd5.Values, Has.None.AnyOf(IdxDataSet.FashionMnist.ExpectedMd5.Values.ToArray()));
    }

    [Test]
    public void FashionMnist_FromMnistFiles_IsRefusedByChecksum()
    {
        var e = Assert.Throws<InvalidDataException>(() => IdxDataSet.FashionMnist.Ensure(new DataSetFetchOptions
        {
            Directory = Path.Combine(dir, "fashion"),
            From = Digits.MnistDirectory,
            UseSystemFolder = false,
        }));

        Assert.That(e!.Message, Does.Contain("Fashion-MNIST is not available").And.Contain("expected f4a8712d7a061bf5bd6d2ca38dc4d50a"));
    }

    [Test]
    public void Ensure_LockFileIsAFolder_FailsNamingItInsteadOfWaitingForever()
    {
        string target = Path.Combine(dir, "fashion");
        string folder = Directory.CreateDirectory(Path.Combine(target, ".fetch.lock")).FullName;

        var e = Assert.Throws<IOException>(() => IdxDataSet.FashionMnist.Ensure(new DataSetFetchOptions { Directory = target, UseSystemFolder = false, UseNpm = false }));

        Assert.That(e!.Message, Is.EqualTo($"The data set's lock file '{folder}' is a folder; expected a file."));
    }

    [Test]
    [Category("Slow")]
    public void Emoji_FromNpm_WritesNineCategoryFoldersOf64x64ColourImages()
    {
        var counts = EmojiCategories.Write(Path.Combine(dir, "emoji"));

        Assert.That(counts.Keys, Is.EquivalentTo(new[] { "Activities", "Animals & Nature", "Flags", "Food & Drink", "Objects", "People & Body", "Smileys & Emotion", "Symbols", "Travel & Places" }));
        Assert.That(counts.Values.Sum(), Is.EqualTo(1906));
        Assert.That(counts["People & Body"], Is.GreaterThan(4 * counts["Activities"]), "unbalanced, as real collections are");
        foreach (string file in Directory.GetFiles(Path.Combine(dir, "emoji"), "*.png", SearchOption.AllDirectories).Take(50))
        {
            using var bitmap = SKBitmap.Decode(file);
            Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((64, 64)), file);
        }
    }

    [Test]
    public void Emoji_FromATarballThatIsNotThePackage_IsRefusedByChecksum()
    {
        string fake = Path.Combine(dir, "fake.tgz");
        File.WriteAllBytes(fake, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

        var e = Assert.Throws<InvalidDataException>(() => EmojiCategories.Write(Path.Combine(dir, "out"), fake));

        Assert.That(e!.Message, Does.Contain("fake.tgz' has checksum").And.Contain(EmojiCategories.Integrity));
        Assert.That(Directory.Exists(Path.Combine(dir, "out")), Is.False);
    }
}
