using System.Diagnostics;
using NUnit.Framework;

namespace MlPipeline.TestSupport;

/// <summary>Checksums by coreutils, a second implementation to check the product's against.</summary>
public static class Checksums
{
    /// <summary>The file's MD5 as lower-case hex, from <c>md5sum</c>.</summary>
    public static string Md5Sum(string path)
    {
        Assume.That(File.Exists("/usr/bin/md5sum"), "coreutils' md5sum");
        var start = new ProcessStartInfo("/usr/bin/md5sum", ["--", path]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"md5sum {path}");
        return output.Split(' ', 2)[0];
    }
}
