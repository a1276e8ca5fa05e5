using MlPipeline.Data;

namespace MlPipeline.Cli.Tests;

public sealed class ScoreCommandTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string DigitFolder(int count) => Digits.WritePngFolder(Path.Combine(dir, "in put ü"), count);

    [Test]
    public async Task Score_GoodFolder_ExitsZeroAndWritesCsvWithRelativePaths()
    {
        string folder = DigitFolder(25);
        string output = Path.Combine(dir, "out", "predictions.csv");

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", output, "--top-k", "2");

        Assert.That(exit, Is.EqualTo(0), error);
        var lines = File.ReadAllLines(output);
        Assert.That(lines[0], Is.EqualTo("path,label,confidence,top1_label,top1_probability,top2_label,top2_probability"));
        Assert.That(lines, Has.Length.EqualTo(26));
        Assert.That(lines[1], Does.StartWith("0/"));
        Assert.That(error, Does.Contain("Scored 25, skipped 0 non-image or special files, failed 0"));
        Assert.That(File.Exists(Path.Combine(dir, "out", "predictions.csv.errors.csv")), Is.False);
    }

    [Test]
    public async Task Score_FolderWithTiffFiles_SaysOnceTheyAreNotSupported()
    {
        string folder = DigitFolder(5);
        File.WriteAllBytes(Path.Combine(folder, "a.tif"), [0x49, 0x49, 0x2A, 0]);
        File.WriteAllBytes(Path.Combine(folder, "b.TIFF"), [0x4D, 0x4D, 0, 0x2A]);

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", Path.Combine(dir, "p.csv"));

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Contain("note: 2 file(s) in an image format that is not supported"));
        Assert.That(error.Split("not supported").Length, Is.EqualTo(2), "said once");
    }

    [Test]
    public async Task Score_FileNameNotValidUtf8_IsReportedAsSuch()
    {
        Assume.That(OperatingSystem.IsLinux(), Is.True);
        string folder = DigitFolder(3);
        // Python writes the name's bytes as they are; .NET sees U+FFFD in place of 0xFF.
        using (var python = System.Diagnostics.Process.Start("/usr/bin/python3", ["-c", "import sys,shutil; shutil.copy(sys.argv[1], sys.argv[2].encode() + b'/a\\xff.png')", Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories)[0], folder]))
        {
            python.WaitForExit();
            Assert.That(python.ExitCode, Is.Zero);
        }
        string output = Path.Combine(dir, "p.csv");

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", output);
        // .NET cannot delete what it cannot name.
        using (var rm = System.Diagnostics.Process.Start("rm", ["-rf", folder])) { rm.WaitForExit(); }

        Assert.That(exit, Is.EqualTo(3), error);
        Assert.That(File.ReadAllText(output + ".errors.csv"), Does.Contain("the file's name is not valid UTF-8, so it cannot be opened"));
    }

    [Test]
    public async Task Score_FolderWithABadFile_ExitsThreeAndWritesTheErrorsFile()
    {
        string folder = DigitFolder(10);
        File.WriteAllText(Path.Combine(folder, "broken.png"), "nope");
        string output = Path.Combine(dir, "predictions.jsonl");

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", output);

        Assert.That(exit, Is.EqualTo(3));
        Assert.That(File.ReadAllLines(output), Has.Length.EqualTo(10));
        Assert.That(File.ReadAllText(Path.Combine(dir, "predictions.jsonl.errors.csv")), Does.Contain("broken.png,\"not a readable image (expected PNG"));
        Assert.That(error, Does.Contain("failed 1"));
    }

    [Test]
    public async Task Score_MissingFolder_ExitsOneAndLeavesNoOutput()
    {
        string output = Path.Combine(dir, "predictions.csv");

        var (exit, _, error) = await CliRunner.Run("score", "--input", Path.Combine(dir, "absent"), "--output", output);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("absent").And.Contain("does not exist"));
        Assert.That(Directory.GetFiles(dir), Is.Empty);
    }

    [TestCase("--color", "purple", "purple")]
    [TestCase("--top-k", "0", "--top-k must be at least 1")]
    public async Task Score_BadOption_ExitsTwo(string option, string value, string message)
    {
        var (exit, _, error) = await CliRunner.Run("score", "--input", dir, option, value);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain(message));
    }

    static string[] Rows(string csv) => [.. File.ReadAllLines(csv).Skip(1)];

    [Test]
    public async Task Score_NoOutput_WritesTheCsvToStandardOutputAndTheSummaryToStandardError()
    {
        string folder = DigitFolder(12);
        string file = Path.Combine(dir, "p.csv");
        await CliRunner.Run("score", "--input", folder, "--recursive", "--output", file);

        var (exit, output, error) = await CliRunner.Run("score", "--input", folder, "--recursive");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output.Replace("\r\n", "\n", StringComparison.Ordinal), Is.EqualTo(File.ReadAllText(file)));
        Assert.That(error, Does.Match(@"Scored 12, skipped 0 non-image or special files, failed 0, in [0-9.]+ s \([0-9]+ images/s\) with built-in mnist-cnn\."));
    }

    [Test]
    public async Task Score_PreprocessingFlagsThatSayTheDefault_GiveTheDefaultResults()
    {
        // The built-in model takes pixels / 255: --offset 0 --scale 1/255 and --mean 0 --std 1 both say exactly that.
        string folder = DigitFolder(15);
        string Out(string name) => Path.Combine(dir, name);
        await CliRunner.Run("score", "--input", folder, "--recursive", "--output", Out("default.csv"), "--probabilities");
        var (a, _, errorA) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", Out("scale.csv"), "--probabilities", "--offset", "0", "--scale", (1f / 255f).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        var (b, _, errorB) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", Out("std.csv"), "--probabilities", "--mean", "0", "--std", "1");
        var (c, _, errorC) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", Out("inverted.csv"), "--probabilities", "--offset", "255", "--scale", (-1f / 255f).ToString("R", System.Globalization.CultureInfo.InvariantCulture));

        Assert.That((a, b, c), Is.EqualTo((0, 0, 0)), errorA + errorB + errorC);
        Assert.That(Rows(Out("scale.csv")), Is.EqualTo(Rows(Out("default.csv"))));
        Assert.That(Rows(Out("std.csv")), Is.EqualTo(Rows(Out("default.csv"))));
        Assert.That(Rows(Out("inverted.csv")), Is.Not.EqualTo(Rows(Out("default.csv"))), "inverted pixels are a different input");
    }

    [Test]
    public async Task Score_ProbabilitiesAndLabels_AddOneColumnPerNamedClassThatSumToOne()
    {
        string folder = DigitFolder(10);
        string labels = Path.Combine(dir, "labels.txt");
        string[] names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine, or \"9\""];
        File.WriteAllLines(labels, names);
        string output = Path.Combine(dir, "p.csv");

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", output, "--probabilities", "--labels", labels, "--top-k", "1");

        Assert.That(exit, Is.EqualTo(0), error);
        var rows = MlPipeline.Internals.Csv.Read(output).Select(r => r.Fields).ToList();
        Assert.That(rows[0], Is.EqualTo(new[] { "path", "label", "confidence", "top1_label", "top1_probability" }.Concat(names.Select(n => "p_" + n))));
        foreach (var row in rows.Skip(1))
        {
            float[] p = [.. row.Skip(5).Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture))];
            Assert.That(p.Sum(), Is.EqualTo(1f).Within(1e-4));
            Assert.That(row[1], Is.EqualTo(names[Array.IndexOf(p, p.Max())]));
        }
    }

    [Test]
    public async Task Score_Jsonl_HoldsOneObjectPerImageWithTheCsvsFigures()
    {
        string folder = DigitFolder(8);
        string csv = Path.Combine(dir, "p.csv"), jsonl = Path.Combine(dir, "p.jsonl");
        await CliRunner.Run("score", "--input", folder, "--recursive", "--output", csv, "--top-k", "2");

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", jsonl, "--top-k", "2", "--probabilities");

        Assert.That(exit, Is.EqualTo(0), error);
        var objects = File.ReadAllLines(jsonl).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        var rows = Rows(csv).Select(r => r.Split(',')).ToList();
        Assert.That(objects, Has.Count.EqualTo(8));
        for (int i = 0; i < 8; i++)
        {
            Assert.That(objects[i].GetProperty("path").GetString(), Is.EqualTo(rows[i][0]));
            Assert.That(objects[i].GetProperty("label").GetString(), Is.EqualTo(rows[i][1]));
            Assert.That(objects[i].GetProperty("confidence").GetSingle(), Is.EqualTo(float.Parse(rows[i][2], System.Globalization.CultureInfo.InvariantCulture)).Within(1e-6));
            Assert.That(objects[i].GetProperty("topK").GetArrayLength(), Is.EqualTo(2));
            Assert.That(objects[i].GetProperty("probabilities").GetArrayLength(), Is.EqualTo(10));
        }
    }

    [Test]
    public async Task Score_EveryImageFormatAndASymlinkedFolder_AreScored()
    {
        string folder = Path.Combine(dir, "formats");
        Directory.CreateDirectory(folder);
        using var bitmap = new SkiaSharp.SKBitmap(28, 28);
        bitmap.Erase(SkiaSharp.SKColors.Black);
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        File.WriteAllBytes(Path.Combine(folder, "a.png"), image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray());
        File.WriteAllBytes(Path.Combine(folder, "b.jpg"), image.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90).ToArray());
        File.WriteAllBytes(Path.Combine(folder, "c.JPEG"), image.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90).ToArray());
        File.WriteAllBytes(Path.Combine(folder, "d.webp"), image.Encode(SkiaSharp.SKEncodedImageFormat.Webp, 90).ToArray());
        File.WriteAllBytes(Path.Combine(folder, "e.bmp"), Bmp(28, 28));
        File.Copy(Repository.File("tests/MlPipeline.Tests/Fixtures/animated.gif"), Path.Combine(folder, "f.gif"));
        string elsewhere = Digits.WritePngFolder(Path.Combine(dir, "elsewhere"), 3);
        Directory.CreateSymbolicLink(Path.Combine(folder, "linked"), elsewhere);
        string output = Path.Combine(dir, "p.csv");

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", output);

        Assert.That(exit, Is.EqualTo(0), error);
        var paths = Rows(output).Select(r => r.Split(',')[0]).ToList();
        Assert.That(paths.Take(6), Is.EqualTo(new[] { "a.png", "b.jpg", "c.JPEG", "d.webp", "e.bmp", "f.gif" }));
        Assert.That(paths.Skip(6), Has.Count.EqualTo(3).And.All.StartsWith("linked/"));
    }

    /// <summary>A 24-bit black BMP, written by hand (SkiaSharp encodes no BMP).</summary>
    static byte[] Bmp(int width, int height)
    {
        int stride = ((width * 3) + 3) & ~3;
        var bytes = new byte[54 + (stride * height)];
        "BM"u8.CopyTo(bytes);
        BitConverter.TryWriteBytes(bytes.AsSpan(2), bytes.Length);
        BitConverter.TryWriteBytes(bytes.AsSpan(10), 54);
        BitConverter.TryWriteBytes(bytes.AsSpan(14), 40);
        BitConverter.TryWriteBytes(bytes.AsSpan(18), width);
        BitConverter.TryWriteBytes(bytes.AsSpan(22), height);
        BitConverter.TryWriteBytes(bytes.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(bytes.AsSpan(28), (short)24);
        return bytes;
    }

    [Test]
    public async Task Score_CleanRerun_RemovesThePreviousErrorsFileAndEachOutputHasItsOwn()
    {
        string folder = DigitFolder(5);
        string broken = Path.Combine(folder, "broken.png");
        File.WriteAllText(broken, "nope");
        string csv = Path.Combine(dir, "p.csv"), jsonl = Path.Combine(dir, "p.jsonl");
        Assert.That((await CliRunner.Run("score", "--input", folder, "--recursive", "--output", csv)).Exit, Is.EqualTo(3));
        Assert.That((await CliRunner.Run("score", "--input", folder, "--recursive", "--output", jsonl)).Exit, Is.EqualTo(3));
        Assert.That(File.Exists(csv + ".errors.csv") && File.Exists(jsonl + ".errors.csv"), Is.True, "one errors file per output");
        File.Delete(broken);

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", csv);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(File.Exists(csv + ".errors.csv"), Is.False, "the stale errors file went with the clean run");
        Assert.That(File.Exists(jsonl + ".errors.csv"), Is.True, "the other output's errors file is its own");
    }

    [Test]
    public async Task Score_FifoNamedLikeAnImage_IsSkippedAndCountedInsteadOfBlocking()
    {
        if (OperatingSystem.IsWindows()) { Assert.Ignore("FIFOs are a Unix matter."); }
        string folder = DigitFolder(4);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [Path.Combine(folder, "0", "fifo.png")])) { mkfifo.WaitForExit(); }

        var run = CliRunner.Run("score", "--input", folder, "--recursive", "--output", Path.Combine(dir, "p.csv"));
        Assert.That(await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2))), Is.SameAs(run), "score must not block on the FIFO");

        var (exit, _, error) = await run;
        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(error, Does.Contain("Scored 4, skipped 1 non-image or special files"));
    }

    [Test]
    public async Task Score_OutputIsTheLabelsFile_IsRefusedAndTheFileKept()
    {
        string folder = DigitFolder(3);
        string labels = Path.Combine(dir, "labels.csv");
        File.WriteAllLines(labels, Enumerable.Range(0, 10).Select(i => $"d{i}"));

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--labels", labels, "--output", labels);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("is the --labels file"));
        Assert.That(File.ReadAllLines(labels), Has.Length.EqualTo(10));
    }

    [Test]
    public async Task Help_ShowsEachDefaultOnce()
    {
        var (_, output, _) = await CliRunner.Run("score", "--help");

        Assert.That(output, Does.Contain("[default: 128]"));
        Assert.That(output, Does.Not.Contain("(default"));
    }
}
