namespace MlPipeline.Cli.Tests;

/// <summary><c>train --backbone resnet18</c> on a folder of gray digits, end to end through the one-file export and <c>score</c> with no flags.</summary>
[Category("Slow")]
public sealed class TransferCommandTests
{
    [Test]
    public async Task Train_BackboneOnGrayFolder_ConvertsWithANoteExportsAndScoresWithoutFlags()
    {
        string dir = TempDirectory.Create();
        try
        {
            string data = Digits.WritePngFolder(Path.Combine(dir, "digits"), 60);
            string run = Path.Combine(dir, "run"), onnx = Path.Combine(dir, "m.onnx"), predictions = Path.Combine(dir, "p.csv");

            var (exit, output, error) = await CliRunner.Run("train", "--data", data, "--backbone", "resnet18", "--head", "mlp", "--color", "gray",
                "--background", "white", "--epochs", "3", "--threads", "2", "--out", run, "--onnx", onnx);

            Assert.That(exit, Is.Zero, error);
            Assert.That(error, Does.Contain("note: the resnet18 backbone takes RGB images; gray images are read as three equal channels."));
            Assert.That(error, Does.Contain("read as 224x224 rgb"));
            Assert.That(error, Does.Match(@"Backbone features: \d+ computed in [\d.]+ s \([\d.]+ images/s\), 0 from the run folder's cache\."));
            Assert.That(output, Does.Contain("PASSED"));
            Assert.That(File.Exists(Path.Combine(run, "features.bin")), Is.True);
            using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx))
            {
                // How the files were read is recorded, so that scoring reads them alike with no flags.
                Assert.That(session.ModelMetadata.CustomMetadataMap["mlpipeline.background"], Is.EqualTo("white"));
                Assert.That(session.ModelMetadata.CustomMetadataMap["mlpipeline.color_mode"], Is.EqualTo("rgb"));
            }

            (exit, _, error) = await CliRunner.Run("score", "--model", onnx, "--input", data, "--recursive", "--output", predictions);

            Assert.That(exit, Is.Zero, error);
            var rows = File.ReadAllLines(predictions);
            Assert.That(rows, Has.Length.EqualTo(61));
            Assert.That(rows.Skip(1).All(r => r.Split(',')[1].Length == 1), Is.True, "every image has a digit label");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task Train_BackboneResumeAfterOneImageChanged_ExitsOneNamingItsClass()
    {
        string dir = TempDirectory.Create();
        try
        {
            string data = Digits.WritePngFolder(Path.Combine(dir, "digits"), 12), run = Path.Combine(dir, "run");
            // A constant rate: the default cosine schedule is set over the run's epochs, so a resume with more is refused for that first.
            string[] common = ["train", "--data", data, "--backbone", "resnet18", "--lr-schedule", "constant", "--val-split", "0.3", "--threads", "2", "--out", run];
            var (exit, _, error) = await CliRunner.Run([.. common, "--epochs", "1"]);
            Assert.That(exit, Is.Zero, error);
            string changed = Directory.GetFiles(Path.Combine(data, "1")).Order(StringComparer.Ordinal).First();
            File.WriteAllBytes(changed, Digits.Png(100));

            (exit, _, error) = await CliRunner.Run([.. common, "--epochs", "2", "--resume"]);

            Assert.That(exit, Is.EqualTo(1), error);
            Assert.That(error, Does.Contain("class '1' of the training set has the same").And.Contain("file count but other files or content"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
