using System.Diagnostics;
using MlPipeline.Internals;

namespace MlPipeline.Tests.Internals;

/// <summary>File identity (device and inode) against stat(1), and what it makes the same file.</summary>
public sealed class FileSystemTests
{
    string dir = "";

    [SetUp]
    public void SetUp()
    {
        Assume.That(OperatingSystem.IsLinux() && File.Exists("/usr/bin/stat") && File.Exists("/bin/ln"), "GNU stat and ln");
        dir = TempDirectory.Create();
    }

    [TearDown]
    public void TearDown()
    {
        if (dir.Length > 0) { Directory.Delete(dir, recursive: true); }
    }

    static string Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in args) { start.ArgumentList.Add(arg); }
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"{program} {string.Join(" ", args)}");
        return output.Trim();
    }

    [Test]
    public void IdOf_FilesAndFolders_AreTheDeviceAndInodeStatReports()
    {
        string file = Path.Combine(dir, "a.txt");
        File.WriteAllText(file, "a");
        foreach (string path in new[] { file, dir, "/" })
        {
            string[] expected = Run("/usr/bin/stat", "-L", "-c", "%d %i", path).Split(' ');

            var id = FileSystem.IdOf(path);

            Assert.That(id, Is.EqualTo(new FileSystem.FileId(long.Parse(expected[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(expected[1], System.Globalization.CultureInfo.InvariantCulture))), path);
        }
        Assert.That(FileSystem.IdOf(Path.Combine(dir, "missing")), Is.Null);
    }

    [Test]
    public void SameFile_HardLinkSymbolicLinkAndDotDot_AreTheSameFileAndACopyIsNot()
    {
        string file = Path.Combine(dir, "a.png");
        File.WriteAllBytes(file, [1, 2, 3]);
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        Run("/bin/ln", file, Path.Combine(dir, "hard.png"));
        File.CreateSymbolicLink(Path.Combine(dir, "soft.png"), file);
        File.Copy(file, Path.Combine(dir, "copy.png"));

        Assert.That(FileSystem.SameFile(Path.Combine(dir, "hard.png"), file), Is.True, "hard link");
        Assert.That(FileSystem.SameFile(Path.Combine(dir, "soft.png"), file), Is.True, "symbolic link");
        Assert.That(FileSystem.SameFile(Path.Combine(dir, "sub", "..", "a.png"), file), Is.True, "..");
        Assert.That(FileSystem.SameFile(Path.Combine(dir, "copy.png"), file), Is.False, "a copy is another file");
        Assert.That(FileSystem.SameFile(Path.Combine(dir, "missing.png"), file), Is.False);
    }

    [Test]
    public void OpenReadAndReadAllText_Fifo_AreRefusedWithoutBlocking()
    {
        string fifo = Path.Combine(dir, "side.json");
        Run("/usr/bin/mkfifo", fifo);

        // A blocking open would never return; the check must come first.
        var read = Task.Run(() => Assert.Throws<IOException>(() => FileSystem.ReadAllText(fifo, "Manifest")));
        var open = Task.Run(() => Assert.Throws<IOException>(() => FileSystem.OpenRead(fifo, "Checkpoint")));

        Assert.That(Task.WaitAll([read, open], TimeSpan.FromSeconds(30)), Is.True, "returned instead of blocking in open()");
        Assert.That(read.Result!.Message, Does.Contain($"Manifest '{fifo}' is a special file (a FIFO, socket or device)"));
        Assert.That(open.Result!.Message, Does.Contain($"Checkpoint '{fifo}' is a special file"));
        Assert.That(() => FileSystem.RequireFileOrMissing(fifo, "The lock file"), Throws.TypeOf<IOException>().With.Message.Contains("is a special file"));
        Assert.That(FileSystem.RequireFileOrMissing(Path.Combine(dir, "new.lock"), "The lock file"), Does.EndWith("new.lock"));
    }
}
