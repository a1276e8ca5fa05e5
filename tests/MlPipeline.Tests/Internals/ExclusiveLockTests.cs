using System.Diagnostics;
using MlPipeline.Internals;

namespace MlPipeline.Tests.Internals;

/// <summary>The one exclusive file lock, against util-linux flock(1) in another process as the second implementation.</summary>
public sealed class ExclusiveLockTests
{
    string dir = "";

    [SetUp]
    public void SetUp()
    {
        Assume.That(OperatingSystem.IsLinux() && File.Exists("/usr/bin/flock"), "util-linux flock");
        dir = TempDirectory.Create();
    }

    [TearDown]
    public void TearDown()
    {
        if (dir.Length > 0) { Directory.Delete(dir, recursive: true); }
    }

    static Process Flock(params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/flock") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in args) { start.ArgumentList.Add(arg); }
        return Process.Start(start)!;
    }

    [Test]
    public void TryTake_Held_IsSeenByAnotherProcessAndReleasedOnDispose()
    {
        string path = Path.Combine(dir, "run.lock");
        using (var held = ExclusiveLock.TryTake(path, "The lock file"))
        {
            Assert.That(held, Is.Not.Null);
            using var other = Flock("--nonblock", path, "true");
            other.WaitForExit();
            Assert.That(other.ExitCode, Is.EqualTo(1), "flock -n fails while the lock is held");
            Assert.That(ExclusiveLock.TryTake(path, "The lock file"), Is.Null, "a second handle of this process is refused too");
        }
        using var free = Flock("--nonblock", path, "true");
        free.WaitForExit();
        Assert.That(free.ExitCode, Is.Zero, "released when disposed");
    }

    [Test]
    public void TryTake_HeldByAnotherProcess_IsNullUntilThatProcessLetsGo()
    {
        string path = Path.Combine(dir, "run.lock");
        using var other = Flock(path, "sh", "-c", "echo locked; cat");
        Assert.That(other.StandardOutput.ReadLine(), Is.EqualTo("locked"));

        Assert.That(ExclusiveLock.TryTake(path, "The lock file"), Is.Null);

        other.StandardInput.Close();
        other.WaitForExit();
        using var taken = ExclusiveLock.TryTake(path, "The lock file");
        Assert.That(taken, Is.Not.Null);
    }

    [Test]
    public void TryTake_NotALockablePath_ThrowsInsteadOfReportingItHeld()
    {
        string folder = Directory.CreateDirectory(Path.Combine(dir, "run.lock")).FullName;

        var e = Assert.Throws<IOException>(() => ExclusiveLock.TryTake(folder, "The run's lock file"));
        Assert.That(e!.Message, Is.EqualTo($"The run's lock file '{folder}' is a folder; expected a file."));
        Assert.Throws<DirectoryNotFoundException>(() => ExclusiveLock.TryTake(Path.Combine(dir, "missing", "run.lock"), "The lock file"));
    }
}
