using MlPipeline.Data;

namespace MlPipeline.Cli.Tests;

public sealed class ScoreCommandTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string DigitFolder(int count) => Digits.WritePngFolder(Path.Combine(dir, "in put ü"), count);

    [Test]
    public async Task Score_GoodFolder_ExitsZeroAndWritesCsvWithRelativePaths()
    {
        string folder = DigitFolder(25);
        string output = Path.Combine(dir, "out", "predictions.csv");

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", output, "--top-k", "2");

        Assert.That(exit, Is.EqualTo(0), error);
        var lines = File.ReadAllLines(output);
        Assert.That(lines[0], Is.EqualTo("path,label,confidence,top1_label,top1_probability,top2_label,top2_probability"));
        Assert.That(lines, Has.Length.EqualTo(26));
        Assert.That(lines[1], Does.StartWith("0/"));
        Assert.That(error, Does.Contain("Scored 25, skipped 0 non-image or special files, failed 0"));
        Assert.That(File.Exists(Path.Combine(dir, "out", "predictions.csv.errors.csv")), Is.False);
    }

    [Test]
    public async Task Score_FolderWithABadFile_ExitsThreeAndWritesTheErrorsFile()
    {
        string folder = DigitFolder(10);
        File.WriteAllText(Path.Combine(folder, "broken.png"), "nope");
        string output = Path.Combine(dir, "predictions.jsonl");

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", output);

        Assert.That(exit, Is.EqualTo(3));
        Assert.That(File.ReadAllLines(output), Has.Length.EqualTo(10));
        Assert.That(File.ReadAllText(Path.Combine(dir, "predictions.csv.errors.csv")), Does.Contain("broken.png,\"not a readable image (expected PNG"));
        Assert.That(error, Does.Contain("failed 1"));
    }

    [Test]
    public async Task Score_MissingFolder_ExitsOneAndLeavesNoOutput()
    {
        string output = Path.Combine(dir, "predictions.csv");

        var (exit, _, error) = await CliRunner.Run("score", "--input", Path.Combine(dir, "absent"), "--output", output);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("absent").And.Contain("does not exist"));
        Assert.That(Directory.GetFiles(dir), Is.Empty);
    }

    [TestCase("--color", "purple", "purple")]
    [TestCase("--top-k", "0", "--top-k must be at least 1")]
    public async Task Score_BadOption_ExitsTwo(string option, string value, string message)
    {
        var (exit, _, error) = await CliRunner.Run("score", "--input", dir, option, value);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain(message));
    }
}
