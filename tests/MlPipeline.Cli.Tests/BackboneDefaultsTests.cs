using System.Text.Json;

namespace MlPipeline.Cli.Tests;

/// <summary><c>train --backbone</c>'s defaults for a head on a frozen backbone's features: only with a frozen backbone, only for options not given.</summary>
[Category("Slow")]
public sealed class BackboneDefaultsTests
{
    const string AllDefaults = "backbone defaults: --head mlp, --epochs 50, --lr-schedule cosine, --weight-decay 0.05, --label-smoothing 0.1 (tuned for a head on the resnet18 backbone's cached features); give any of these options to change it.";

    string dir = "", data = "", features = "";

    [OneTimeSetUp]
    public async Task ComputeFeaturesOnce()
    {
        dir = TempDirectory.Create();
        data = Digits.WritePngFolder(Path.Combine(dir, "digits"), 12);
        // One run computes the backbone's features; the others start from a copy of its cache.
        string first = Path.Combine(dir, "first");
        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--backbone", "resnet18", "--val-split", "0.3", "--epochs", "1", "--threads", "2", "--out", first);
        Assert.That(exit, Is.Zero, error);
        features = Path.Combine(first, "features.bin");
    }

    [OneTimeTearDown]
    public void RemoveFolder() => Directory.Delete(dir, recursive: true);

    [Test]
    public async Task Train_FrozenBackboneWithoutOptions_AppliesPrintsAndRecordsTheDefaults()
    {
        string run = RunFolder("defaults");
        string[] command = ["train", "--data", data, "--backbone", "resnet18", "--val-split", "0.3", "--threads", "2", "--out", run];

        var (exit, _, error) = await CliRunner.Run(command);

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Contain(AllDefaults));
        Assert.That(error, Does.Contain("Epoch 50/50"));
        using var model = ReadJson(run, "model.json");
        var root = model.RootElement;
        Assert.That(root.GetProperty("epochs").GetInt32(), Is.EqualTo(50));
        Assert.That(root.GetProperty("learningRate").GetDouble(), Is.EqualTo(0.001));
        Assert.That(root.GetProperty("architecture").GetProperty("name").GetString(), Is.EqualTo("resnet18-mlp"));
        Assert.That(root.GetProperty("backbone").GetProperty("head").GetString(), Is.EqualTo("mlp"));
        var training = root.GetProperty("training");
        Assert.That(training.GetProperty("schedule").GetString(), Is.EqualTo("cosine"));
        Assert.That(training.GetProperty("weightDecay").GetDouble(), Is.EqualTo(0.05));
        Assert.That(training.GetProperty("labelSmoothing").GetDouble(), Is.EqualTo(0.1));
        Assert.That(training.GetProperty("earlyStopping").ValueKind, Is.EqualTo(JsonValueKind.Null));
        using (var history = ReadJson(run, "history.json")) { Assert.That(history.RootElement.GetArrayLength(), Is.EqualTo(50)); }

        // The same command resumes: the defaults are the same, so are the settings the checkpoint compares.
        (exit, _, error) = await CliRunner.Run([.. command, "--resume"]);

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Not.Contain("Cannot resume"));
    }

    [Test]
    public async Task Train_FrozenBackboneWithSomeOptions_KeepsThemAndNamesOnlyTheOthers()
    {
        string run = RunFolder("given");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--backbone", "resnet18", "--val-split", "0.3", "--threads", "2", "--out", run,
            "--epochs", "2", "--head", "linear", "--lr-schedule", "constant");

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Contain("backbone defaults: --weight-decay 0.05, --label-smoothing 0.1 (tuned for a head on the resnet18 backbone's cached features); give any of these options to change it."));
        using var model = ReadJson(run, "model.json");
        var root = model.RootElement;
        Assert.That(root.GetProperty("epochs").GetInt32(), Is.EqualTo(2));
        Assert.That(root.GetProperty("backbone").GetProperty("head").GetString(), Is.EqualTo("linear"));
        Assert.That(root.GetProperty("training").GetProperty("schedule").GetString(), Is.EqualTo("constant"));
        Assert.That(root.GetProperty("training").GetProperty("weightDecay").GetDouble(), Is.EqualTo(0.05));
        using var history = ReadJson(run, "history.json");
        Assert.That(history.RootElement.GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public async Task Train_FrozenBackboneWithEveryOption_PrintsNoDefaults()
    {
        string run = RunFolder("all");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--backbone", "resnet18", "--val-split", "0.3", "--threads", "2", "--out", run,
            "--epochs", "1", "--head", "mlp", "--lr-schedule", "cosine", "--weight-decay", "0", "--label-smoothing", "0");

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Not.Contain("backbone defaults"));
        using var model = ReadJson(run, "model.json");
        Assert.That(model.RootElement.GetProperty("training").GetProperty("weightDecay").GetDouble(), Is.Zero);
        Assert.That(model.RootElement.GetProperty("training").GetProperty("labelSmoothing").GetDouble(), Is.Zero);
    }

    [Test]
    public async Task Train_WithoutBackbone_KeepsTheGeneralDefaults()
    {
        string run = Path.Combine(dir, "scratch");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--val-split", "0.3", "--threads", "2", "--out", run);

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Not.Contain("backbone defaults"));
        AssertGeneralDefaults(run, 5);
    }

    [Test]
    public async Task Train_FineTunedBackbone_KeepsTheGeneralDefaults()
    {
        string run = Path.Combine(dir, "fine-tuned");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--backbone", "resnet18", "--fine-tune", "1", "--val-split", "0.3", "--threads", "2", "--out", run);

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Not.Contain("backbone defaults"));
        AssertGeneralDefaults(run, 5);
        using var model = ReadJson(run, "model.json");
        Assert.That(model.RootElement.GetProperty("backbone").GetProperty("head").GetString(), Is.EqualTo("linear"));
    }

    /// <summary>A new run folder holding a copy of the features' cache.</summary>
    string RunFolder(string name)
    {
        string run = Path.Combine(dir, name);
        Directory.CreateDirectory(run);
        File.Copy(features, Path.Combine(run, "features.bin"));
        return run;
    }

    static JsonDocument ReadJson(string run, string file) => JsonDocument.Parse(File.ReadAllText(Path.Combine(run, file)));

    static void AssertGeneralDefaults(string run, int epochs)
    {
        using var model = ReadJson(run, "model.json");
        var root = model.RootElement;
        Assert.That(root.GetProperty("epochs").GetInt32(), Is.EqualTo(epochs));
        var training = root.GetProperty("training");
        Assert.That(training.GetProperty("schedule").GetString(), Is.EqualTo("constant"));
        Assert.That(training.GetProperty("weightDecay").GetDouble(), Is.Zero);
        Assert.That(training.GetProperty("labelSmoothing").GetDouble(), Is.Zero);
        using var history = ReadJson(run, "history.json");
        Assert.That(history.RootElement.GetArrayLength(), Is.EqualTo(epochs));
    }
}
