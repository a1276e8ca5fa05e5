using System.Diagnostics;
using System.Text;
using MlPipeline.Data;

namespace MlPipeline.Cli.Tests;

/// <summary>
/// The real command-line process, stopped by SIGINT or SIGTERM part-way: every output is complete or absent (no
/// temporary files left), the exit code is 130, and an interrupted training run resumes from its checkpoint.
/// </summary>
public sealed class InterruptionTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>A running <c>mlpipeline</c> process with its standard error collected.</summary>
    sealed class CliProcess : IDisposable
    {
        readonly Process process;
        readonly StringBuilder error = new();

        public CliProcess(params string[] args)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MlPipeline.Cli.dll"));
            foreach (string arg in args) { start.ArgumentList.Add(arg); }
            process = Process.Start(start)!;
            process.ErrorDataReceived += (_, e) => { lock (error) { error.AppendLine(e.Data); } };
            process.OutputDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
        }

        public string Error { get { lock (error) { return error.ToString(); } } }

        /// <summary>Waits until standard error contains <paramref name="text"/>; false if the process ended first or time ran out.</summary>
        public bool WaitFor(string text, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (Error.Contains(text, StringComparison.Ordinal)) { return true; }
                if (process.HasExited) { return false; }
                Thread.Sleep(50);
            }
            return false;
        }

        public void Signal(string name)
        {
            using var kill = Process.Start("kill", ["-" + name, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            kill.WaitForExit();
        }

        public int Exit(TimeSpan timeout)
        {
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"The process did not stop within {timeout.TotalSeconds} s of the signal. Output:\n{Error}");
            }
            process.WaitForExit();
            return process.ExitCode;
        }

        public void Dispose()
        {
            if (!process.HasExited) { process.Kill(entireProcessTree: true); }
            process.Dispose();
        }
    }

    static string[] TempFiles(string folder) => Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories);

    [Test]
    public void Train_Sigint_SavesACheckpointThatResumesToTheEnd()
    {
        string run = Path.Combine(dir, "run");
        string[] args = ["train", "--limit", "12800", "--epochs", "2", "--threads", "1", "--out", run];

        using (var cli = new CliProcess(args))
        {
            Assert.That(cli.WaitFor("Epoch 1/2", TimeSpan.FromSeconds(60)), Is.True, cli.Error);
            Thread.Sleep(700);
            cli.Signal("INT");

            Assert.That(cli.Exit(TimeSpan.FromSeconds(30)), Is.EqualTo(130), cli.Error);
            Assert.That(cli.Error, Does.Contain("checkpoint saved"));
        }
        Assert.That(File.Exists(Path.Combine(run, "checkpoint.bin")), Is.True);
        Assert.That(File.Exists(Path.Combine(run, "model.json")), Is.False, "an unfinished run has no model.json");
        Assert.That(TempFiles(run), Is.Empty);

        using (var resumed = new CliProcess([.. args, "--resume"]))
        {
            Assert.That(resumed.Exit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), resumed.Error);
        }
        Assert.That(File.Exists(Path.Combine(run, "model.json")), Is.True);
        Assert.That(File.ReadAllText(Path.Combine(run, "history.json")), Does.Contain("\"epoch\": 2"));
    }

    [Test]
    public void Score_Sigterm_LeavesNoPartialPredictions()
    {
        string input = Path.Combine(dir, "digits");
        Mnist.Load(Mnist.Ensure()).Test.WritePngFolder(Path.Combine(input, "a"));
        for (int copy = 0; copy < 4; copy++) { Directory.CreateSymbolicLink(Path.Combine(input, "copy" + copy), Path.Combine(input, "a")); }
        string output = Path.Combine(dir, "out", "predictions.csv");

        using var cli = new CliProcess("score", "--input", input, "--recursive", "--output", output, "--batch-size", "1", "--threads", "1");
        Thread.Sleep(2500);
        cli.Signal("TERM");

        Assert.That(cli.Exit(TimeSpan.FromSeconds(30)), Is.EqualTo(130), cli.Error);
        Assert.That(File.Exists(output), Is.False, "predictions are written whole or not at all");
        Assert.That(Directory.Exists(Path.Combine(dir, "out")) ? TempFiles(Path.Combine(dir, "out")) : [], Is.Empty);
    }

    [Test]
    public async Task Export_Sigterm_LeavesTheModelCompleteOrAbsent()
    {
        string run = Path.Combine(dir, "run");
        var (trained, _, error) = await CliRunner.Run("train", "--limit", "64", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.That(trained, Is.EqualTo(0), error);
        string onnx = Path.Combine(dir, "model", "m.onnx");

        using var cli = new CliProcess("export", "--run", run, "--out", onnx, "--verify", "--verify-images", "10000");
        Thread.Sleep(1500);
        cli.Signal("TERM");
        int exit = cli.Exit(TimeSpan.FromSeconds(60));

        Assert.That(exit, Is.AnyOf(0, 130), cli.Error);
        if (File.Exists(onnx))
        {
            using var classifier = MlPipeline.Scoring.ImageClassifier.Load(onnx);
            Assert.That(classifier.Labels, Has.Count.EqualTo(10));
        }
        Assert.That(Directory.Exists(Path.Combine(dir, "model")) ? TempFiles(Path.Combine(dir, "model")) : [], Is.Empty);
    }
}
