using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MlPipeline.Evaluation;
using MlPipeline.Formats;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Cli.Commands;

/// <summary><c>mlpipeline evaluate</c>: metrics, confusion matrix and mistakes of a model on labelled images.</summary>
internal static class EvaluateCommand
{
    static readonly ScoringOptions Scoring = new("--model-labels");
    static readonly Option<string> Input = new("--input") { Description = "Folder of images: DIR/<label>/<image>, or the root of the paths in --labels", Required = true };
    static readonly Option<string?> Labels = new("--labels") { Description = "CSV of path,label (paths relative to --input) instead of class folders" };
    static readonly Option<string?> Report = new("--report") { Description = "Write metrics.json, confusion.csv, misclassified.csv and PNG plots to this folder" };
    static readonly Option<string?> Run = new("--run") { Description = "Training run folder (or history.json) whose curves go into the report" };
    static readonly Option<int> TopK = CliOptions.Positive("--top-k", "K of the top-k accuracy", 3);
    static readonly Option<string?> Predictions = new("--predictions") { Description = "Compute the figures from this predictions CSV (score --probabilities, or merge) instead of scoring with a model: no second pass over a sharded run" };

    public static Command Create(CliConsole console)
    {
        var command = new Command("evaluate", "Evaluate a model on labelled images: accuracy, per-class figures, confusion matrix, mistakes.") { Input, Labels, Report, Run, TopK, Predictions };
        foreach (var option in Scoring.All) { command.Options.Add(option); }
        command.SetAction((parse, cancellationToken) => Task.FromResult(Execute(parse, console, cancellationToken)));
        return command;
    }

    static int Execute(ParseResult parse, CliConsole console, CancellationToken cancellationToken)
    {
        string input = parse.GetValue(Input)!;
        FileSystem.RequireDirectory(input, "Input folder");
        string? reportDir = parse.GetValue(Report);
        if (reportDir is not null)
        {
            FileSystem.RequireWritableFolder(reportDir, "--report");
            EvaluationReportFiles.RequireUsable(reportDir);
            // The report holds PNG plots: written into the labelled folder they would become images of a class.
            if (FileSystem.IsSameOrInside(FileSystem.RealPath(reportDir), FileSystem.RealPath(input)))
            {
                throw new ArgumentException($"--report '{reportDir}' is inside --input '{input}'; its PNG plots would join the images being evaluated. Choose a folder outside the input.");
            }
        }
        string[] reportFiles = reportDir is null ? [] : [.. EvaluationReport.Files.Select(f => Path.Combine(reportDir, f))];
        foreach (string file in reportFiles)
        {
            string? predictionsFile = parse.GetValue(Predictions);
            OutputPaths.RequireNotAnInput(file, "--report", [new(parse.GetValue(Labels), "--labels"), new(predictionsFile, "--predictions"),
                new(predictionsFile is null ? null : PredictionsFile.ErrorsPath(predictionsFile), "--predictions"), new(parse.GetValue(Run), "--run")]);
        }
        var images = parse.GetValue(Labels) is { } csv ? LabelledImages.FromCsv(csv, input) : LabelledImages.FromFolder(input);
        if (images.UnsupportedNote is { } note) { console.Error.WriteLine($"warning: {note}."); }
        if (parse.GetValue(Run) is { } run && !File.Exists(run) && !File.Exists(Path.Combine(run, "history.json")))
        {
            throw new FileNotFoundException($"--run '{run}' is neither a history.json file nor a run folder holding one.");
        }
        if (parse.GetValue(Predictions) is { } predictions)
        {
            if (Scoring.All.Any(o => parse.GetResult(o) is { Implicit: false }))
            {
                throw new ArgumentException("--predictions takes the figures from a file; the model and preprocessing options (--model, --size, …) do not apply to it.");
            }
            return Print(ClassifierEvaluation.FromPredictions(predictions, images, parse.GetValue(TopK)), parse.GetValue(Report), parse.GetValue(Run), console);
        }
        using var classifier = Scoring.Load(parse, parse.GetValue(TopK), outputs: reportFiles, topKGiven: parse.GetResult(TopK) is { Implicit: false });
        var report = Evaluate(classifier, images, classifier.Options.TopK, console, cancellationToken);
        return Print(report, parse.GetValue(Report), parse.GetValue(Run), console);
    }

    /// <summary>Evaluates with a progress line on interactive consoles.</summary>
    internal static EvaluationReport Evaluate(ImageClassifier classifier, LabelledImages images, int topK, CliConsole console, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var progress = new SyncProgress<int>(done =>
        {
            if (console.Interactive)
            {
                console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\rEvaluating {done}/{images.Items.Count} ({done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F0} images/s)\u001b[K"));
            }
        });
        var report = classifier.Evaluate(images, topK, progress, cancellationToken);
        if (console.Interactive) { console.Error.WriteLine(); }
        return report;
    }

    /// <summary>Prints the metrics table, writes the report folder when asked, and returns the exit code.</summary>
    internal static int Print(EvaluationReport report, string? reportDir, string? run, CliConsole console)
    {
        var m = report.Metrics;
        console.Out.WriteLine($"Model: {report.ModelSource}");
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Images: {m.Count} scored, {report.Failed.Count} failed, {report.Ignored} non-image files ignored"));
        console.Out.WriteLine();
        console.Out.Write(m.ToTable());
        if (m.Labels.Count > ClassificationMetrics.MaxMatrixClassesShown)
        {
            console.Out.WriteLine(reportDir is null
                ? "  The full confusion matrix: evaluate with --report DIR (confusion.csv, metrics.json)."
                : $"  The full confusion matrix: {Path.Combine(Path.GetFullPath(reportDir), "confusion.csv")}");
        }
        foreach (var f in report.Failed.Take(10)) { console.Error.WriteLine($"failed: {f.Path}: {f.Error}"); }
        if (report.Failed.Count > 10) { console.Error.WriteLine($"… and {report.Failed.Count - 10} more failed (see errors.csv in the report)."); }
        if (reportDir is not null)
        {
            report.WriteTo(reportDir, run);
            console.Out.WriteLine();
            console.Out.WriteLine($"Report: {Path.GetFullPath(reportDir)}");
        }
        return report.Failed.Count > 0 ? ExitCodes.PartialFailure : ExitCodes.Success;
    }
}
