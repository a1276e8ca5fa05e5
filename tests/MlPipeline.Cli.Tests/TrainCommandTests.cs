using MlPipeline.Datasets;

namespace MlPipeline.Cli.Tests;

public sealed class TrainCommandTests
{
    [TestCase("--batch-size", "0", "--batch-size must be from 1 to 65536, but was 0")]
    [TestCase("--epochs", "-1", "--epochs must be at least 1, but was -1")]
    [TestCase("--model", "vgg", "--model must be one of cnn, mlp, resnet, but was 'vgg'")]
    [TestCase("--lr", "0", "--lr must be a normal positive float32, from 1.17549435E-38 (the smallest normal float32) to 10, but was 0")]
    [TestCase("--lr", "1e-320", "--lr must be a normal positive float32, from 1.17549435E-38 (the smallest normal float32) to 10, but was 1E-320")]
    [TestCase("--threads", "abc", "--threads must be a whole number from 1 to 256, but was 'abc'")]
    [TestCase("--limit", "1.5", "--limit must be a whole number of at least 1, but was '1.5'")]
    [TestCase("--seed", "x", "--seed must be a whole number, but was 'x'")]
    [TestCase("--lr", "fast", "--lr must be a number (such as 0.001 or 1e-3), but was 'fast'")]
    [TestCase("--val-split", "half", "--val-split must be a number (such as 0.001 or 1e-3), but was 'half'")]
    [TestCase("--min-delta", "tiny", "--min-delta must be a number (such as 0.001 or 1e-3), but was 'tiny'")]
    [TestCase("--threads", "0", "--threads must be from 1 to 256")]
    [TestCase("--threads", "100000", "--threads must be from 1 to 256, but was 100000")]
    [TestCase("--lr", "1e39", "to 10, but was 1E+39")]
    [TestCase("--batch-size", "70000", "--batch-size must be from 1 to 65536")]
    [TestCase("--epochs", "many", "many")]
    public async Task Train_BadOptionValue_ExitsTwoNamingTheOption(string option, string value, string message)
    {
        var (exit, _, error) = await CliRunner.Run("train", option, value);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain(message));
        Assert.That(error, Does.Not.Contain("System."), "the value and the range, not a CLR type name");
    }

    [Test]
    public async Task Run_UnknownCommand_ExitsTwo()
    {
        var (exit, _, error) = await CliRunner.Run("fly");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("fly"));
    }

    [Test]
    public async Task Train_SmallRun_WritesRunFolderAndReportsEpochs()
    {
        string dir = TempDirectory.Create();
        try
        {
            string mnist = Mnist.Ensure();
            string run = Path.Combine(dir, "run");

            var (exit, output, error) = await CliRunner.Run("train", "--data", mnist, "--limit", "256", "--epochs", "2", "--threads", "1", "--out", run);

            Assert.That(exit, Is.EqualTo(0), error);
            Assert.That(error, Does.Contain("Epoch 2/2").And.Contain("val_accuracy:"));
            Assert.That(output, Does.Contain("Test accuracy").And.Contain(run));
            Assert.That(output, Does.Contain("micro accuracy").And.Contain("confusion matrix"));
            Assert.That(Directory.GetFiles(run).Select(Path.GetFileName), Is.EquivalentTo(new[] { "checkpoint.bin", "history.json", "model.json", "metrics.json", "run.lock" }));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task Train_ExistingRun_ExitsOneWithoutStackTrace()
    {
        string dir = TempDirectory.Create();
        try
        {
            string mnist = Mnist.Ensure();
            string[] args = ["train", "--data", mnist, "--limit", "64", "--epochs", "1", "--threads", "1", "--out", dir];
            await CliRunner.Run(args);

            var (exit, _, error) = await CliRunner.Run(args);

            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.Contain("error: Run folder").And.Contain("--resume"));
            Assert.That(error, Does.Not.Contain("   at "));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
