using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Cli.Commands;

/// <summary><c>mlpipeline score</c>: batch-scores an image folder to CSV or JSON Lines, continuing past bad files.</summary>
internal static class ScoreCommand
{
    static readonly ScoringOptions Scoring = new();
    static readonly Option<string> Input = new("--input") { Description = "Folder of images", Required = true };
    static readonly Option<string?> Output = new("--output") { Description = "predictions.csv or predictions.jsonl [default: CSV on standard output]" };
    static readonly Option<int> TopK = CliOptions.Positive("--top-k", "Most probable classes per image", 3);
    static readonly Option<bool> Recursive = new("--recursive") { Description = "Include subfolders (symbolic-link loops are cut)" };
    static readonly Option<bool> Probabilities = new("--probabilities") { Description = "Add every class probability to each row" };

    public static Command Create(CliConsole console)
    {
        var command = new Command("score", "Classify every image in a folder.") { Input, Output, TopK, Recursive, Probabilities };
        foreach (var option in Scoring.All) { command.Options.Add(option); }
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(parse, console, cancellationToken)));
        return command;
    }

    static int Run(ParseResult parse, CliConsole console, CancellationToken cancellationToken)
    {
        string input = parse.GetValue(Input)!;
        string? output = parse.GetValue(Output);
        if (output is not null && !output.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) && !output.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--output must end in .csv or .jsonl, but was '{output}'.");
        }
        using var classifier = Scoring.Load(parse, parse.GetValue(TopK), parse.GetValue(Probabilities), outputs: output is null ? [] : [output, ErrorsPath(output)]);
        return ScoreFolder(classifier, input, parse.GetValue(Recursive), output, console, cancellationToken);
    }

    /// <summary>Where the files that could not be scored are listed: one errors file per output (<c>p.csv.errors.csv</c>).</summary>
    internal static string ErrorsPath(string output) => output + ".errors.csv";

    /// <summary>Scores a folder to <paramref name="output"/> (.csv or .jsonl; standard output when null) with progress and a summary; returns the exit code.</summary>
    internal static int ScoreFolder(ImageClassifier classifier, string input, bool recursive, string? output, CliConsole console, CancellationToken cancellationToken)
    {
        bool jsonl = output is not null && output.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
        int topK = classifier.Options.TopK;
        bool probabilities = classifier.Options.IncludeProbabilities;
        string? errorsPath = output is null ? null : ErrorsPath(output);
        if (output is not null)
        {
            FileSystem.RequireWritableFile(output, "--output");
            FileSystem.RequireWritableFile(errorsPath!, "The errors file");
        }
        var listing = ImageClassifier.ListFolder(input, recursive);
        var images = listing.Images;
        if (images.Count == 0) { throw new InvalidDataException(NoImages(input, recursive, listing)); }
        console.Error.WriteLine($"Scoring {images.Count} images in {input} with {classifier.ModelSource} …");

        using var predictions = output is null ? null : AtomicFile.Begin(output);
        using var errorsFile = errorsPath is null ? null : AtomicFile.Begin(errorsPath);
        var writer = predictions is null ? console.Out : new StreamWriter(predictions.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var errorWriter = errorsFile is null ? null : new StreamWriter(errorsFile.Stream, new UTF8Encoding(false), 1 << 12, leaveOpen: true) { NewLine = "\n" };
        using var csv = jsonl ? null : Csv.Writer(writer);
        using var errorCsv = errorWriter is null ? null : Csv.Writer(errorWriter);
        csv?.WriteRow(Header(topK, probabilities, classifier.Labels));
        errorCsv?.WriteRow(["path", "error"]);

        int scored = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        var draw = Stopwatch.StartNew();
        foreach (var result in classifier.ScoreFiles(input, images, cancellationToken))
        {
            if (result.Prediction is { } p)
            {
                if (csv is null) { writer.WriteLine(Json(p)); }
                else { csv.WriteRow(CsvRow(p, topK)); }
                scored++;
            }
            else
            {
                failed++;
                if (errorCsv is null) { console.Error.WriteLine($"failed: {result.Path}: {result.Error}"); }
                else { errorCsv.WriteRow([result.Path, result.Error!]); }
            }
            if (console.Interactive && draw.ElapsedMilliseconds > 100)
            {
                draw.Restart();
                double rate = (scored + failed) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{scored + failed}/{images.Count} [{Bar(scored + failed, images.Count)}] {rate:F0} img/s\u001b[K"));
            }
        }
        csv?.Flush();
        errorCsv?.Flush();
        writer.Flush();
        errorWriter?.Flush();
        // The errors file is settled first, so new predictions never sit beside the previous run's failures.
        if (failed > 0) { errorsFile?.Commit(); }
        else if (errorsPath is not null && File.Exists(errorsPath)) { File.Delete(errorsPath); }
        predictions?.Commit();
        double seconds = clock.Elapsed.TotalSeconds;
        if (console.Interactive) { console.Error.WriteLine(); }
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Scored {scored}, skipped {listing.Ignored + listing.Special} non-image or special files, failed {failed}, in {seconds:F1} s ({scored / Math.Max(seconds, 1e-9):F0} images/s) with {classifier.ModelSource}."));
        if (output is not null) { console.Error.WriteLine($"Predictions: {Path.GetFullPath(output)}"); }
        if (failed > 0 && errorsFile is not null) { console.Error.WriteLine($"Errors: {errorsFile.TargetPath}"); }
        return failed > 0 ? ExitCodes.PartialFailure : ExitCodes.Success;
    }

    /// <summary>Why a folder gave nothing to score, with a hint when its images sit in subfolders.</summary>
    internal static string NoImages(string input, bool recursive, FolderListing listing)
    {
        string others = listing.Ignored + listing.Special > 0 ? $"; {listing.Ignored + listing.Special} other files were ignored" : "";
        bool hasFolders = !recursive && Directory.EnumerateDirectories(input).Any();
        return $"Input folder '{input}' holds no images (png, jpg, jpeg, bmp, gif, webp){others}{(hasFolders ? "; it has subfolders: add --recursive to score the images in them" : "")}.";
    }

    static string Bar(int done, int total)
    {
        int filled = total == 0 ? 30 : 30 * done / total;
        return new string('=', filled) + new string('.', 30 - filled);
    }

    static List<string> Header(int topK, bool probabilities, IReadOnlyList<string> labels)
    {
        var columns = new List<string> { "path", "label", "confidence" };
        for (int i = 1; i <= topK; i++) { columns.Add($"top{i}_label"); columns.Add($"top{i}_probability"); }
        if (probabilities) { columns.AddRange(labels.Select(l => "p_" + l)); }
        return columns;
    }

    static List<string> CsvRow(Prediction p, int topK)
    {
        var fields = new List<string> { p.Path ?? "", p.Label, Number(p.Confidence) };
        for (int i = 0; i < topK; i++)
        {
            fields.Add(p.TopK[i].Label);
            fields.Add(Number(p.TopK[i].Probability));
        }
        if (p.Probabilities is { } all) { fields.AddRange(all.Select(Number)); }
        return fields;
    }

    static string Json(Prediction p) => JsonSerializer.Serialize(new
    {
        path = p.Path,
        label = p.Label,
        confidence = p.Confidence,
        topK = p.TopK.Select(t => new { label = t.Label, probability = t.Probability }),
        probabilities = p.Probabilities,
    }, JsonOptions);

    static readonly JsonSerializerOptions JsonOptions = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    static string Number(float value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
