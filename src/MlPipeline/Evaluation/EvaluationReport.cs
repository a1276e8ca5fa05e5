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
    /// <summary>File names <c>WriteTo</c> (MlPipeline.Reporting) uses inside the report folder.</summary>
    public const string MetricsFile = "metrics.json", ConfusionCsvFile = "confusion.csv", MisclassifiedFile = "misclassified.csv",
        ErrorsFile = "errors.csv", ConfusionPlotFile = "confusion.png", MistakesPlotFile = "mistakes.png", TrainingCurvesFile = "training-curves.png";

    /// <summary>
    /// The marker <c>WriteTo</c> leaves in a report folder: a folder that holds files is written into only when it holds
    /// this one (an earlier report), so that a user's own <c>confusion.csv</c> or <c>errors.csv</c> is never replaced.
    /// </summary>
    public const string MarkerFile = ".mlpipeline-report";

    /// <summary>Every file name <c>WriteTo</c> may write in a report folder.</summary>
    public static IReadOnlyList<string> Files { get; } = [MetricsFile, ConfusionCsvFile, MisclassifiedFile, ErrorsFile, ConfusionPlotFile, MistakesPlotFile, TrainingCurvesFile, MarkerFile];

    /// <summary>The misclassified images as CSV: <c>path,actual,predicted,confidence,actual_probability</c>, most confident mistakes first.</summary>
    public string MisclassifiedCsv()
    {
        return Csv.Format(Misclassified
            .Select(m => (IReadOnlyList<string>)[m.Path, m.Actual, m.Predicted, m.Confidence.ToString("0.######", CultureInfo.InvariantCulture), m.ActualProbability.ToString("0.######", CultureInfo.InvariantCulture)])
            .Prepend(["path", "actual", "predicted", "confidence", "actual_probability"]));
    }
}
