using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MlPipeline.Cli.Deployment;
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
    static readonly Option<string?> ShardOption = CreateShard();
    static readonly Option<bool> Resume = new("--resume") { Description = "Continue an interrupted run into the same --output: files it already scored are skipped (results are appended to OUTPUT.partial in flushed chunks as they come)" };
    static readonly Option<int?> Shards = CliOptions.OptionalRange("--shards", $"With --shard auto: the number of shards (a Kubernetes Indexed Job's completions) [default: {JobEngineShard.SlurmCountVariable}]", 1, Shard.MaxCount);

    public static Command Create(CliConsole console)
    {
        var command = new Command("score", "Classify every image in a folder.") { Input, Output, TopK, Recursive, Probabilities, ShardOption, Shards, Resume };
        foreach (var option in Scoring.All) { command.Options.Add(option); }
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(parse, console, cancellationToken)));
        return command;
    }

    static Option<string?> CreateShard()
    {
        var option = new Option<string?>("--shard")
        {
            Description = $"Score one part of the folder: K/N (shard K of N, from 0), or auto (K from {JobEngineShard.KubernetesIndexVariable} or {JobEngineShard.SlurmIndexVariable}); a file's shard depends only on its relative path. Merge the parts with 'mlpipeline merge'",
        };
        option.Validators.Add(result =>
        {
            if (!CliOptions.TryGet(result, out string? value) || value is null || value == "auto") { return; }
            try
            {
                Shard.Parse(value);
            }
            catch (Exception e) when (e is FormatException or ArgumentOutOfRangeException)
            {
                result.AddError($"--shard: {CliApp.UserMessage(e)}");
            }
        });
        return option;
    }

    static int Run(ParseResult parse, CliConsole console, CancellationToken cancellationToken)
    {
        string input = parse.GetValue(Input)!;
        string? output = parse.GetValue(Output);
        if (output is not null && !output.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) && !output.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--output must end in .csv or .jsonl, but was '{output}'.");
        }
        var shard = ResolveShard(parse.GetValue(ShardOption), parse.GetValue(Shards));
        if (shard is not null && output is null) { throw new ArgumentException("--shard needs --output: the shards' files are what 'mlpipeline merge' joins."); }
        if (parse.GetValue(Resume) && output is null) { throw new ArgumentException("--resume needs --output: it continues the file an interrupted run was writing."); }
        using var classifier = Scoring.Load(parse, parse.GetValue(TopK), parse.GetValue(Probabilities),
            outputs: output is null ? [] : [output, ErrorsPath(output), MergeCommand.ManifestPath(output), PartialOutput.PathOf(output), PartialOutput.PathOf(ErrorsPath(output)), PartialOutput.SettingsPath(output), PartialOutput.LockPath(output)], topKGiven: parse.GetResult(TopK) is { Implicit: false });
        return ScoreFolder(classifier, input, parse.GetValue(Recursive), output, console, cancellationToken, shard, parse.GetValue(Resume));
    }

    /// <summary>The shard --shard names: K/N, or auto from the job engine's variables (and --shards).</summary>
    static Shard? ResolveShard(string? value, int? count)
    {
        if (value is null)
        {
            return count is null ? null : throw new ArgumentException("--shards goes with --shard auto.");
        }
        if (value != "auto")
        {
            return count is null ? Shard.Parse(value) : throw new ArgumentException($"--shards goes with --shard auto; --shard {value} already says how many.");
        }
        try
        {
            return JobEngineShard.FromEnvironment(count);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            throw new ArgumentException($"--shard auto: {CliApp.UserMessage(e)}", e);
        }
    }

    /// <summary>Where the files that could not be scored are listed: one errors file per output (<c>p.csv.errors.csv</c>).</summary>
    internal static string ErrorsPath(string output) => output + ".errors.csv";

    /// <summary>The columns of the errors file.</summary>
    internal static readonly IReadOnlyList<string> ErrorColumns = ["path", "error"];

    /// <summary>
    /// The longest file name an output may have: a name holds at most 255 bytes on Linux and macOS file systems, and the
    /// longest name written beside the output is the temporary file through which a resume rewrites
    /// <c>NAME.errors.csv.partial</c> (that suffix, 19 bytes, and <see cref="AtomicFile.TempNameOverhead"/>).
    /// </summary>
    internal const int MaxOutputNameBytes = 255 - 19 - AtomicFile.TempNameOverhead;

    /// <summary>Refuses an output name the file system cannot hold with its side files, or one that is another output's errors file.</summary>
    internal static void RequireOutputName(string output, string option)
    {
        int nameBytes = Encoding.UTF8.GetByteCount(Path.GetFileName(output));
        if (nameBytes > MaxOutputNameBytes)
        {
            throw new ArgumentException($"{option}'s file name is {nameBytes} bytes long; expected at most {MaxOutputNameBytes}, so that the files written beside it (the longest is the temporary file of NAME.errors.csv.partial) fit the file system's 255-byte limit. Choose a shorter name.");
        }
        if (output.EndsWith(".errors.csv", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"{option} '{output}' is named as the errors file of '{output[..^".errors.csv".Length]}' (a file beside every output); choose a name that does not end in .errors.csv.");
        }
    }

    /// <summary>Results between flushes of the partial output: a kill loses at most these.</summary>
    const int FlushEvery = 256;

    /// <summary>Scores a folder to <paramref name="output"/> (.csv or .jsonl; standard output when null) with progress and a summary; returns the exit code.</summary>
    internal static int ScoreFolder(ImageClassifier classifier, string input, bool recursive, string? output, CliConsole console, CancellationToken cancellationToken, Shard? shard = null, bool resume = false)
    {
        bool jsonl = output is not null && output.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
        int topK = classifier.Options.TopK;
        bool probabilities = classifier.Options.IncludeProbabilities;
        string? errorsPath = output is null ? null : ErrorsPath(output);
        string? manifestPath = output is null ? null : MergeCommand.ManifestPath(output);
        if (output is not null)
        {
            FileSystem.RequireWritableFile(output, "--output");
            RequireOutputName(output, "--output");
            FileSystem.RequireWritableFile(errorsPath!, "The errors file");
            FileSystem.RequireWritableFile(manifestPath!, "The shard manifest");
        }
        var listing = ImageClassifier.ListFolder(input, recursive);
        var images = listing.Images;
        if (images.Count == 0) { throw new InvalidDataException(NoImages(input, recursive, listing)); }
        if (shard is not null)
        {
            images = shard.Select(input, images);
            console.Error.WriteLine($"Shard {shard}: {images.Count} of the folder's {listing.Images.Count} images.");
        }
        var header = Header(topK, probabilities, classifier.Labels);
        var run = ScoringRun.Of(classifier, input, header, jsonl, shard);

        // A file output grows in OUTPUT.partial, flushed every FlushEvery results, so that a killed run keeps what it
        // scored; --resume skips those files and appends. The finished file is published when the run ends.
        void Pause(string point) => console.Pause(point, cancellationToken);
        var partial = output is null ? null : PartialOutput.Open(output, run, header, jsonl, resume, console, Pause);
        int before = images.Count;
        if (partial is { Resumed: true } && partial.KeepOnly(images.Select(f => FolderListing.RelativePath(input, f))) is > 0 and int gone)
        {
            console.Error.WriteLine($"note: {gone} file(s) scored by the interrupted run are no longer in {input}; their rows are dropped.");
        }
        if (partial is not null && partial.Done.Count > 0)
        {
            images = [.. images.Where(f => !partial.Done.Contains(FolderListing.RelativePath(input, f)))];
            console.Error.WriteLine($"Resuming: {before - images.Count} images already scored in {partial.Path}, {images.Count} to go.");
        }
        console.Error.WriteLine($"Scoring {images.Count} images in {input} with {classifier.ModelSource} …");

        // Released however the run ends (Publish also removes the lock file).
        using var heldLock = partial?.Lock;
        using var predictions = partial?.Predictions;
        using var errorsFile = partial?.Errors;
        var writer = predictions is null ? console.Out : new StreamWriter(predictions, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var errorWriter = errorsFile is null ? null : new StreamWriter(errorsFile, new UTF8Encoding(false), 1 << 12, leaveOpen: true) { NewLine = "\n" };
        using var csv = jsonl ? null : Csv.Writer(writer);
        using var errorCsv = errorWriter is null ? null : Csv.Writer(errorWriter);
        // A file output's headers are written when its partial files are started.
        if (partial is null) { csv?.WriteRow(header); }
        Pause("score.started");
        void FlushAll()
        {
            csv?.Flush();
            errorCsv?.Flush();
            writer.Flush();
            errorWriter?.Flush();
            predictions?.Flush();
            errorsFile?.Flush();
        }

        int scored = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        var draw = Stopwatch.StartNew();
        foreach (var result in Interruptible(classifier.ScoreFiles(input, images, cancellationToken), FlushAll, partial, console))
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
            if (scored + failed == 1) { Pause("score.first-result"); }
            if (partial is not null && (scored + failed) % FlushEvery == 0)
            {
                FlushAll();
                if (scored + failed == FlushEvery) { Pause("score.first-flush"); }
            }
            if (console.Interactive && draw.ElapsedMilliseconds > 100)
            {
                draw.Restart();
                double rate = (scored + failed) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{scored + failed}/{images.Count} [{Bar(scored + failed, images.Count)}] {rate:F0} img/s\u001b[K"));
            }
        }
        FlushAll();
        Pause("score.before-publish");
        int failedInAll = failed + (partial?.DoneFailed ?? 0);
        int scoredInAll = scored + (partial?.DoneScored ?? 0);
        // A manifest left by an earlier sharded run into this output would make merge take this file for a shard:
        // publishing removes it, and writes the new one for a shard.
        partial?.Publish(failedInAll > 0, header, jsonl, manifestPath!, shard is null ? (Func<string>?)null : () => ShardManifest.Write(
            shard, before, [.. listing.Images.Select(f => FolderListing.RelativePath(input, f))], scoredInAll, failedInAll, run, output!));
        double seconds = clock.Elapsed.TotalSeconds;
        if (console.Interactive) { console.Error.WriteLine(); }
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Scored {scored}, skipped {listing.Ignored + listing.Special} non-image or special files, failed {failed}, in {seconds:F1} s ({scored / Math.Max(seconds, 1e-9):F0} images/s) with {classifier.ModelSource}{(partial is { Resumed: true } ? $"; with the interrupted run's, {scoredInAll} scored and {failedInAll} failed in all" : "")}."));
        if (listing.UnsupportedNote is { } unsupported) { console.Error.WriteLine($"note: {unsupported}"); }
        if (output is not null) { console.Error.WriteLine($"Predictions: {Path.GetFullPath(output)}"); }
        if (failedInAll > 0 && errorsPath is not null) { console.Error.WriteLine($"Errors: {Path.GetFullPath(errorsPath)}"); }
        return failedInAll > 0 ? ExitCodes.PartialFailure : ExitCodes.Success;
    }

    /// <summary>
    /// Passes the results on. When scoring is interrupted or fails after results were written, flushes them and says
    /// how to go on; when it fails before any (a model that cannot run, say), removes the partial output.
    /// </summary>
    static IEnumerable<ScoreResult> Interruptible(IEnumerable<ScoreResult> results, Action flush, PartialOutput? partial, CliConsole console)
    {
        using var e = results.GetEnumerator();
        bool any = false;
        while (true)
        {
            try
            {
                if (!e.MoveNext()) { yield break; }
            }
            catch (Exception error) when (partial is not null)
            {
                flush();
                if (!any && !partial.Resumed && error is not OperationCanceledException)
                {
                    partial.Discard();
                }
                else
                {
                    console.Error.WriteLine($"{(error is OperationCanceledException ? "Interrupted" : "Stopped by an error")}; what was scored is kept in {partial.Path}. Run the same command with --resume to go on from there.");
                }
                throw;
            }
            any = true;
            yield return e.Current;
        }
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
