using MlPipeline.Data;

namespace MlPipeline.Cli.Tests;

public sealed class EvaluateCommandTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string DigitFolder(int count) => Digits.WritePngFolder(Path.Combine(dir, "digits"), count);

    [Test]
    public async Task Evaluate_ClassFolders_PrintsTheTableAndWritesTheReport()
    {
        string folder = DigitFolder(200);
        string report = Path.Combine(dir, "report");

        var (exit, output, error) = await CliRunner.Run("evaluate", "--input", folder, "--report", report);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("micro accuracy").And.Contain("confusion matrix").And.Contain("precision"));
        Assert.That(output, Does.Contain("Images: 200 scored, 0 failed"));
        foreach (string file in new[] { "metrics.json", "confusion.csv", "misclassified.csv", "confusion.png", "mistakes.png" })
        {
            Assert.That(File.Exists(Path.Combine(report, file)), Is.True, file);
        }
    }

    [Test]
    public async Task Evaluate_FolderWithTiffFiles_SaysOnceTheyAreNotSupported()
    {
        string folder = DigitFolder(20);
        File.WriteAllText(Path.Combine(folder, "7", "scan.tif"), "II*");
        File.WriteAllText(Path.Combine(folder, "1", "scan.tiff"), "II*");

        var (exit, _, error) = await CliRunner.Run("evaluate", "--input", folder);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(error, Does.Contain("warning: 2 file(s) in an image format that is not supported (1 .tif, 1 .tiff) were skipped; the supported formats are png, jpg, jpeg, bmp, gif, webp"));
        Assert.That(error.Split("not supported").Length, Is.EqualTo(2), "said once");
    }

    [Test]
    public async Task Evaluate_LabelsCsvWithABadFile_ExitsThreeAndReportsIt()
    {
        string folder = DigitFolder(30);
        File.WriteAllText(Path.Combine(folder, "broken.png"), "not a png");
        string csv = Path.Combine(dir, "labels.csv");
        var rows = Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f))
            .Select(r => $"{r},{(r == "broken.png" ? "4" : r.Split(Path.DirectorySeparatorChar)[0])}");
        File.WriteAllLines(csv, rows.Prepend("path,label"));

        var (exit, output, error) = await CliRunner.Run("evaluate", "--input", folder, "--labels", csv);

        Assert.That(exit, Is.EqualTo(3), error);
        Assert.That(output, Does.Contain("Images: 30 scored, 1 failed"));
        Assert.That(error, Does.Contain("broken.png").And.Contain("not a readable image"));
    }

    [Test]
    public async Task Evaluate_MissingRunFolder_ExitsOneNamingIt()
    {
        string folder = DigitFolder(5);
        string report = Path.Combine(dir, "report");

        var (exit, _, error) = await CliRunner.Run("evaluate", "--input", folder, "--report", report, "--run", Path.Combine(dir, "no-run"));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("no-run").And.Contain("history.json"));
        Assert.That(Directory.Exists(report), Is.False);
    }

    [Test]
    public async Task Evaluate_UnknownLabels_ExitsOneListingThem()
    {
        string folder = DigitFolder(5);
        string csv = Path.Combine(dir, "labels.csv");
        File.WriteAllLines(csv, Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories).Select(f => $"{Path.GetRelativePath(folder, f)},seven"));

        var (exit, _, error) = await CliRunner.Run("evaluate", "--input", folder, "--labels", csv);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("'seven'").And.Contain("not among the labels"));
        Assert.That(error, Does.Not.Contain("   at "));
    }
}
