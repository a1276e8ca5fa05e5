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
    static readonly Option<string?> ShardOption = CreateShard();
    static readonly Option<bool> Resume = new("--resume") { Description = "Continue an interrupted run into the same --output: files it already scored are skipped (results are appended to OUTPUT.partial in flushed chunks as they come)" };
    static readonly Option<int?> Shards = CliOptions.OptionalRange("--shards", $"With --shard auto: the number of shards (a Kubernetes Indexed Job's completions) [default: {Shard.SlurmCountVariable}]", 1, Shard.MaxCount);

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
            Description = $"Score one part of the folder: K/N (shard K of N, from 0), or auto (K from {Shard.KubernetesIndexVariable} or {Shard.SlurmIndexVariable}); a file's shard depends only on its relative path. Merge the parts with 'mlpipeline merge'",
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
            outputs: output is null ? [] : [output, ErrorsPath(output), MergeCommand.ManifestPath(output), Partial(output), Partial(ErrorsPath(output)), PartialManifest(output), LockPath(output)]);
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
            return Shard.FromEnvironment(count);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            throw new ArgumentException($"--shard auto: {CliApp.UserMessage(e)}", e);
        }
    }

    /// <summary>Where the files that could not be scored are listed: one errors file per output (<c>p.csv.errors.csv</c>).</summary>
    internal static string ErrorsPath(string output) => output + ".errors.csv";

    /// <summary>Where an output grows while it is scored (published by a rename when the run ends).</summary>
    internal static string Partial(string output) => output + ".partial";

    /// <summary>What a partial output was scored with, compared on --resume.</summary>
    internal static string PartialManifest(string output) => output + ".partial.json";

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
        // A manifest left by an earlier sharded run into this output would make merge take this file for a shard.
        if (shard is null && manifestPath is not null && File.Exists(manifestPath)) { File.Delete(manifestPath); }
        var header = Header(topK, probabilities, classifier.Labels);

        // A file output grows in OUTPUT.partial, flushed every FlushEvery results, so that a killed run keeps what it
        // scored; --resume skips those files and appends. The finished file is published by a rename.
        var partial = output is null ? null : OpenPartial(output, header, jsonl, input, shard, classifier.ModelSource, resume, console);
        int before = images.Count;
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
        if (partial is null || !partial.Resumed)
        {
            csv?.WriteRow(header);
            errorCsv?.WriteRow(["path", "error"]);
        }
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
            if (partial is not null && (scored + failed) % FlushEvery == 0) { FlushAll(); }
            if (console.Interactive && draw.ElapsedMilliseconds > 100)
            {
                draw.Restart();
                double rate = (scored + failed) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{scored + failed}/{images.Count} [{Bar(scored + failed, images.Count)}] {rate:F0} img/s\u001b[K"));
            }
        }
        FlushAll();
        predictions?.Dispose();
        errorsFile?.Dispose();
        int failedInAll = failed + (partial?.DoneFailed ?? 0);
        // The errors file is settled first, so new predictions never sit beside the previous run's failures.
        partial?.Publish(failedInAll > 0, header, jsonl);
        if (shard is not null)
        {
            AtomicFile.WriteAllText(manifestPath!, JsonSerializer.Serialize(new MergeCommand.ShardManifest(shard.ToString(), shard.Index, shard.Count, before, listing.Images.Count, classifier.ModelSource)) + "\n");
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (console.Interactive) { console.Error.WriteLine(); }
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Scored {scored}, skipped {listing.Ignored + listing.Special} non-image or special files, failed {failed}, in {seconds:F1} s ({scored / Math.Max(seconds, 1e-9):F0} images/s) with {classifier.ModelSource}."));
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

    /// <summary>The partial output of a run: its streams (appending on resume) and what it already holds.</summary>
    sealed class PartialOutput
    {
        public required string Output { get; init; }
        public required FileStream Lock { get; init; }
        public string Path => Partial(Output);
        public required FileStream Predictions { get; init; }
        public required FileStream Errors { get; init; }
        public required bool Resumed { get; init; }
        public required HashSet<string> Done { get; init; }
        public required int DoneFailed { get; init; }

        /// <summary>Closes and removes the partial files: the run wrote nothing worth resuming.</summary>
        public void Discard()
        {
            Predictions.Dispose();
            Errors.Dispose();
            File.Delete(Path);
            File.Delete(Partial(ErrorsPath(Output)));
            File.Delete(PartialManifest(Output));
            Release();
        }

        /// <summary>Removes the lock file and releases the lock.</summary>
        public void Release()
        {
            File.Delete(LockPath(Output));
            Lock.Dispose();
        }

        /// <summary>Publishes the partial files as the output (sorted by path when resumed, else as written) and removes them.</summary>
        public void Publish(bool anyFailed, IReadOnlyList<string> header, bool jsonl)
        {
            string errorsPath = ErrorsPath(Output);
            // Written in one go, the partial file is already in order and is renamed into place; grown over several
            // runs, its rows are put in the folder's order first.
            void Settle(string partial, string target, IReadOnlyList<string> columns, bool lines)
            {
                if (Resumed) { AtomicFile.WriteAllText(target, PredictionFiles.Format(columns, PredictionFiles.Read(partial, lines).Rows, lines)); }
                else { File.Move(partial, target, overwrite: true); }
            }
            string partialErrors = Partial(errorsPath);
            if (anyFailed) { Settle(partialErrors, errorsPath, ["path", "error"], false); }
            else if (File.Exists(errorsPath)) { File.Delete(errorsPath); }
            Settle(Path, Output, header, jsonl);
            File.Delete(Path);
            File.Delete(partialErrors);
            File.Delete(PartialManifest(Output));
            Release();
        }
    }

    static PartialOutput OpenPartial(string output, IReadOnlyList<string> header, bool jsonl, string input, Shard? shard, string model, bool resume, CliConsole console)
    {
        // An exclusive lock (flock, released by the OS if the process dies) before anything is read or written: a second
        // run into the same output is refused instead of interleaving with, or truncating, this one.
        FileStream held;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        try
        {
            held = new FileStream(LockPath(output), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not DirectoryNotFoundException && File.Exists(LockPath(output)))
        {
            throw new IOException($"'{output}' is in use: another mlpipeline run is writing this output ({LockPath(output)} is locked). Wait for it, or write elsewhere.", e);
        }
        try
        {
            return OpenLocked(output, held, header, jsonl, input, shard, model, resume, console);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>The lock file of an output being written.</summary>
    internal static string LockPath(string output) => output + ".partial.lock";

    static PartialOutput OpenLocked(string output, FileStream held, IReadOnlyList<string> header, bool jsonl, string input, Shard? shard, string model, bool resume, CliConsole console)
    {
        string path = Partial(output), errors = Partial(ErrorsPath(output)), manifest = PartialManifest(output);
        string settings = JsonSerializer.Serialize(new { input = System.IO.Path.GetFullPath(input), model, shard = shard?.ToString(), columns = jsonl ? "jsonl" : string.Join(",", header) }) + "\n";
        bool resumed = false;
        var done = new HashSet<string>(StringComparer.Ordinal);
        int doneFailed = 0;
        if (resume && File.Exists(path) && File.Exists(manifest))
        {
            string saved = File.ReadAllText(manifest);
            if (saved != settings)
            {
                throw new InvalidOperationException($"The interrupted run in '{path}' was scored with other settings ({saved.Trim()}); resume with the same input, model, shard and columns, or leave out --resume to start over.");
            }
            PredictionFiles.DropTornEnd(path);
            foreach (var row in PredictionFiles.Read(path, jsonl).Rows) { done.Add(row.Path); }
            if (File.Exists(errors))
            {
                PredictionFiles.DropTornEnd(errors);
                foreach (var row in PredictionFiles.Read(errors, false).Rows) { done.Add(row.Path); doneFailed++; }
            }
            resumed = true;
        }
        else
        {
            if (resume) { console.Error.WriteLine($"Nothing to resume in {path}; scoring from the start."); }
            else if (File.Exists(path)) { console.Error.WriteLine($"note: starting over; {path} holds an interrupted run (add --resume to continue it instead)."); }
            AtomicFile.WriteAllText(manifest, settings);
        }
        FileStream Open(string file) => new(file, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
        var predictions = Open(path);
        try
        {
            return new PartialOutput { Output = output, Predictions = predictions, Errors = Open(errors), Lock = held, Resumed = resumed, Done = done, DoneFailed = doneFailed };
        }
        catch
        {
            predictions.Dispose();
            throw;
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
