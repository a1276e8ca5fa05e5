namespace MlPipeline.Cli.Tests;

/// <summary>
/// <c>score --output</c> killed without warning (SIGKILL) at every step of writing, from before the first byte to after
/// publishing, then run again with <c>--resume</c>: the files are byte for byte those of a run that was never
/// interrupted. The CLI's test seam pauses it at each named step, so the kill lands exactly there.
/// </summary>
[Category("Slow")]
public sealed class ScoreResumeTests
{
    static string dir = "";
    static string input = "";
    static string[] common = [];

    /// <summary>Over 256 images (the flush interval), a failing file and a file whose name holds a line feed (a quoted CSV field over two lines).</summary>
    [OneTimeSetUp]
    public static async Task OneTimeSetUp()
    {
        dir = TempDirectory.Create();
        input = Digits.WritePngFolder(Path.Combine(dir, "digits"), 300);
        File.WriteAllBytes(Path.Combine(input, "3", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        File.WriteAllBytes(Path.Combine(input, "1", "a\nline break.png"), Digits.Png(2));
        common = ["score", "--input", input, "--recursive", "--probabilities", "--batch-size", "16"];
        var (exit, _, error) = await CliRunner.Run([.. common, "--output", Path.Combine(dir, "whole.csv")]);
        Assert.That(exit, Is.EqualTo(3), error);
        (exit, _, error) = await CliRunner.Run([.. common, "--output", Path.Combine(dir, "whole.jsonl")]);
        Assert.That(exit, Is.EqualTo(3), error);
    }

    [OneTimeTearDown]
    public static void OneTimeTearDown() => Directory.Delete(dir, recursive: true);

    static string F(string name) => Path.Combine(dir, name);

    static void KillAt(string point, string output)
    {
        using var cli = CliProcess.PausedAt(point, [.. common, "--output", output]);
        Assert.That(cli.WaitFor($"paused at {point}", TimeSpan.FromMinutes(2)), Is.True, cli.Error);
        cli.Signal("KILL");
        cli.Exit(TimeSpan.FromSeconds(30));
    }

    static async Task AssertResumesToTheWholeRun(string output, string whole)
    {
        var (exit, _, error) = await CliRunner.Run([.. common, "--output", output, "--resume"]);

        Assert.That(exit, Is.EqualTo(3), error);
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(whole)), "the predictions");
        Assert.That(File.ReadAllBytes(output + ".errors.csv"), Is.EqualTo(File.ReadAllBytes(whole + ".errors.csv")), "the errors file");
        Assert.That(Directory.GetFiles(dir, Path.GetFileName(output) + ".*partial*"), Is.Empty, "the partial files are gone once published");
    }

    [TestCase("score.created")]
    [TestCase("score.headers-written")]
    [TestCase("score.started")]
    [TestCase("score.first-result")]
    [TestCase("score.first-flush")]
    [TestCase("score.before-publish")]
    [TestCase("score.errors-published")]
    [TestCase("score.output-published")]
    public async Task Score_KilledAtAStepAndResumed_WritesTheUninterruptedFiles(string point)
    {
        string output = F($"killed-{point}.csv");

        KillAt(point, output);

        Assert.That(File.Exists(output) && File.ReadAllBytes(output).SequenceEqual(File.ReadAllBytes(F("whole.csv"))), Is.EqualTo(point == "score.output-published"), "published only at the end");
        await AssertResumesToTheWholeRun(output, F("whole.csv"));
    }

    [Test]
    public async Task Score_RecordTornInsideAQuotedLineBreak_ResumesToTheUninterruptedFiles()
    {
        string output = F("torn.csv");
        KillAt("score.first-flush", output);
        // What a kill in the middle of writing that row leaves: the file ends inside the quoted field, just after its
        // line feed (which a cut at the last line feed would take for the end of a record).
        byte[] partial = File.ReadAllBytes(output + ".partial");
        int cut = partial.AsSpan().IndexOf("a\nline"u8) + 2;
        Assert.That(cut, Is.GreaterThan(2), "the row of the file with a line feed in its name was flushed");
        File.WriteAllBytes(output + ".partial", partial[..cut]);

        await AssertResumesToTheWholeRun(output, F("whole.csv"));
    }

