using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MlPipeline.Formats;
using MlPipeline.Internals;

namespace MlPipeline.Cli.Commands;

/// <summary>
/// <c>mlpipeline merge</c>: joins the outputs of <c>score --shard K/N</c> into the file one unsharded run writes (the
/// same rows in the same order, byte for byte), refusing overlapping or missing shards by name.
/// </summary>
internal static class MergeCommand
{
    static readonly Option<string> Out = new("--out") { Description = "The merged predictions (.csv or .jsonl, as the shards)", Required = true };
    static readonly Argument<string[]> Shards = new("shard-files") { Description = "The shards' prediction files (each with its .shard.json beside it)", Arity = ArgumentArity.OneOrMore };

    public static Command Create(CliConsole console)
    {
        var command = new Command("merge", "Merge the prediction files of score --shard K/N into one, as an unsharded run writes it.") { Out, Shards };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(parse.GetValue(Out)!, parse.GetValue(Shards)!, console)));
        return command;
    }

    static int Run(string output, string[] files, CliConsole console)
    {
        bool jsonl = PredictionsFile.IsJsonLines(output);
        if (!PredictionsFile.HasFormatExtension(output)) { throw new ArgumentException($"--out must end in .csv or .jsonl, but was '{output}'."); }
        PredictionsFile.RequireOutputName(output, "--out");
        var shards = ReadManifests(output, files, jsonl);
        CheckComplete(shards);
        CheckAlike(shards);
        // Each file is parsed once: its rows are counted against its manifest, then merged.
        var read = shards.Select(s => Parsed.Of(s.File, jsonl)).ToList();
        var errorFiles = shards.Select(s => PredictionsFile.ErrorsPath(s.File)).Where(File.Exists).Select(f => Parsed.Of(f, jsonl: false)).ToList();
        CheckContents(shards, read, errorFiles);
        FileSystem.RequireWritableFile(output, "--out");

        var predictions = Merge(read, jsonl);
        string errorsOutput = PredictionsFile.ErrorsPath(output);
        // The errors are settled before the predictions are published, as score does.
        if (errorFiles.Count > 0)
        {
            var errors = Merge(errorFiles, jsonl: false);
            AtomicFile.WriteAllText(errorsOutput, errors.Text);
        }
        else if (File.Exists(errorsOutput))
        {
            File.Delete(errorsOutput);
        }
        AtomicFile.WriteAllText(output, predictions.Text);
        int expected = shards.Sum(s => s.Manifest.Images);
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Merged {shards[0].Manifest.Count} shards: {predictions.Rows} predictions{(errorFiles.Count > 0 ? $", and the failures of {errorFiles.Count} shard(s) in {errorsOutput}" : "")}, of {expected} images the shards were given."));
        console.Error.WriteLine($"Predictions: {Path.GetFullPath(output)}");
        return ExitCodes.Success;
    }

    /// <summary>The shards' files with their manifests, refusing a file of the other format, a missing one, one without a manifest, or one --out would overwrite.</summary>
    static List<(string File, ShardManifest Manifest)> ReadManifests(string output, string[] files, bool jsonl)
    {
        var shards = new List<(string File, ShardManifest Manifest)>();
        foreach (string file in files)
        {
            if (PredictionsFile.IsJsonLines(file) != jsonl || !PredictionsFile.HasFormatExtension(file))
            {
                throw new ArgumentException($"Shard file '{file}' is not a {(jsonl ? ".jsonl" : ".csv")} file like --out '{output}'.");
            }
            FileSystem.RequireFile(file, "Shard file");
            // Merge writes --out and its errors file; neither may be a file it reads.
            foreach (string written in new[] { output, PredictionsFile.ErrorsPath(output) })
            {
                if (new[] { file, PredictionsFile.ErrorsPath(file), PredictionsFile.ManifestPath(file) }.FirstOrDefault(own => FileSystem.SamePath(written, own)) is { } taken)
                {
                    throw new ArgumentException($"--out '{output}' would write '{written}', which is '{taken}', one of the shards' own files; write the merged file elsewhere.");
                }
            }
            string manifest = PredictionsFile.ManifestPath(file);
            if (!File.Exists(manifest)) { throw new InvalidDataException($"Shard file '{file}' has no manifest ('{manifest}'): merge takes the outputs of 'mlpipeline score --shard K/N --output FILE' (a shard whose run was interrupted writes it when the same command is run again with --resume)."); }
            shards.Add((file, ScoringRun.Read<ShardManifest>(manifest, "Shard manifest")));
        }
        return shards;
    }

    /// <summary>Refuses shards of different splits, overlapping shards and missing ones, by name.</summary>
    static void CheckComplete(List<(string File, ShardManifest Manifest)> shards)
    {
        int count = shards[0].Manifest.Count;
        if (shards.FirstOrDefault(s => s.Manifest.Count != count) is { File: not null } other)
        {
            throw new InvalidDataException($"Shards of different splits: '{shards[0].File}' is shard {shards[0].Manifest.Shard} and '{other.File}' is shard {other.Manifest.Shard}.");
        }
        foreach (var same in shards.GroupBy(s => s.Manifest.Index).Where(g => g.Count() > 1))
        {
            throw new InvalidDataException($"Shards overlap: shard {same.First().Manifest.Shard} is in both {string.Join(" and ", same.Select(s => $"'{s.File}'"))}.");
        }
        var missing = Enumerable.Range(0, count).Except(shards.Select(s => s.Manifest.Index)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"Shards missing: {string.Join(", ", missing.Take(20).Select(m => $"{m}/{count}"))}{(missing.Count > 20 ? $" and {missing.Count - 20} more" : "")} (given: {string.Join(", ", shards.Select(s => s.Manifest.Shard).Order(StringComparer.Ordinal))}).");
        }
    }

    /// <summary>
    /// Refuses shards that do not make one run: scored from other folders, folder sizes, models (by content) or
    /// preprocessing than the first, and shards whose counts do not add up to the folder.
    /// </summary>
    static void CheckAlike(List<(string File, ShardManifest Manifest)> shards)
    {
        var (firstFile, first) = shards[0];
        foreach (var (file, manifest) in shards.Skip(1))
        {
            var differences = (manifest.Run with { Shard = first.Run.Shard }).DifferencesFrom(first.Run).ToList();
            if (manifest.FolderImages != first.FolderImages) { differences.Insert(0, $"the folder's image count ({first.FolderImages} in the first, {manifest.FolderImages} in this one)"); }
            else if (manifest.ListingSha256 != first.ListingSha256) { differences.Insert(0, "the folder's files (images were added, removed or renamed between the two runs)"); }
            if (differences.Count > 0)
            {
                throw new InvalidDataException($"Shard '{file}' was not scored like '{firstFile}': {string.Join("; ", differences).Replace(" then,", " in the first,", StringComparison.Ordinal).Replace(" now)", " in this one)", StringComparison.Ordinal)}. Merge shards of one run of one folder with one model.");
            }
        }
        int given = shards.Sum(s => s.Manifest.Images);
        if (given != first.FolderImages)
        {
            throw new InvalidDataException($"The shards were given {given} images in all, but their folder '{first.Run.Input}' held {first.FolderImages}: they are not the parts of one listing of the folder; score every shard of the folder again.");
        }
    }

    /// <summary>Refuses shard files cut short or changed since they were scored: their rows and SHA-256 against the manifest.</summary>
    static void CheckContents(List<(string File, ShardManifest Manifest)> shards, List<Parsed> read, List<Parsed> errorFiles)
    {
        for (int i = 0; i < shards.Count; i++)
        {
            var (file, manifest) = shards[i];
            string errors = PredictionsFile.ErrorsPath(file);
            int failed = errorFiles.FirstOrDefault(e => e.File == errors)?.Rows.Count ?? 0;
            int scored = read[i].Rows.Count;
            if (scored != manifest.Scored || failed != manifest.Failed)
            {
                throw new InvalidDataException($"Shard file '{file}' holds {scored} predictions and {failed} failures, but its manifest '{PredictionsFile.ManifestPath(file)}' says shard {manifest.Shard} ended with {manifest.Scored} and {manifest.Failed} of its {manifest.Images} images: the file is incomplete or was changed; score shard {manifest.Shard} again.");
            }
            if (ShardManifest.HashOf(file) != manifest.PredictionsSha256 || (manifest.ErrorsSha256 is { } hash && ShardManifest.HashOf(errors) != hash))
            {
                throw new InvalidDataException($"Shard file '{file}' (or its errors file) was changed after shard {manifest.Shard} was scored: its SHA-256 is not the one in '{PredictionsFile.ManifestPath(file)}'; score shard {manifest.Shard} again.");
            }
        }
    }

    /// <summary>A shard's file as read: its header (CSV) and rows.</summary>
    sealed record Parsed(string File, IReadOnlyList<string>? Header, List<PredictionsFile.Row> Rows)
    {
        public static Parsed Of(string file, bool jsonl)
        {
            var (header, rows) = PredictionsFile.Read(file, jsonl);
            return new Parsed(file, header, rows);
        }
    }

    /// <summary>The rows of every file, each file's header once, sorted by path (ordinal) as an unsharded run lists the folder; a path in two files is an error.</summary>
    static (string Text, int Rows) Merge(IReadOnlyList<Parsed> files, bool jsonl)
    {
        var rows = new List<PredictionsFile.Row>();
        IReadOnlyList<string>? header = null;
        foreach (var (file, fileHeader, fileRows) in files)
        {
            if (!jsonl)
            {
                if (fileHeader is null) { throw new InvalidDataException($"'{file}' is empty; expected the header row of score's output."); }
                if (header is null) { header = fileHeader; }
                else if (!header.SequenceEqual(fileHeader))
                {
                    throw new InvalidDataException($"'{file}' has the columns {string.Join(",", fileHeader)}, but '{files[0].File}' has {string.Join(",", header)}: shards must be scored with the same options.");
                }
            }
            rows.AddRange(fileRows);
        }
        foreach (var twice in rows.GroupBy(r => r.Path, StringComparer.Ordinal).Where(g => g.Count() > 1).Take(1))
        {
            throw new InvalidDataException($"Shards overlap: '{twice.Key}' is in both {string.Join(" and ", twice.Select(r => $"'{r.File}'"))}.");
        }
        return (PredictionsFile.Format(header, rows, jsonl), rows.Count);
    }
}
