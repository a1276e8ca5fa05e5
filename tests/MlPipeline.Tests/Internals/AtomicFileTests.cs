using System.Diagnostics;
using MlPipeline.Internals;

namespace MlPipeline.Tests.Internals;

/// <summary>An atomic write that fails leaves the target as it was and no temporary file, even when the disk is full.</summary>
public sealed class AtomicFileTests
{
    static int Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    // Larger than the writer's 64 KiB buffer (the write itself fails) and smaller (the flush on commit fails, and again on close).
    [TestCase(1 << 20)]
    [TestCase(60 << 10)]
    public void WriteAllBytes_DiskFull_LeavesTheOldFileAndNoTemporaryFile(int size)
    {
        Assume.That(OperatingSystem.IsLinux() && Environment.UserName == "root", Is.True, "mounting a small file system needs root on Linux");
        string dir = TempDirectory.Create();
        string mount = Path.Combine(dir, "small");
        Directory.CreateDirectory(mount);
        Assume.That(Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount), Is.Zero, "mount -t tmpfs is allowed here");
        try
        {
            string target = Path.Combine(mount, "model.onnx");
            string old = new('m', 16 << 10);
            File.WriteAllText(target, old);

            Assert.That(() => AtomicFile.WriteAllBytes(target, new byte[size]), Throws.InstanceOf<IOException>());

            Assert.That(File.ReadAllText(target), Is.EqualTo(old));
            Assert.That(Directory.GetFiles(mount).Select(Path.GetFileName), Is.EqualTo(new[] { "model.onnx" }), "no temporary file keeps the disk full");
        }
        finally
        {
            Run("umount", mount);
            Directory.Delete(dir, recursive: true);
        }
    }
}
