using MlPipeline.Datasets;

namespace MlPipeline.Cli.Tests;

public sealed class ExportCommandTests
{
    [Test]
    public async Task TrainWithOnnx_SmallRun_ExportsAndVerifies()
    {
        string dir = TempDirectory.Create();
        try
        {
            string onnx = Path.Combine(dir, "model.onnx");

            var (exit, output, error) = await CliRunner.Run("train", "--data", Mnist.Ensure(), "--limit", "256", "--epochs", "1",
                "--out", Path.Combine(dir, "run"), "--onnx", onnx);

            Assert.That(exit, Is.EqualTo(0), error);
            Assert.That(File.Exists(onnx), Is.True);
            Assert.That(output, Does.Contain("Verified on 1000 images").And.Contain("argmax agreement 100.00 %").And.Contain("PASSED"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task Export_OpsetOutOfRange_ExitsTwoNamingIt()
    {
        var (exit, _, error) = await CliRunner.Run("export", "--run", "x", "--out", "y.onnx", "--opset", "12");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--opset must be from 13 to 17, but was 12"));
    }

    [Test]
    public async Task Export_MissingRunFolder_ExitsOneAndWritesNothing()
    {
        string dir = TempDirectory.Create();
        try
        {
            string onnx = Path.Combine(dir, "model.onnx");

            var (exit, _, error) = await CliRunner.Run("export", "--run", Path.Combine(dir, "nope"), "--out", onnx);

            Assert.That(exit, Is.EqualTo(1));
            Assert.That(error, Does.Contain("Run folder").And.Contain("nope").And.Contain("does not exist"));
            Assert.That(Directory.GetFiles(dir), Is.Empty);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
