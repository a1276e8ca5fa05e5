using System.Globalization;
using System.Text;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Evaluation;

/// <summary>
/// The outcome of evaluating a classifier on labelled images: the metrics, the misclassified images (most confident
/// mistakes first), and the images that could not be scored with the reason. Paths are relative to <see cref="Root"/>.
/// </summary>
public sealed record EvaluationReport(string ModelSource, string Root, ClassificationMetrics Metrics, IReadOnlyList<Misclassification> Misclassified, IReadOnlyList<ScoreResult> Failed, int Ignored)
{
    /// <summary>File names <see cref="WriteTo"/> uses inside the report folder.</summary>
    public const string MetricsFile = "metrics.json", ConfusionCsvFile = "confusion.csv", MisclassifiedFile = "misclassified.csv",
        ErrorsFile = "errors.csv", ConfusionPlotFile = "confusion.png", MistakesPlotFile = "mistakes.png", TrainingCurvesFile = "training-curves.png";

    /// <summary>
    /// Writes the report into <paramref name="directory"/>, each file atomically: <c>metrics.json</c>, <c>confusion.csv</c>,
    /// <c>misclassified.csv</c>, <c>errors.csv</c> (only when some images failed), the plots <c>confusion.png</c> and
    /// <c>mistakes.png</c>, and <c>training-curves.png</c> when a training run's <c>history.json</c> is given.
    /// Returns the paths written.
    /// </summary>
    public IReadOnlyList<string> WriteTo(string directory, string? trainingHistory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        // Read the history first so that a bad one fails before anything is written.
        byte[]? curves = trainingHistory is null ? null : EvaluationPlots.TrainingCurves(trainingHistory);
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        void Write(string name, byte[] bytes)
        {
            string path = Path.Combine(directory, name);
            AtomicFile.WriteAllBytes(path, bytes);
            written.Add(path);
        }
        Write(MetricsFile, Encoding.UTF8.GetBytes(Metrics.ToJson() + "\n"));
        Write(ConfusionCsvFile, Encoding.UTF8.GetBytes(Metrics.ConfusionCsv()));
        Write(MisclassifiedFile, Encoding.UTF8.GetBytes(MisclassifiedCsv()));
        string errors = Path.Combine(directory, ErrorsFile);
        if (Failed.Count > 0)
        {
            Write(ErrorsFile, Encoding.UTF8.GetBytes(Csv.Format(Failed.Select(f => (IReadOnlyList<string>)[f.Path, f.Error ?? ""]).Prepend(["path", "error"]))));
        }
        else if (File.Exists(errors))
        {
            // A clean rerun into the same folder must not leave the previous run's failures beside the new figures.
            File.Delete(errors);
        }
        Write(ConfusionPlotFile, EvaluationPlots.ConfusionMatrix(Metrics));
        Write(MistakesPlotFile, EvaluationPlots.Mistakes(this));
        if (curves is not null) { Write(TrainingCurvesFile, curves); }
        return written;
    }

    /// <summary>The misclassified images as CSV: <c>path,actual,predicted,confidence,actual_probability</c>, most confident mistakes first.</summary>
    public string MisclassifiedCsv()
    {
        return Csv.Format(Misclassified
            .Select(m => (IReadOnlyList<string>)[m.Path, m.Actual, m.Predicted, m.Confidence.ToString("0.######", CultureInfo.InvariantCulture), m.ActualProbability.ToString("0.######", CultureInfo.InvariantCulture)])
            .Prepend(["path", "actual", "predicted", "confidence", "actual_probability"]));
    }
}
