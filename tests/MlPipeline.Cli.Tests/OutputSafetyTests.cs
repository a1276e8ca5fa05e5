using System.Diagnostics;

namespace MlPipeline.Cli.Tests;

/// <summary>
/// Every command that writes: an output never replaces an input of the same run (through paths, links and hard links),
/// a folder is written only when new, empty or the command's own, and side files that are FIFOs are refused at once.
/// </summary>
[Category("Slow")]
public sealed class OutputSafetyTests
{
    static string dir = "";
    static string run = "";
    static string data = "";

    [OneTimeSetUp]
    public static async Task TrainOnce()
    {
        dir = TempDirectory.Create();
        run = Path.Combine(dir, "run");
        var (exit, _, error) = await CliRunner.Run("train", "--limit", "128", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.That(exit, Is.EqualTo(0), error);
        data = Digits.WritePngFolder(Path.Combine(dir, "data"), 30);
    }

    [OneTimeTearDown]
    public static void Delete() => Directory.Delete(dir, recursive: true);

    static string F(string name) => Path.Combine(dir, name);

    static string FirstImage() => Directory.GetFiles(data, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();

    static void Shell(string program, params string[] args)
    {
        using var process = Process.Start(program, args);
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, program);
    }

    static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

    [TestCase("csv")]
    [TestCase("image")]
    [TestCase("image-through-dotdot")]
    [TestCase("hard-link")]
    [TestCase("symbolic-link")]
    public async Task Train_OnnxIsAnInputOfTheRun_IsRefusedBeforeAnyWorkAndTheInputKept(string kind)
    {
        Assume.That(File.Exists("/bin/ln"), "ln");
        string csv = Path.Combine(data, "labels.csv");
        if (!File.Exists(csv))
        {
            File.WriteAllText(csv, "path,label\n" + string.Concat(Directory.GetFiles(data, "*.png", SearchOption.AllDirectories).Select(f => $"{Path.GetRelativePath(data, f)},{Path.GetFileName(Path.GetDirectoryName(f))}\n")));
        }
        string image = FirstImage();
        string target = kind switch
        {
            "csv" => csv,
            "image" => image,
            "image-through-dotdot" => Path.Combine(data, "..", "data", Path.GetRelativePath(data, image)),
            _ => F($"{kind}.onnx"),
        };
        if (kind == "hard-link" && !File.Exists(target)) { Shell("/bin/ln", image, target); }
        if (kind == "symbolic-link" && !File.Exists(target)) { File.CreateSymbolicLink(target, image); }
        var before = Snapshot(data);

        var (exit, _, error) = await CliRunner.Run("train", "--data", kind == "csv" ? csv : data, "--epochs", "1", "--threads", "1", "--out", F($"run-{kind}"), "--onnx", target);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain($"--onnx '{target}' is").And.Contain("would destroy an input of this run"));
        Assert.That(Snapshot(data), Is.EqualTo(before), "no input was touched");
        Assert.That(Directory.Exists(F($"run-{kind}")), Is.False, "refused before any work");
    }

    [Test]
    public async Task Export_OutIsAnImageOfTheVerifyData_IsRefusedAndTheImageKept()
    {
        string image = FirstImage();
        byte[] before = File.ReadAllBytes(image);

        var (exit, _, error) = await CliRunner.Run("export", "--run", run, "--out", image, "--data", data, "--verify");

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain($"one of the files of --data '{data}'"));
        Assert.That(File.ReadAllBytes(image), Is.EqualTo(before));
    }

    [Test]
    public async Task Train_OutIsAFolderOfTheUsersFiles_IsRefusedAndTheFilesKept()
    {
        string mine = F("mine");
        Directory.CreateDirectory(mine);
        File.WriteAllText(Path.Combine(mine, "metrics.json"), "my metrics");
        File.WriteAllText(Path.Combine(mine, "data-errors.csv"), "my errors");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--epochs", "1", "--threads", "1", "--out", mine);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"Run folder '{mine}' already holds files that MlPipeline did not write there (for example 'data-errors.csv')"));
        Assert.That(Directory.GetFiles(mine).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "data-errors.csv", "metrics.json" }));
        Assert.That(File.ReadAllText(Path.Combine(mine, "metrics.json")), Is.EqualTo("my metrics"));
    }

    [Test]
    public async Task Evaluate_ReportIntoAFolderOfTheUsersFiles_IsRefusedAndIntoItsOwnFolderWritesAgain()
    {
        string mine = F("my-report"), own = F("report");
        Directory.CreateDirectory(mine);
        File.WriteAllText(Path.Combine(mine, "errors.csv"), "mine");
        File.WriteAllText(Path.Combine(mine, "confusion.csv"), "mine too");

        var (refused, _, error) = await CliRunner.Run("evaluate", "--input", data, "--report", mine);
        var (first, _, firstError) = await CliRunner.Run("evaluate", "--input", data, "--report", own);
        var (second, _, secondError) = await CliRunner.Run("evaluate", "--input", data, "--report", own);

        Assert.That(refused, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"The report folder '{mine}' already holds files that MlPipeline did not write there (for example 'confusion.csv')"));
        Assert.That(File.ReadAllText(Path.Combine(mine, "errors.csv")), Is.EqualTo("mine"));
        Assert.That(File.ReadAllText(Path.Combine(mine, "confusion.csv")), Is.EqualTo("mine too"));
        Assert.That((first, second), Is.EqualTo((0, 0)), firstError + secondError);
        Assert.That(File.Exists(Path.Combine(own, "metrics.json")), Is.True);
    }

    [Test]
    public async Task Evaluate_ReportFileIsTheLabelsCsv_IsRefusedAndTheCsvKept()
    {
        string report = F("labels-report");
        Directory.CreateDirectory(report);
        File.WriteAllText(Path.Combine(report, ".mlpipeline-report"), "");
        string csv = Path.Combine(report, "confusion.csv");
        File.WriteAllText(csv, string.Concat(Directory.GetFiles(data, "*.png", SearchOption.AllDirectories).Select(f => $"{Path.GetRelativePath(data, f)},{Path.GetFileName(Path.GetDirectoryName(f))}\n")));
        string before = File.ReadAllText(csv);

        var (exit, _, error) = await CliRunner.Run("evaluate", "--input", data, "--labels", csv, "--report", report);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("is the file --labels").And.Contain("would destroy an input"));
        Assert.That(File.ReadAllText(csv), Is.EqualTo(before));
    }

    [Test]
    public async Task Export_ModelJsonIsAFifo_IsRefusedAtOnce()
    {
        Assume.That(File.Exists("/usr/bin/mkfifo"), "mkfifo");
        string copy = F("fifo-run");
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.GetFiles(run).Where(f => Path.GetFileName(f) != "model.json")) { File.Copy(file, Path.Combine(copy, Path.GetFileName(file))); }
        Shell("/usr/bin/mkfifo", Path.Combine(copy, "model.json"));

        // Opening a FIFO blocks until a writer comes: the run must be refused before any open.
        var (exit, _, error) = await CliRunner.Run("export", "--run", copy, "--out", F("fifo.onnx")).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("model.json' is a special file (a FIFO, socket or device)"));
    }
}
