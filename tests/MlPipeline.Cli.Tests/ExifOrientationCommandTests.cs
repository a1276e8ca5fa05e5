using MlPipeline.Training;
using SkiaSharp;

namespace MlPipeline.Cli.Tests;

/// <summary><c>--ignore-exif</c> on score, evaluate and train, against JPEGs stored sideways with their EXIF orientation tag.</summary>
public sealed class ExifOrientationCommandTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>The first <paramref name="count"/> MNIST test digits as JPEGs stored turned and tagged 6 (shown turned clockwise), in a folder per label.</summary>
    string SidewaysDigits(int count)
    {
        string root = Path.Combine(dir, "sideways");
        var test = Digits.Mnist.Test;
        for (int i = 0; i < count; i++)
        {
            using var digit = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Bgra8888, SKAlphaType.Unpremul));
            for (int p = 0; p < 784; p++) { digit.SetPixel(p % 28, p / 28, new SKColor(test.Image(i)[p], test.Image(i)[p], test.Image(i)[p])); }
            using var stored = ExifJpeg.Stored(digit, 6);
            string path = Path.Combine(root, test.ClassNames[test.Labels.Span[i]], $"{i:D2}.jpg");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, ExifJpeg.Tagged(stored, 6));
        }
        return root;
    }

    /// <summary>Rows of a predictions CSV whose label is the file's class folder.</summary>
    static int Right(string csv) => File.ReadLines(csv).Skip(1).Select(l => l.Split(',')).Count(f => f[0].Split('/')[0] == f[1]);

    [Test]
    public async Task ScoreAndEvaluate_SidewaysTaggedDigits_AreUprightUnlessIgnoreExif()
    {
        string folder = SidewaysDigits(30);
        string upright = Path.Combine(dir, "upright.csv"), stored = Path.Combine(dir, "stored.csv");

        var (exit, _, error) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", upright);
        var (ignoredExit, _, ignoredError) = await CliRunner.Run("score", "--input", folder, "--recursive", "--output", stored, "--ignore-exif");
        var (evaluated, _, evaluateError) = await CliRunner.Run("evaluate", "--input", folder, "--report", Path.Combine(dir, "report"));
        var (evaluatedIgnoring, _, ignoringError) = await CliRunner.Run("evaluate", "--input", folder, "--report", Path.Combine(dir, "report-ignoring"), "--ignore-exif");

        Assert.That((exit, ignoredExit, evaluated, evaluatedIgnoring), Is.EqualTo((0, 0, 0, 0)), error + ignoredError + evaluateError + ignoringError);
        Assert.That(Right(upright), Is.GreaterThanOrEqualTo(28));
        Assert.That(Right(stored), Is.LessThan(15), "the digits as stored lie on their side");
        int Mistakes(string report) => File.ReadLines(Path.Combine(dir, report, "misclassified.csv")).Count() - 1;
        Assert.That(Mistakes("report"), Is.EqualTo(30 - Right(upright)));
        Assert.That(Mistakes("report-ignoring"), Is.EqualTo(30 - Right(stored)));
    }

    [Test]
    [Category("Slow")]
    public async Task Train_IgnoreExif_IsRecordedInModelJsonAndTheOnnxMetadata()
    {
        string data = SidewaysDigits(40);
        string run = Path.Combine(dir, "run"), onnx = Path.Combine(dir, "m.onnx");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--ignore-exif", "--model", "mlp", "--epochs", "1", "--threads", "1", "--val-split", "0.5", "--out", run, "--onnx", onnx);

        Assert.That(exit, Is.EqualTo(0), error);
        using var model = TrainedModel.Load(run);
        Assert.That(model.Info.Preprocessing.IgnoreExifOrientation, Is.True);
        using var classifier = MlPipeline.Scoring.ImageClassifier.Load(onnx);
        Assert.That(classifier.Preprocessing, Is.EqualTo(model.Info.Preprocessing), "the ONNX metadata carries it to scoring");
    }
}
