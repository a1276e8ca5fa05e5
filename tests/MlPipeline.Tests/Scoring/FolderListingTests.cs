using System.Diagnostics;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Tests.Scoring;

/// <summary>Which files a folder walk scores: symbolic-link loops, links out of the folder, special files, odd names.</summary>
public sealed class FolderListingTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static readonly byte[] Png = GrayPng.Encode(new byte[784], 28, 28);

    string Write(string relative)
    {
        string path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Png);
        return path;
    }

    [Test]
    public void ListFolder_LinkIntoASiblingFolder_KeepsThatFolderUnderItsOwnPath_AndTheClassesTheirLabels()
    {
        // A link from one class folder into another, before it (zero/lnk -> one) and after it (a/lnk -> z) in order:
        // the linked folder's images stay under its own path whatever order the file system lists entries in.
        Write("input/one/1.png");
        Write("input/zero/0.png");
        Write("input/a/a.png");
        Write("input/z/z.png");
        string input = Path.Combine(dir, "input");
        Directory.CreateSymbolicLink(Path.Combine(input, "zero", "lnk"), Path.Combine(input, "one"));
        Directory.CreateSymbolicLink(Path.Combine(input, "a", "lnk"), Path.Combine(input, "z"));

        var listing = ImageClassifier.ListFolder(input, recursive: true);
        var labelled = MlPipeline.Evaluation.LabelledImages.FromFolder(input);

        Assert.That(listing.Images.Select(i => ImageFolder.Relative(input, i)), Is.EqualTo(new[] { "a/a.png", "one/1.png", "z/z.png", "zero/0.png" }));
        Assert.That(labelled.Items.Select(i => (Path.GetFileName(i.Path), i.Label)), Is.EquivalentTo(new[] { ("a.png", "a"), ("1.png", "one"), ("z.png", "z"), ("0.png", "zero") }));
    }

    [Test]
    public void ListFolder_TwoNamesThatAreNotUtf8AndReadAlike_AreListedOnce()
    {
        Assume.That(OperatingSystem.IsLinux(), Is.True, "Linux file names are bytes");
        Write("input/a.png");
        string input = Path.Combine(dir, "input");
        // Two names .NET reads alike (each invalid byte becomes U+FFFD), written as raw bytes by Python.
        using (var python = System.Diagnostics.Process.Start("python3", ["-c", "import sys,os; [open(os.path.join(os.fsencode(sys.argv[1]), n), 'wb').close() for n in (b'bad\\xff\\xfe.png', b'bad\\xfe\\xff.png')]", input])!)
        {
            python.WaitForExit();
            Assume.That(python.ExitCode, Is.Zero, "python3 wrote the files");
        }

        try
        {
            var listing = ImageClassifier.ListFolder(input, recursive: true);

            Assert.That(listing.Images.Select(i => ImageFolder.Relative(input, i)), Is.EqualTo(new[] { "a.png", "bad\uFFFD\uFFFD.png" }));
        }
        finally
        {
            // .NET cannot name these files to delete them either.
            using var rm = System.Diagnostics.Process.Start("rm", ["-rf", input])!;
            rm.WaitForExit();
        }
    }

    [Test]
    public void ListFolder_LinkToAnAncestor_IsCutAndNothingOutsideIsListed()
    {
        Write("outside.png");
        Write("input/a.png");
        Write("input/sub/b.png");
        string input = Path.Combine(dir, "input");
        Directory.CreateSymbolicLink(Path.Combine(input, "sub", "up"), input);          // the input folder itself
        Directory.CreateSymbolicLink(Path.Combine(input, "sub", "top"), dir);           // the input folder's parent

        var listing = ImageClassifier.ListFolder(input, recursive: true);

        Assert.That(listing.Images.Select(i => ImageFolder.Relative(input, i)), Is.EqualTo(new[] { "a.png", "sub/b.png" }));
        Assert.That(listing.LoopsCut, Is.EqualTo(2));
    }

    [Test]
    public void ListFolder_LinkToAFolderOutside_IsFollowedOnce()
    {
        Write("elsewhere/x.png");
        Write("input/a.png");
        string input = Path.Combine(dir, "input");
        Directory.CreateSymbolicLink(Path.Combine(input, "linked"), Path.Combine(dir, "elsewhere"));
        Directory.CreateSymbolicLink(Path.Combine(input, "again"), Path.Combine(dir, "elsewhere"));

        var listing = ImageClassifier.ListFolder(input, recursive: true);

        Assert.That(listing.Images.Select(i => ImageFolder.Relative(input, i)), Is.EqualTo(new[] { "a.png", "again/x.png" }).Or.EqualTo(new[] { "a.png", "linked/x.png" }));
    }

    [Test]
    public void ListFolder_FifoAndDeviceNamedLikeImages_AreSkippedAndCounted()
    {
        if (OperatingSystem.IsWindows()) { Assert.Ignore("FIFOs and device files are a Unix matter."); }
        Write("input/a.png");
        string input = Path.Combine(dir, "input");
        using (var mkfifo = Process.Start("mkfifo", [Path.Combine(input, "fifo.png")])) { mkfifo.WaitForExit(); }
        File.CreateSymbolicLink(Path.Combine(input, "null.jpg"), "/dev/null");
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        var listing = ImageClassifier.ListFolder(input);
        var results = classifier.ScoreFiles(input, [.. listing.Images, Path.Combine(input, "fifo.png")]).ToList();

        Assert.That(listing.Images.Select(Path.GetFileName), Is.EqualTo(new[] { "a.png" }));
        Assert.That(listing.Special, Is.EqualTo(2));
        Assert.That(results.Single(r => r.Path == "fifo.png").Error, Does.Contain("not a regular file"), "named explicitly, it is reported instead of blocking");
    }

    [Test]
    public void ListFolder_BackslashInAFileName_IsKeptWhereItIsNoSeparator()
    {
        if (Path.DirectorySeparatorChar == '\\') { Assert.Ignore("On Windows a backslash is a separator."); }
        Write("input/back\\slash.png");
        string input = Path.Combine(dir, "input");
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        var result = classifier.ScoreFolder(input).Single();

        Assert.That(result.Path, Is.EqualTo("back\\slash.png"));
        Assert.That(File.Exists(Path.Combine(input, result.Path)), Is.True, "the reported path names the file");
    }

    [Test]
    public void ListFolder_PathIsAFile_SaysWhatItIs()
    {
        string file = Write("a.png");

        var e = Assert.Throws<IOException>(() => ImageClassifier.ListFolder(file));

        Assert.That(e!.Message, Does.Contain("is a file; expected a folder"));
    }
}
