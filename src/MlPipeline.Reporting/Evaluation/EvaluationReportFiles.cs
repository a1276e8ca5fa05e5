using System.Text;
using MlPipeline.Internals;

namespace MlPipeline.Evaluation;

/// <summary>An evaluation report as files in a folder.</summary>
public static class EvaluationReportFiles
{
    /// <summary>
    /// Checks, before any work, that a report can be written into <paramref name="directory"/>: missing, empty, or a
    /// folder an earlier report wrote (it holds <see cref="EvaluationReport.MarkerFile"/>).
    /// </summary>
    /// <exception cref="IOException">The path is a file, or a folder of other files; the message names one.</exception>
    public static void RequireUsable(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        OutputPaths.RequireNewEmptyOrOwn(directory, EvaluationReport.MarkerFile, "The report folder",
            $"a report writes {string.Join(", ", EvaluationReport.Files.SkipLast(1))} there and would replace or delete files of those names");
    }

    /// <summary>
    /// Writes the report into <paramref name="directory"/>, each file atomically: <c>metrics.json</c>, <c>confusion.csv</c>,
    /// <c>misclassified.csv</c>, <c>errors.csv</c> (only when some images failed), the plots <c>confusion.png</c> and
    /// <c>mistakes.png</c>, and <c>training-curves.png</c> when a training run's <c>history.json</c> is given.
    /// Returns the paths written. A folder that holds files is written into only when an earlier report left its
    /// <see cref="EvaluationReport.MarkerFile"/> there; otherwise <see cref="IOException"/> names a file in the way.
    /// </summary>
    public static IReadOnlyList<string> WriteTo(this EvaluationReport report, string directory, string? trainingHistory = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        // Read the history first so that a bad one fails before anything is written.
        byte[]? curves = trainingHistory is null ? null : EvaluationPlots.TrainingCurves(trainingHistory);
        RequireUsable(directory);
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        void Write(string name, byte[] bytes)
        {
            string path = Path.Combine(directory, name);
            AtomicFile.WriteAllBytes(path, bytes);
            written.Add(path);
        }
        // The marker first: a report interrupted after it is still this writer's own folder, and is written again.
        Write(EvaluationReport.MarkerFile, "An MlPipeline evaluation report: 'mlpipeline evaluate --report' writes into this folder again.\n"u8.ToArray());
        Write(EvaluationReport.MetricsFile, Encoding.UTF8.GetBytes(report.Metrics.ToJson() + "\n"));
        Write(EvaluationReport.ConfusionCsvFile, Encoding.UTF8.GetBytes(report.Metrics.ConfusionCsv()));
        Write(EvaluationReport.MisclassifiedFile, Encoding.UTF8.GetBytes(report.MisclassifiedCsv()));
        string errors = Path.Combine(directory, EvaluationReport.ErrorsFile);
        if (report.Failed.Count > 0)
        {
            Write(EvaluationReport.ErrorsFile, Encoding.UTF8.GetBytes(Csv.Format(report.Failed.Select(f => (IReadOnlyList<string>)[f.Path, f.Error ?? ""]).Prepend(["path", "error"]))));
        }
        else if (File.Exists(errors))
        {
            // A clean rerun into the same folder must not leave the previous run's failures beside the new figures.
            File.Delete(errors);
        }
        Write(EvaluationReport.ConfusionPlotFile, EvaluationPlots.ConfusionMatrix(report.Metrics));
        Write(EvaluationReport.MistakesPlotFile, EvaluationPlots.Mistakes(report));
        if (curves is not null) { Write(EvaluationReport.TrainingCurvesFile, curves); }
        return written;
    }
}
