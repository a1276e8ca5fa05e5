namespace MlPipeline.Cli.Tests;

/// <summary><c>train --data FOLDER</c> against data that must not be trained on as given: sets that share files, conflicting split options.</summary>
public sealed class TrainDataTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    [TestCase("--test")]
    [TestCase("--val")]
    public async Task Train_SetIsTheDataFolder_ExitsTwoNamingAFileAndTheCount(string option)
    {
        string data = Digits.WritePngFolder(Path.Combine(dir, "digits"), 20);
        string run = Path.Combine(dir, "run");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, option, data, "--epochs", "1", "--out", run);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain($"and the training set '{data}' share 20 file(s), for example '{Path.Combine(data, "0")}"));
        Assert.That(error, Does.Not.Contain("Read "), "refused before any image is decoded");
        Assert.That(Directory.Exists(run), Is.False);
    }

    [Test]
    public async Task Train_ValTogetherWithValSplit_ExitsTwoNamingBoth()
    {
        string data = Digits.WritePngFolder(Path.Combine(dir, "digits"), 20);
        string val = Digits.WritePngFolder(Path.Combine(dir, "val"), 10);

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--val", val, "--val-split", "0.3", "--epochs", "1", "--out", Path.Combine(dir, "run"));

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain($"Give either --val {val} (a validation set) or --val-split 0.3 (a share of --data held out), not both"));
    }
}
