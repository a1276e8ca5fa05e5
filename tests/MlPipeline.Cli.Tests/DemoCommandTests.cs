using System.Text.Json;

namespace MlPipeline.Cli.Tests;

[Category("Slow")]
public sealed class DemoCommandTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    [Test]
    public async Task Demo_Quick_RunsTheWholeLifecycleAndReusesTheRunTheSecondTime()
    {
        string root = Path.Combine(dir, "demo");

        var (exit, output, error) = await CliRunner.Run("demo", "--quick", "--out", root, "--threads", "2");

        Assert.That(exit, Is.EqualTo(0), output + error);
        Assert.That(output, Does.Contain("[6/6] Evaluate").And.Contain("PASSED").And.Contain("Demo finished"));
        foreach (string file in new[] { "run/model.json", "run/metrics.json", "mnist-cnn.onnx", "predictions.csv", "report/metrics.json", "report/confusion.png", "report/mistakes.png", "report/training-curves.png" })
        {
            Assert.That(File.Exists(Path.Combine(root, file)), Is.True, file);
        }
        Assert.That(File.ReadAllLines(Path.Combine(root, "predictions.csv")), Has.Length.EqualTo(10_001));
        // The ONNX model through the ML.NET pipeline on PNG files gives the training loop's figure.
        double training = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "run", "metrics.json"))).RootElement.GetProperty("microAccuracy").GetDouble();
        double scored = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "report", "metrics.json"))).RootElement.GetProperty("microAccuracy").GetDouble();
        Assert.That(scored, Is.EqualTo(training).Within(0.001));
        Assert.That(training, Is.GreaterThan(0.95));

        var again = await CliRunner.Run("demo", "--quick", "--out", root, "--threads", "2");

        Assert.That(again.Exit, Is.EqualTo(0), again.Error);
        Assert.That(again.Out, Does.Contain("Reusing the finished run"));
    }
}
