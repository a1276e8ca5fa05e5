using MlPipeline.Training;

namespace MlPipeline.Cli.Tests;

/// <summary>Commands that write next to a training run or into folders: nothing already there may be lost.</summary>
[Category("Slow")]
public sealed class RunFolderCommandTests
{
    static string dir = "";
    static string run = "";

    [OneTimeSetUp]
    public static async Task TrainOnce()
    {
        dir = TempDirectory.Create();
        run = Path.Combine(dir, "run");
        var (exit, _, error) = await CliRunner.Run("train", "--limit", "128", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.That(exit, Is.EqualTo(0), error);
    }

    [OneTimeTearDown]
    public static void Delete() => Directory.Delete(dir, recursive: true);

    [TestCase("checkpoint.bin")]
    [TestCase("model.json")]
    [TestCase("history.json")]
    public async Task Export_OutIsOneOfTheRunsFiles_IsRefusedAndTheFileKept(string file)
    {
        string target = Path.Combine(run, file);
        byte[] before = File.ReadAllBytes(target);

        var (exit, _, error) = await CliRunner.Run("export", "--run", run, "--out", target);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain($"is the run's own {file}"));
        Assert.That(File.ReadAllBytes(target), Is.EqualTo(before));
    }

    [Test]
    public async Task Train_FolderLockedByAnotherRun_IsRefusedAndTheOtherRunKept()
    {
        string busy = Path.Combine(dir, "busy");
        using var other = RunFolder.Open(busy);   // what a training process holds for its whole run

        var (exit, _, error) = await CliRunner.Run("train", "--limit", "64", "--epochs", "1", "--threads", "1", "--out", busy);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("is in use: another MlPipeline process holds its lock"));
        Assert.That(Directory.GetFiles(busy).Select(Path.GetFileName), Is.EqualTo(new[] { "run.lock" }));
    }

    [Test]
    public async Task Train_OneEpoch_SaysEpochInTheSingular()
    {
        var (_, output, _) = await CliRunner.Run("train", "--limit", "64", "--epochs", "1", "--threads", "1", "--out", Path.Combine(dir, "single"));

        Assert.That(output, Does.Contain("after 1 epoch.").And.Not.Contain("1 epochs"));
    }

    [Test]
    public async Task Train_ResumeWithMoreEpochs_EqualsAnUninterruptedRun()
    {
        string twice = Path.Combine(dir, "twice"), once = Path.Combine(dir, "once");
        string[] common = ["train", "--limit", "256", "--threads", "1", "--batch-size", "32"];
        Assert.That((await CliRunner.Run([.. common, "--epochs", "1", "--out", twice])).Exit, Is.EqualTo(0));

        var (exit, _, error) = await CliRunner.Run([.. common, "--epochs", "2", "--out", twice, "--resume"]);
        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That((await CliRunner.Run([.. common, "--epochs", "2", "--out", once])).Exit, Is.EqualTo(0));

        using var resumed = TrainedModel.Load(twice);
        using var straight = TrainedModel.Load(once);
        Assert.That(resumed.Info.Epochs, Is.EqualTo(2));
        Assert.That(resumed.Weights(), Is.EqualTo(straight.Weights()));
    }

    [Test]
    public async Task Train_TwoThreadsTwice_GivesBitIdenticalWeights()
    {
        string a = Path.Combine(dir, "threads-a"), b = Path.Combine(dir, "threads-b");
        foreach (string folder in new[] { a, b })
        {
            var (exit, _, error) = await CliRunner.Run("train", "--limit", "512", "--epochs", "1", "--threads", "2", "--out", folder);
            Assert.That(exit, Is.EqualTo(0), error);
        }

        using var first = TrainedModel.Load(a);
        using var second = TrainedModel.Load(b);
        Assert.That(first.Weights(), Is.EqualTo(second.Weights()));
    }

    [Test]
    public async Task DataMnistPng_NonEmptyFolder_IsRefusedUnlessForced()
    {
        string folder = Path.Combine(dir, "png");
        Assert.That((await CliRunner.Run("data", "mnist-png", "--out", folder, "--limit", "20")).Exit, Is.EqualTo(0));
        var before = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

        var (refused, _, error) = await CliRunner.Run("data", "mnist-png", "--out", folder, "--split", "train", "--limit", "20");
        Assert.That(refused, Is.EqualTo(1));
        Assert.That(error, Does.Contain("already holds files").And.Contain("--force"));
        Assert.That(before.All(kv => File.ReadAllBytes(kv.Key).SequenceEqual(kv.Value)), Is.True, "no file was overwritten");

        var (forced, _, forcedError) = await CliRunner.Run("data", "mnist-png", "--out", folder, "--split", "train", "--limit", "20", "--force");
        Assert.That(forced, Is.EqualTo(0), forcedError);
    }

    [Test]
    public async Task Export_VerifyThatFails_ExitsOne()
    {
        // A run whose weights are scaled up a millionfold: logits near 1e10 differ between libtorch and ONNX Runtime
        // by far more than the 1e-4 tolerance in float32, so the verification must report the failure.
        string big = Path.Combine(dir, "big");
        Directory.CreateDirectory(big);
        using (var model = TrainedModel.Load(run))
        {
            var weights = model.Weights().ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => v * 1e3f).ToArray());
            using var scaled = TrainedModel.FromWeights(model.Info, weights);
            scaled.SaveRun(big);
        }

        var (exit, output, error) = await CliRunner.Run("export", "--run", big, "--out", Path.Combine(dir, "big.onnx"), "--verify", "--verify-images", "200");

        Assert.That(exit, Is.EqualTo(1), output + error);
        Assert.That(output, Does.Contain("FAILED"));
    }
}
