using System.Diagnostics;
using NUnit.Framework;

namespace MlPipeline.TestSupport;

/// <summary>Debian's Pillow (<c>python3-pil</c>) as the independent reference for image decoding and resizing.</summary>
public static class Pillow
{
    /// <summary>Runs a Python <paramref name="script"/> with <paramref name="args"/> and returns what it wrote to standard output; fails the test when Python or Pillow is missing or the script fails.</summary>
    public static byte[] Run(string script, params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (string arg in args) { start.ArgumentList.Add(arg); }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"This test compares with Pillow: /usr/bin/python3 is needed ({e.Message}); apt-get install python3-pil.");
            throw;
        }
        using (process)
        {
            using var output = new MemoryStream();
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.BaseStream.CopyTo(output);
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, $"Pillow failed (apt-get install python3-pil): {error.Result}");
            return output.ToArray();
        }
    }
}
