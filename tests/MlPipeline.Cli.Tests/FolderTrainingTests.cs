using MlPipeline.Training;

namespace MlPipeline.Cli.Tests;

/// <summary><c>train --data FOLDER</c>: the user's own images, end to end through export, score and evaluate with no preprocessing flags.</summary>
[Category("Slow")]
public sealed class FolderTrainingTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>Fashion-MNIST-like input made from MNIST digits: 3 classes of 40 images, upscaled to 32x32 colour.</summary>
    string ColourDigits()
    {
        string root = Path.Combine(dir, "digits");
        var test = Digits.Mnist.Test;
        var counts = new Dictionary<int, int>();
        for (int i = 0; i < test.Count && counts.Values.Sum() < 120; i++)
        {
            int label = test.Labels.Span[i];
            if (label > 2 || counts.GetValueOrDefault(label) >= 40) { continue; }
            counts[label] = counts.GetValueOrDefault(label) + 1;
            using var bitmap = new SkiaSharp.SKBitmap(32, 32);
            for (int y = 0; y < 32; y++)
            {
                for (int x = 0; x < 32; x++)
                {
                    byte v = test.Image(i)[(y * 28 / 32 * 28) + (x * 28 / 32)];
                    bitmap.SetPixel(x, y, new SkiaSharp.SKColor(v, (byte)(v / 2), (byte)(255 - v)));
                }
            }
            using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
            string path = Path.Combine(root, $"class {label}", $"{i}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100).ToArray());
        }
        return root;
    }

    [Test]
    public async Task Train_ColourFolderWithNormalize_ExportsAModelThatScoresAndEvaluatesWithoutFlags()
    {
        string data = ColourDigits();
        File.WriteAllBytes(Path.Combine(data, "class 1", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        string run = Path.Combine(dir, "run"), onnx = Path.Combine(dir, "m.onnx");

        var (exit, output, error) = await CliRunner.Run("train", "--data", data, "--epochs", "3", "--threads", "1", "--batch-size", "16", "--normalize", "--out", run, "--onnx", onnx);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(error, Does.Contain("121 images in 3 classes, read as 32x32 rgb").And.Contain("96 training, 24 validation images"));
        Assert.That(error, Does.Contain("1 file(s) could not be read").And.Contain(RunFolder.DataErrorsFile).And.Contain("broken.png"));
        Assert.That(output, Does.Contain("PASSED"));
        var errors = File.ReadAllLines(Path.Combine(run, RunFolder.DataErrorsFile));
        Assert.That(errors, Has.Length.EqualTo(2));
        Assert.That(errors[0], Is.EqualTo("path,error"));
        Assert.That(errors[1], Does.Contain("broken.png"));
        using (var model = TrainedModel.Load(run))
        {
            var p = model.Info.Preprocessing;
            Assert.That(model.Info.Labels, Is.EqualTo(new[] { "class 0", "class 1", "class 2" }));
            Assert.That(model.Architecture.InputChannels, Is.EqualTo(3));
            Assert.That((p.Width, p.Height), Is.EqualTo((32, 32)));
            // The colours differ per channel (red v, green v/2, blue 255-v), so --normalize gives three different means.
            Assert.That(p.Offsets.Distinct().Count(), Is.EqualTo(3), p.ToString());
            using var classifier = MlPipeline.Scoring.ImageClassifier.Load(onnx);
            Assert.That(classifier.Preprocessing, Is.EqualTo(p), "the ONNX metadata carries the per-channel normalisation");
        }
        File.Delete(Path.Combine(data, "class 1", "broken.png"));
        var (evaluated, table, evaluateError) = await CliRunner.Run("evaluate", "--model", onnx, "--input", data);
        Assert.That(evaluated, Is.EqualTo(0), evaluateError);
        Assert.That(table, Does.Contain("120 images, 3 classes"));
        var (scored, _, scoreError) = await CliRunner.Run("score", "--model", onnx, "--input", data, "--recursive", "--output", Path.Combine(dir, "p.csv"));
        Assert.That(scored, Is.EqualTo(0), scoreError);
    }

    [Test]
    public async Task Train_EarlyStoppingAugmentationAndSchedule_ShowsTheStopAndExportsTheBestEpoch()
    {
        string data = ColourDigits();
        string run = Path.Combine(dir, "run"), onnx = Path.Combine(dir, "m.onnx");

        // A min delta no epoch can reach: epoch 1 stays the best and patience 1 stops after epoch 2.
        var (exit, output, error) = await CliRunner.Run("train", "--data", data, "--epochs", "5", "--threads", "1", "--batch-size", "16",
            "--early-stopping", "1", "--min-delta", "10", "--augment", "light", "--lr-schedule", "cosine", "--class-weights", "balanced",
            "--out", run, "--onnx", onnx);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(error, Does.Contain("Epoch 2/5").And.Not.Contain("Epoch 3/5"));
        Assert.That(error, Does.Contain("(best so far)").And.Contain("- lr: "));
        Assert.That(error, Does.Contain("Early stopping: no improvement for 1 epoch; keeping the weights of epoch 1."));
        Assert.That(output, Does.Contain("after 2 epochs, with the weights of epoch 1").And.Contain("PASSED"));
        using var model = TrainedModel.Load(run);
        Assert.That(model.Info.BestEpoch, Is.EqualTo(1));
        Assert.That(model.Info.Training!.Augmentation, Is.EqualTo("flip,shift=0.1"));
        Assert.That(File.Exists(Path.Combine(run, RunFolder.BestCheckpointFile)), Is.True);
    }

    [Test]
    public async Task Train_Folder_CachesTheDecodedImagesInTheRunFolder_AndResumeReusesThem()
    {
        string data = ColourDigits();
        string run = Path.Combine(dir, "run"), memory = Path.Combine(dir, "memory");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--epochs", "1", "--threads", "1", "--model", "mlp", "--out", run);
        var (resumed, _, resumeError) = await CliRunner.Run("train", "--data", data, "--epochs", "2", "--threads", "1", "--model", "mlp", "--out", run, "--resume");
        var (inMemory, _, memoryError) = await CliRunner.Run("train", "--data", data, "--epochs", "1", "--threads", "1", "--model", "mlp", "--out", memory, "--image-cache", "memory");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(error, Does.Match(@"Decoding the training images into the cache: 120/120 in [0-9.]+ s \([0-9]+ images/s\)"));
        Assert.That(File.Exists(Path.Combine(run, "images-training.bin")), Is.True);
        Assert.That(resumed, Is.EqualTo(0), resumeError);
        Assert.That(resumeError, Does.Contain($"Reused the 120 decoded training images of {Path.Combine(run, "images-training.bin")}").And.Not.Contain("Decoding"));
        Assert.That(inMemory, Is.EqualTo(0), memoryError);
        Assert.That(memoryError, Does.Match(@"Decoding the training images: 120/120 in "));
        Assert.That(Directory.GetFiles(memory, "images-*"), Is.Empty);
        // One thread, one seed: the same first epoch whichever way the images were kept.
        string First(string folder) => System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.HistoryFile))).RootElement[0].GetProperty("trainLoss").ToString();
        Assert.That(First(run), Is.EqualTo(First(memory)));
    }

    [Test]
    public async Task Train_ImageCacheWithMnist_ExitsTwoNamingTheOption()
    {
        var (exit, _, error) = await CliRunner.Run("train", "--image-cache", "memory", "--epochs", "1", "--out", Path.Combine(dir, "run"));

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("--image-cache applies to image folders; MNIST's images are held in memory"));
        Assert.That(Directory.Exists(Path.Combine(dir, "run")), Is.False);
    }

    [Test]
    public async Task Train_SizeTooSmallForTheModel_IsAnErrorNamingTheSizeAndWritesNothing()
    {
        string data = ColourDigits();
        string run = Path.Combine(dir, "run");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--size", "6x6", "--epochs", "1", "--out", run);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("leaves no output from an input of size"));
        // Found after the images were decoded into the new run folder's cache: the folder goes with it.
        Assert.That(Directory.Exists(run), Is.False);
    }

    [TestCase("--val-split", "1.5", "--val-split must be above 0 and below 1")]
    [TestCase("--color", "bgr", "bgr")]
    [TestCase("--size", "0x9", "--size must be WIDTHxHEIGHT with numbers from 1 to 4096")]
    public async Task Train_BadFolderOption_ExitsTwo(string option, string value, string message)
    {
        var (exit, _, error) = await CliRunner.Run("train", "--data", ColourDigits(), option, value, "--out", Path.Combine(dir, "run"));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain(message));
        Assert.That(Directory.Exists(Path.Combine(dir, "run")), Is.False);
    }
}
