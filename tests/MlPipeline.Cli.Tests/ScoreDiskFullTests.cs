using System.Diagnostics;

namespace MlPipeline.Cli.Tests;

/// <summary>
/// <c>score --output</c> onto a file system that fills: before anything was scored it leaves nothing; once results were
/// written it keeps them and says how to go on, and <c>--resume</c> with room finishes the same file.
/// </summary>
public sealed class ScoreDiskFullTests
{
    string dir = "";
    string mount = "";
    string input = "";

    static int Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    [SetUp]
    public void SetUp()
    {
        Assume.That(OperatingSystem.IsLinux() && Environment.UserName == "root", Is.True, "mounting a small file system needs root on Linux");
        dir = TempDirectory.Create();
        input = Digits.WritePngFolder(Path.Combine(dir, "digits"), 300);
        mount = Path.Combine(dir, "small");
        Directory.CreateDirectory(mount);
    }

    [TearDown]
    public void TearDown()
    {
        if (dir.Length == 0) { return; }
        Run("umount", mount);
        Directory.Delete(dir, recursive: true);
    }

    void Mount(string size) => Assume.That(Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", mount), Is.Zero, "mount -t tmpfs is allowed here");

    [Test]
    public async Task Score_DiskFullBeforeAnyResult_LeavesNothing()
    {
        Mount("4k");
        File.WriteAllBytes(Path.Combine(mount, "filler"), new byte[4096]);

        var (exit, _, error) = await CliRunner.Run("score", "--input", input, "--recursive", "--probabilities", "--output", Path.Combine(mount, "p.csv"));

        Assert.That(exit, Is.Not.Zero, error);
        Assert.That(Directory.GetFiles(mount).Select(Path.GetFileName), Is.EqualTo(new[] { "filler" }), error);
    }

    [Test]
    public async Task Score_DiskFullAfterSomeResults_SaysToResume_AndResumeFinishesTheSameFile()
    {
        string[] score = ["score", "--input", input, "--recursive", "--probabilities", "--output", Path.Combine(mount, "p.csv")];
        var (exit, _, error) = await CliRunner.Run([.. score[..^1], Path.Combine(dir, "whole.csv")]);
        Assert.That(exit, Is.Zero, error);
        Mount("48k");

        (exit, _, error) = await CliRunner.Run(score);
        Assert.That(exit, Is.Not.Zero, error);
        Assert.That(error, Does.Contain("run the same command with --resume"));
        Assert.That(File.Exists(Path.Combine(mount, "p.csv")), Is.False, "nothing is published from a run that did not finish");

        Assert.That(Run("mount", "-o", "remount,size=4m", mount), Is.Zero);
        (exit, _, error) = await CliRunner.Run([.. score, "--resume"]);
        Assert.That(exit, Is.Zero, error);
        Assert.That(File.ReadAllText(Path.Combine(mount, "p.csv")), Is.EqualTo(File.ReadAllText(Path.Combine(dir, "whole.csv"))));
    }

    static long Pages(long bytes) => (bytes + 4095) / 4096 * 4096;

    [Test]
    public async Task Score_DiskFullWhilePublishing_LeavesThePreviousPairAsItWas()
    {
        File.WriteAllBytes(Path.Combine(input, "3", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        string[] score = ["score", "--input", input, "--recursive", "--probabilities", "--output"];
        var (exit, _, error) = await CliRunner.Run([.. score, Path.Combine(dir, "whole.csv")]);
        Assert.That(exit, Is.EqualTo(3), error);
        long predictions = new FileInfo(Path.Combine(dir, "whole.csv")).Length, errors = new FileInfo(Path.Combine(dir, "whole.csv.errors.csv")).Length;
        // Room for the previous pair, the partial files and the settings file, but not for a second copy of them.
        Mount(((2 * 4096) + Pages(predictions) + Pages(errors) + (2 * 4096)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        string output = Path.Combine(mount, "p.csv");
        File.WriteAllText(output, "previous predictions\n");
        File.WriteAllText(output + ".errors.csv", "previous errors\n");

        (exit, _, error) = await CliRunner.Run([.. score, output]);

        Assert.That(exit, Is.Not.Zero, error);
        Assert.That(error, Does.Contain($"Publishing {output} failed"));
        Assert.That(File.ReadAllText(output), Is.EqualTo("previous predictions\n"));
        Assert.That(File.ReadAllText(output + ".errors.csv"), Is.EqualTo("previous errors\n"), "the errors file is not replaced while the predictions cannot be");
    }
}
