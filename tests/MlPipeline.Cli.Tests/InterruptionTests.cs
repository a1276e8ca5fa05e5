using System.Diagnostics;
using System.Text;
using MlPipeline.Data;

namespace MlPipeline.Cli.Tests;

/// <summary>
/// The real command-line process, stopped by SIGINT or SIGTERM part-way: every output is complete or absent (no
/// temporary files left), the exit code is 130, and an interrupted training run resumes from its checkpoint.
/// </summary>
[Category("Slow")]
public sealed class InterruptionTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static string[] TempFiles(string folder) => Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories);

    [Test]
    public async Task Train_Sigint_SavesACheckpointThatResumesToTheUninterruptedWeights()
    {
        string run = Path.Combine(dir, "run");
        string[] args = ["train", "--limit", "12800", "--epochs", "2", "--threads", "1"];

        using (var cli = new CliProcess([.. args, "--out", run]))
        {
            // Printed with the first step's progress: the loop is running.
            Assert.That(cli.WaitFor("Epoch 1/2", TimeSpan.FromSeconds(120)), Is.True, cli.Error);
            cli.Signal("INT");

            Assert.That(cli.Exit(TimeSpan.FromSeconds(60)), Is.EqualTo(130), cli.Error);
            Assert.That(cli.Error, Does.Contain("checkpoint saved"));
        }
        Assert.That(File.Exists(Path.Combine(run, "checkpoint.bin")), Is.True);
        Assert.That(File.Exists(Path.Combine(run, "model.json")), Is.False, "an unfinished run has no model.json");
        Assert.That(TempFiles(run), Is.Empty);

        using (var resumed = new CliProcess([.. args, "--out", run, "--resume"]))
        {
            Assert.That(resumed.Exit(TimeSpan.FromSeconds(180)), Is.EqualTo(0), resumed.Error);
        }
        string straight = Path.Combine(dir, "straight");
        var (exit, _, error) = await CliRunner.Run([.. args, "--out", straight]);
        Assert.That(exit, Is.EqualTo(0), error);

        using var interrupted = Training.TrainedModel.Load(run);
        using var uninterrupted = Training.TrainedModel.Load(straight);
        Assert.That(interrupted.Weights(), Is.EqualTo(uninterrupted.Weights()), "resumed weights equal an uninterrupted run's, bit for bit");
    }

    [Test]
    public void Train_SecondSigint_EndsTheProcessWithoutFinishingTheStep()
    {
        string run = Path.Combine(dir, "run");
        // Three long steps (8,000 images each on one thread): after the first signal the process would finish the
        // step it is in and save a checkpoint; the second signal must end it before that.
        using var cli = new CliProcess("train", "--limit", "24000", "--batch-size", "8000", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.That(cli.WaitFor("Epoch 1/1", TimeSpan.FromSeconds(120)), Is.True, cli.Error);

        cli.Signal("INT");
        Assert.That(cli.WaitFor("Stopping after the current step", TimeSpan.FromSeconds(30)), Is.True, cli.Error);
        cli.Signal("INT");
        cli.Exit(TimeSpan.FromSeconds(30));

        Assert.That(File.Exists(Path.Combine(run, "checkpoint.bin")), Is.False, "the process ended without saving");
        Assert.That(cli.Error, Does.Not.Contain("checkpoint saved"));
    }

    [Test]
    public void Score_Sigterm_LeavesNoPartialPredictions()
    {
        string input = Digits.WritePngFolder(Path.Combine(dir, "digits"), 300);
        string output = Path.Combine(dir, "out", "predictions.csv");

        // Paused once the first image is scored, so the signal always comes mid-run.
        using var cli = CliProcess.PausedAt("score.first-result", "score", "--input", input, "--recursive", "--output", output, "--batch-size", "1", "--threads", "1");
        Assert.That(cli.WaitFor("paused at score.first-result", TimeSpan.FromSeconds(60)), Is.True, cli.Error);
        cli.Signal("TERM");

        Assert.That(cli.Exit(TimeSpan.FromSeconds(30)), Is.EqualTo(130), cli.Error);
        Assert.That(File.Exists(output), Is.False, "predictions are written whole or not at all");
        Assert.That(Directory.Exists(Path.Combine(dir, "out")) ? TempFiles(Path.Combine(dir, "out")) : [], Is.Empty);
    }

    [Test]
    public async Task Export_SigtermDuringVerify_ExitsInterruptedWithTheModelComplete()
    {
        string run = Path.Combine(dir, "run");
        var (trained, _, error) = await CliRunner.Run("train", "--limit", "64", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.That(trained, Is.EqualTo(0), error);
        string onnx = Path.Combine(dir, "model", "m.onnx");

        // Paused once the file is written (and announced), before verification starts.
        using var cli = CliProcess.PausedAt("export.written", "export", "--run", run, "--out", onnx, "--verify", "--verify-images", "300");
        Assert.That(cli.WaitFor("paused at export.written", TimeSpan.FromSeconds(60)), Is.True, cli.Error);
        cli.Signal("TERM");

        Assert.That(cli.Exit(TimeSpan.FromSeconds(60)), Is.EqualTo(130), cli.Output + cli.Error);
        Assert.That(cli.Output, Does.Not.Contain("PASSED"), "verification did not run to the end");
        using var classifier = MlPipeline.Scoring.ImageClassifier.Load(onnx);
        Assert.That(classifier.Labels, Has.Count.EqualTo(10));
        Assert.That(TempFiles(Path.Combine(dir, "model")), Is.Empty);
    }
}