    [TestCase("score.first-result")]
    [TestCase("score.first-flush")]
    public async Task Score_JsonLinesKilledAndResumed_WritesTheUninterruptedFiles(string point)
    {
        string output = F($"killed-{point}.jsonl");
        KillAt(point, output);
        byte[] partial = File.ReadAllBytes(output + ".partial");
        // Half a line more, as a kill mid-write leaves it.
        File.WriteAllBytes(output + ".partial", [.. partial, .. "{\"path\":\"9/"u8]);

        await AssertResumesToTheWholeRun(output, F("whole.jsonl"));
    }

    [Test]
    public async Task Score_ResumeAfterTheModelFileWasReplaced_IsRefusedNamingTheModel()
    {
        string model = F("model.onnx"), output = F("replaced.csv");
        byte[] original = File.ReadAllBytes(Repository.File(Path.Combine("onnx", "mnist-cnn.onnx")));
        File.WriteAllBytes(model, original);
        using (var cli = CliProcess.PausedAt("score.first-flush", [.. common, "--model", model, "--output", output]))
        {
            Assert.That(cli.WaitFor("paused at score.first-flush", TimeSpan.FromMinutes(2)), Is.True, cli.Error);
            cli.Signal("KILL");
            cli.Exit(TimeSpan.FromSeconds(30));
        }
        // Another model at the same path (different bytes).
        File.WriteAllBytes(model, OnnxModels.Edit(original, m => m.DocString = "retrained"));

        var (exit, _, error) = await CliRunner.Run([.. common, "--model", model, "--output", output, "--resume"]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"was scored differently: the model ({model}, sha256:"));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public async Task Score_ResumeWithAFifoAsTheSettingsFile_IsRefusedWithoutBlocking()
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False);
        string output = F("fifo.csv");
        File.WriteAllText(output + ".partial", "path\n");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [output + ".partial.json"])) { mkfifo.WaitForExit(); }

        var run = CliRunner.Run([.. common, "--output", output, "--resume"]);
        var (exit, _, error) = await run.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"The partial output's settings '{output}.partial.json' is a special file"));
    }

    [Test]
    public async Task Score_OutputNameLongerThanItsSideFilesAllow_ExitsTwoNamingTheLimit()
    {
        string output = F(new string('p', 240) + ".csv");

        var (exit, _, error) = await CliRunner.Run([.. common, "--output", output]);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("--output's file name is 244 bytes long; expected at most 187"));
        Assert.That(Directory.GetFiles(dir, "ppp*"), Is.Empty);
    }

    [Test]
    public async Task Score_FileDeletedBetweenTheKillAndTheResume_IsNotInTheOutput()
    {
        string folder = Path.Combine(dir, "copy");
        foreach (string file in Directory.GetFiles(input, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(folder, Path.GetRelativePath(input, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        string[] args = ["score", "--input", folder, "--recursive", "--probabilities", "--batch-size", "16"];
        string output = F("deleted.csv");
        using (var cli = CliProcess.PausedAt("score.first-flush", [.. args, "--output", output]))
        {
            Assert.That(cli.WaitFor("paused at score.first-flush", TimeSpan.FromMinutes(2)), Is.True, cli.Error);
            cli.Signal("KILL");
            cli.Exit(TimeSpan.FromSeconds(30));
        }
        // The first file in the folder's order: among those the killed run flushed.
        string first = Directory.GetFiles(Path.Combine(folder, "0")).Order(StringComparer.Ordinal).First();
        Assert.That(File.ReadAllText(output + ".partial"), Does.Contain(Path.GetRelativePath(folder, first)));
        File.Delete(first);

        var (exit, _, error) = await CliRunner.Run([.. args, "--output", output, "--resume"]);
        var (wholeExit, _, wholeError) = await CliRunner.Run([.. args, "--output", F("deleted-whole.csv")]);

        Assert.That((exit, wholeExit), Is.EqualTo((3, 3)), error + wholeError);
        Assert.That(error, Does.Contain("note: 1 file(s) scored by the interrupted run are no longer in"));
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(F("deleted-whole.csv"))));
    }

    [TestCase("symbolic")]
    [TestCase("hard")]
    public async Task Score_LinkToAnImagePlantedAtThePartialFile_IsReplacedNotWrittenThrough(string kind)
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False);
        string image = Directory.GetFiles(Path.Combine(input, "4")).Order(StringComparer.Ordinal).First();
        byte[] before = File.ReadAllBytes(image);
        string output = F($"linked-{kind}.csv");
        foreach (string side in new[] { output + ".partial", output + ".errors.csv.partial" })
        {
            using var ln = System.Diagnostics.Process.Start("ln", kind == "symbolic" ? ["-s", image, side] : [image, side]);
            ln.WaitForExit();
        }

        var (exit, _, error) = await CliRunner.Run([.. common, "--output", output]);

        Assert.That(exit, Is.EqualTo(3), error);
        Assert.That(File.ReadAllBytes(image), Is.EqualTo(before), "the image is untouched");
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(F("whole.csv"))));
    }

    [Test]
    public async Task Score_ResumeFromALinkToAnImage_LeavesTheImageUntouched()
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False);
        string image = Directory.GetFiles(Path.Combine(input, "5")).Order(StringComparer.Ordinal).First();
        byte[] before = File.ReadAllBytes(image);
        string output = F("relinked.csv");
        KillAt("score.first-flush", output);
        File.Delete(output + ".partial");
        File.CreateSymbolicLink(output + ".partial", image);

        var (exit, _, error) = await CliRunner.Run([.. common, "--output", output, "--resume"]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("it is not this output's partial file: leave out --resume to start over"));
        Assert.That(File.ReadAllBytes(image), Is.EqualTo(before), "the image is untouched");
    }

    [Test]
    public async Task Score_TemporaryFilesOfAKilledWrite_AreRemovedByTheNextRun()
    {
        string output = F("leftover.csv");
        string[] leftovers = [F(".leftover.csv.123456.0123456789abcdef0123456789abcdef.tmp"), F(".leftover.csv.partial.json.7.fedcba9876543210fedcba9876543210.tmp")];
        string other = F(".leftover.csv.x.csv.123.0123456789abcdef0123456789abcdef.tmp");
        foreach (string file in leftovers.Append(other)) { File.WriteAllText(file, "a whole copy of an output"); }

        var (exit, _, error) = await CliRunner.Run([.. common, "--output", output]);

        Assert.That(exit, Is.EqualTo(3), error);
        Assert.That(leftovers.Where(File.Exists), Is.Empty);
        Assert.That(File.Exists(other), Is.True, "another output's temporary file is not this output's to remove");
    }

    [Test]
    public async Task Score_OutputNamedAsAnotherOutputsErrorsFile_ExitsTwo()
    {
        var (exit, _, error) = await CliRunner.Run([.. common, "--output", F("a.csv.errors.csv")]);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain($"--output '{F("a.csv.errors.csv")}' is named as the errors file of '{F("a.csv")}'"));
    }

    [Test]
    public async Task Score_OutputNameAtTheLimit_IsKilledAndResumed()
    {
        // The longest name accepted: its longest side file's temporary name, written on resume, must still fit.
        string output = F(new string('l', 183) + ".csv");
        KillAt("score.first-flush", output);

        await AssertResumesToTheWholeRun(output, F("whole.csv"));
    }
}
