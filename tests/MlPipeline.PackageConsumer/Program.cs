// Scores a folder of images with MlPipeline's NuGet package, twice: through ImageClassifier.ScoreFolder and through an
// ML.NET pipeline of the app's own (ScoreImageClassifier, MapKeyToValue). Prints one line per image, "relative
// path,label,confidence" (the first three columns of 'mlpipeline score', numbers as it writes them), and exits 1 when
// the two disagree.
using System.Globalization;
using Microsoft.ML;
using MlPipeline.Scoring;

if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: MlPipeline.PackageConsumer FOLDER [MODEL.onnx]  (without a model: the built-in MNIST model)");
    return 2;
}

string folder = args[0];
using ImageClassifier classifier = args.Length == 2 ? ImageClassifier.Load(args[1]) : ImageClassifier.LoadBuiltInMnist();

var byFolder = new SortedDictionary<string, Prediction>(StringComparer.Ordinal);
int failed = 0;
foreach (ScoreResult result in classifier.ScoreFolder(folder, recursive: true))
{
    string relative = result.Path;   // relative to the folder, with forward slashes
    if (result.Prediction is { } prediction)
    {
        byFolder[relative] = prediction;
    }
    else
    {
        failed++;
        Console.Error.WriteLine($"{relative}: {result.Error}");
    }
}

foreach ((string path, Prediction prediction) in byFolder)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{path},{prediction.Label},{prediction.Confidence:0.######}"));
}

var ml = new MLContext(seed: 0);
IDataView rows = ml.Data.LoadFromEnumerable(byFolder.Keys.Select(path => new ImageRow { Path = path }));
var pipeline = ml.Transforms.ScoreImageClassifier(classifier, nameof(ImageRow.Path), imageFolder: folder)
    .Append(ml.Transforms.Conversion.MapKeyToValue(nameof(LabelledRow.Label), "PredictedLabel"));
IDataView scored = pipeline.Fit(rows).Transform(rows);
int disagreements = 0;
foreach (LabelledRow row in ml.Data.CreateEnumerable<LabelledRow>(scored, reuseRowObject: false))
{
    if (row.Label != byFolder[row.Path].Label)
    {
        disagreements++;
        Console.Error.WriteLine($"{row.Path}: the ML.NET pipeline says {row.Label}, ScoreFolder {byFolder[row.Path].Label}");
    }
}

Console.Error.WriteLine($"scored {byFolder.Count}, failed {failed}; the ML.NET pipeline agreed on {byFolder.Count - disagreements} of {byFolder.Count}");
return disagreements == 0 && byFolder.Count > 0 ? 0 : 1;

sealed class ImageRow
{
    public string Path { get; set; } = "";
}

sealed class LabelledRow
{
    public string Path { get; set; } = "";
    public string Label { get; set; } = "";
}
