using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MlPipeline.Cli.Deployment;
using MlPipeline.Formats;
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
        if (output is not null && !PredictionsFile.HasFormatExtension(output))
        {
            throw new ArgumentException($"--output must end in .csv or .jsonl, but was '{output}'.");
        }
        var shard = ResolveShard(parse.GetValue(ShardOption), parse.GetValue(Shards));
        if (shard is not null && output is null) { throw new ArgumentException("--shard needs --output: the shards' files are what 'mlpipeline merge' joins."); }
        if (parse.GetValue(Resume) && output is null) { throw new ArgumentException("--resume needs --output: it continues the file an interrupted run was writing."); }
        using var classifier = Scoring.Load(parse, parse.GetValue(TopK), parse.GetValue(Probabilities),
            outputs: output is null ? [] : PredictionsFile.WrittenFiles(output), topKGiven: parse.GetResult(TopK) is { Implicit: false });
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

    /// <summary>Results between flushes of the partial output: a kill loses at most these.</summary>
    const int FlushEvery = 256;

    /// <summary>Scores a folder to <paramref name="output"/> (.csv or .jsonl; standard output when null) with progress and a summary; returns the exit code.</summary>
    internal static int ScoreFolder(ImageClassifier classifier, string input, bool recursive, string? output, CliConsole console, CancellationToken cancellationToken, Shard? shard = null, bool resume = false)
    {
        bool jsonl = output is not null && PredictionsFile.IsJsonLines(output);
        if (output is not null) { RequireOutput(output); }
        var listing = ImageClassifier.ListFolder(input, recursive);
        if (listing.Images.Count == 0) { throw new InvalidDataException(NoImages(input, recursive, listing)); }
        var images = listing.Images;
        if (shard is not null)
        {
            images = shard.Select(input, images);
            console.Error.WriteLine($"Shard {shard}: {images.Count} of the folder's {listing.Images.Count} images.");
        }
        var header = PredictionsFile.Columns(classifier.Options.TopK, classifier.Options.IncludeProbabilities ? classifier.Labels : null);
        var run = ScoringRun.Of(classifier, input, header, jsonl, shard);

        // A file output grows in OUTPUT.partial, flushed every FlushEvery results, so that a killed run keeps what it
        // scored; --resume skips those files and appends. The finished file is published when the run ends.
        void Pause(string point) => console.Pause(point, cancellationToken);
        var partial = output is null ? null : PartialOutput.Open(output, run, header, jsonl, resume, console.Error.WriteLine, Pause);
        // Released however the run ends (Publish also removes the lock file).
        using var heldLock = partial?.Lock;
        int given = images.Count;
        images = Remaining(partial, input, images, console);
        console.Error.WriteLine($"Scoring {images.Count} images in {input} with {classifier.ModelSource} …");
        var clock = Stopwatch.StartNew();
        var (scored, failed) = WriteResults(classifier, input, images, partial, header, jsonl, console, Pause, cancellationToken);
        Pause("score.before-publish");
        int failedInAll = failed + (partial?.DoneFailed ?? 0);
        int scoredInAll = scored + (partial?.DoneScored ?? 0);
        // A manifest left by an earlier sharded run into this output would make merge take this file for a shard:
        // publishing removes it, and writes the new one for a shard.
        try
        {
            partial?.Publish(failedInAll > 0, header, jsonl, PredictionsFile.ManifestPath(output!), shard is null ? (Func<string>?)null : () => ShardManifest.Write(
                shard, given, [.. listing.Images.Select(f => FolderListing.RelativePath(input, f))], scoredInAll, failedInAll, run, output!));
        }
        catch (IOException e) when (partial is not null)
        {
            console.Error.WriteLine($"Publishing {output} failed ({e.Message}); every result is kept in {partial.Path}. Free space (or fix the error) and run the same command with --resume to publish it.");
            throw;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (console.Interactive) { console.Error.WriteLine(); }
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Scored {scored}, skipped {listing.Ignored + listing.Special} non-image or special files, failed {failed}, in {seconds:F1} s ({scored / Math.Max(seconds, 1e-9):F0} images/s) with {classifier.ModelSource}{(partial is { Resumed: true } ? $"; with the interrupted run's, {scoredInAll} scored and {failedInAll} failed in all" : "")}."));
        if (listing.UnsupportedNote is { } unsupported) { console.Error.WriteLine($"note: {unsupported}"); }
        if (output is not null) { console.Error.WriteLine($"Predictions: {Path.GetFullPath(output)}"); }
        if (failedInAll > 0 && output is not null) { console.Error.WriteLine($"Errors: {Path.GetFullPath(PredictionsFile.ErrorsPath(output))}"); }
        return failedInAll > 0 ? ExitCodes.PartialFailure : ExitCodes.Success;
    }

    /// <summary>Refuses an output, or a file written beside it, that cannot be written.</summary>
    static void RequireOutput(string output)
    {
        FileSystem.RequireWritableFile(output, "--output");
        PredictionsFile.RequireOutputName(output, "--output");
        FileSystem.RequireWritableFile(PredictionsFile.ErrorsPath(output), "The errors file");
        FileSystem.RequireWritableFile(PredictionsFile.ManifestPath(output), "The shard manifest");
    }

    /// <summary>The images an interrupted run left to score (all of them when nothing is resumed); a resumed run forgets the files no longer in the folder.</summary>
    static IReadOnlyList<string> Remaining(PartialOutput? partial, string input, IReadOnlyList<string> images, CliConsole console)
    {
        if (partial is { Resumed: true } && partial.KeepOnly(images.Select(f => FolderListing.RelativePath(input, f))) is > 0 and int gone)
        {
            console.Error.WriteLine($"note: {gone} file(s) scored by the interrupted run are no longer in {input}; their rows are dropped.");
        }
        if (partial is null || partial.Done.Count == 0) { return images; }
        var remaining = images.Where(f => !partial.Done.Contains(FolderListing.RelativePath(input, f))).ToList();
        console.Error.WriteLine($"Resuming: {images.Count - remaining.Count} images already scored in {partial.Path}, {remaining.Count} to go.");
        return remaining;
    }

    /// <summary>Scores <paramref name="images"/> into the partial files (or standard output), flushing every <see cref="FlushEvery"/> results and drawing progress; returns how many were scored and failed.</summary>
    static (int Scored, int Failed) WriteResults(ImageClassifier classifier, string input, IReadOnlyList<string> images, PartialOutput? partial, IReadOnlyList<string> header, bool jsonl, CliConsole console, Action<string> pause, CancellationToken cancellationToken)
    {
        using var predictions = partial?.Predictions;
        using var errors = partial?.Errors;
        int topK = classifier.Options.TopK;
        using var writer = partial is null ? new PredictionsWriter(console.Out, null, jsonl, topK) : new PredictionsWriter(partial.Predictions, partial.Errors, jsonl, topK);
        // A file output's headers are written when its partial files are started.
        if (partial is null) { writer.WriteHeader(header); }
        pause("score.started");
        int scored = 0, failed = 0;
        var progress = new ScoreProgress(console, images.Count);
        // A write that fails (a full disk) says how to go on: what was flushed before it is resumable.
        void Guarded(Action write)
        {
            try
            {
                write();
            }
            catch (IOException e) when (partial is not null)
            {
                console.Error.WriteLine($"Writing {partial.Path} failed ({e.Message}); what was written before is kept. Free space (or fix the error) and run the same command with --resume to go on from there.");
                throw;
            }
        }
        foreach (var result in Interruptible(classifier.ScoreFiles(input, images, cancellationToken), writer.Flush, partial, console))
        {
            if (result.Prediction is null) { failed++; } else { scored++; }
            bool written = true;
            Guarded(() => written = writer.Write(result));
            if (!written) { console.Error.WriteLine($"failed: {result.Path}: {result.Error}"); }
            if (scored + failed == 1) { pause("score.first-result"); }
            if (partial is not null && (scored + failed) % FlushEvery == 0)
            {
                Guarded(writer.Flush);
                if (scored + failed == FlushEvery) { pause("score.first-flush"); }
            }
            progress.Report(scored + failed);
        }
        Guarded(writer.Flush);
        return (scored, failed);
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
}
