using System.Text.Json;
using MlPipeline.Internals;

namespace MlPipeline.Formats;

/// <summary>
/// The resumable store of a file output of <c>score</c>: <c>OUTPUT.partial</c> and <c>OUTPUT.errors.csv.partial</c> grow
/// as results come (appended on <c>--resume</c>), <c>OUTPUT.partial.json</c> says what they were scored with, and
/// <c>OUTPUT.partial.lock</c> keeps a second run out. The order of every step is chosen so that a kill at any moment
/// leaves either nothing to resume or files that resume to what an uninterrupted run writes: the headers are written
/// and flushed before the settings file that makes the files resumable, and a torn last record is cut on resume.
/// </summary>
internal sealed class PartialOutput
{
    readonly Action<string> pause;

    PartialOutput(string output, FileStream held, Action<string> pause)
    {
        Output = output;
        Lock = held;
        this.pause = pause;
    }

    /// <summary>The output the partial files become.</summary>
    public string Output { get; }

    /// <summary>The held lock (released by <see cref="Release"/>, or by the OS if the process dies).</summary>
    public FileStream Lock { get; }

    /// <summary>The partial predictions file.</summary>
    public string Path => PredictionsFile.PartialPath(Output);

    /// <summary>Where the predictions are appended.</summary>
    public FileStream Predictions { get; private set; } = null!;

    /// <summary>Where the failures are appended.</summary>
    public FileStream Errors { get; private set; } = null!;

    /// <summary>Whether an interrupted run is continued.</summary>
    public bool Resumed { get; private set; }

    /// <summary>The relative paths the interrupted run already scored or failed.</summary>
    public HashSet<string> Done { get; } = new(StringComparer.Ordinal);

    readonly HashSet<string> doneFailed = new(StringComparer.Ordinal);

    /// <summary>How many of <see cref="Done"/> failed.</summary>
    public int DoneFailed => doneFailed.Count;

    /// <summary>How many of <see cref="Done"/> were scored.</summary>
    public int DoneScored => Done.Count - DoneFailed;

    HashSet<string>? listed;

    /// <summary>
    /// Keeps only the rows of files still in <paramref name="images"/> (relative paths): a file deleted from the folder
    /// between the interruption and the resume is no longer in the output, as in an uninterrupted run. Returns how many
    /// rows are dropped.
    /// </summary>
    public int KeepOnly(IEnumerable<string> images)
    {
        listed = new HashSet<string>(images, StringComparer.Ordinal);
        int before = Done.Count;
        Done.IntersectWith(listed);
        doneFailed.IntersectWith(listed);
        return before - Done.Count;
    }

    /// <summary>
    /// Takes the output's lock and opens its partial files: continues them when <paramref name="resume"/> is set and
    /// they were scored as <paramref name="run"/>, else starts them afresh. <paramref name="note"/> receives what the
    /// user is told (nothing to resume, starting over); <paramref name="pause"/> is the test seam called at each step.
    /// </summary>
    public static PartialOutput Open(string output, ScoringRun run, IReadOnlyList<string> header, bool jsonl, bool resume, Action<string> note, Action<string> pause)
    {
        foreach (var (file, what) in new[] { (PredictionsFile.LockPath(output), "The lock file"), (PredictionsFile.PartialPath(output), "The partial output"), (PredictionsFile.PartialPath(PredictionsFile.ErrorsPath(output)), "The partial errors file"), (PredictionsFile.PartialSettingsPath(output), "The partial output's settings") })
        {
            FileSystem.RequireFileOrMissing(file, what);
        }
        // An exclusive lock (flock, released by the OS if the process dies) before anything is read or written: a second
        // run into the same output is refused instead of interleaving with, or truncating, this one.
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(output))!);
        var held = ExclusiveLock.TryTake(PredictionsFile.LockPath(output), "The lock file")
            ?? throw new IOException($"'{output}' is in use: another mlpipeline run is writing this output ({PredictionsFile.LockPath(output)} is locked). Wait for it, or write elsewhere.");
        var partial = new PartialOutput(output, held, pause);
        bool starting = false;
        try
        {
            // Temporary files of writes that a kill interrupted (each can be a whole copy of the output).
            foreach (string file in new[] { output, PredictionsFile.ErrorsPath(output), PredictionsFile.ManifestPath(output), PredictionsFile.PartialPath(output), partial.ErrorsPartial, PredictionsFile.PartialSettingsPath(output) })
            {
                AtomicFile.RemoveLeftovers(file);
            }
            if (resume && partial.CanResume(run, note)) { partial.Continue(header, jsonl); }
            else
            {
                starting = true;
                partial.Start(run, header, jsonl, resume, note);
            }
            return partial;
        }
        catch
        {
            Close(partial.Predictions);
            Close(partial.Errors);
            // A start that failed leaves nothing; an interrupted run that could not be resumed is left as it was.
            if (starting) { partial.Discard(); }
            else { held.Dispose(); }
            throw;
        }
    }

    string ErrorsPartial => PredictionsFile.PartialPath(PredictionsFile.ErrorsPath(Output));

    bool CanResume(ScoringRun run, Action<string> note)
    {
        if (!File.Exists(Path) || !File.Exists(PredictionsFile.PartialSettingsPath(Output)))
        {
            note($"Nothing to resume in {Path}; scoring from the start.");
            return false;
        }
        var then = ScoringRun.Read<ScoringRun>(PredictionsFile.PartialSettingsPath(Output), "The partial output's settings");
        var differences = run.DifferencesFrom(then);
        if (differences.Count > 0)
        {
            throw new InvalidOperationException($"The interrupted run in '{Path}' was scored differently: {string.Join("; ", differences)}. Resume with the same input, model, preprocessing, shard and columns, or leave out --resume to start over.");
        }
        return true;
    }

    /// <summary>Starts afresh: the settings file goes first (nothing is resumable while the files are new), the headers are written and flushed, then the settings are written.</summary>
    void Start(ScoringRun run, IReadOnlyList<string> header, bool jsonl, bool resume, Action<string> note)
    {
        if (!resume && File.Exists(Path)) { note($"note: starting over; {Path} holds an interrupted run (add --resume to continue it instead)."); }
        File.Delete(PredictionsFile.PartialSettingsPath(Output));
        // Removed, then created anew: a link planted at a partial file's name is replaced, never written through.
        File.Delete(Path);
        File.Delete(ErrorsPartial);
        Predictions = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        Errors = new FileStream(ErrorsPartial, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        pause("score.created");
        if (!jsonl) { Predictions.Write(PredictionsFile.HeaderBytes(header)); }
        Errors.Write(PredictionsFile.HeaderBytes(PredictionsFile.ErrorColumns));
        Predictions.Flush(flushToDisk: true);
        Errors.Flush(flushToDisk: true);
        pause("score.headers-written");
        AtomicFile.WriteAllText(PredictionsFile.PartialSettingsPath(Output), JsonSerializer.Serialize(run, ScoringRun.Json) + "\n");
    }

    /// <summary>Continues the partial files: a torn last record is cut, a torn or missing header written again, and what they hold is skipped.</summary>
    void Continue(IReadOnlyList<string> header, bool jsonl)
    {
        foreach (var row in Repair(Path, jsonl ? null : header)) { Done.Add(row.Path); }
        foreach (var row in Repair(ErrorsPartial, PredictionsFile.ErrorColumns))
        {
            if (Done.Add(row.Path)) { doneFailed.Add(row.Path); }
        }
        Resumed = true;
        Predictions = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        Errors = new FileStream(ErrorsPartial, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    /// <summary>
    /// Writes the file anew (through a rename, so that a link at its name is replaced, not written through) with its
    /// complete records only, and the header when it had none; returns its rows.
    /// </summary>
    static List<PredictionsFile.Row> Repair(string file, IReadOnlyList<string>? header)
    {
        long kept = File.Exists(file) ? PredictionsFile.CompleteLength(file, csv: header is not null) : 0;
        using (var writer = AtomicFile.Begin(file))
        {
            if (kept > 0) { CopyStart(file, kept, writer.Stream); }
            else if (header is not null) { writer.Stream.Write(PredictionsFile.HeaderBytes(header)); }
            writer.Commit();
        }
        var (found, rows) = PredictionsFile.Read(file, jsonl: header is null);
        if (header is not null && !found!.SequenceEqual(header))
        {
            string columns = string.Join(",", found!);
            throw new InvalidDataException($"'{file}' starts with the columns {(columns.Length > 200 ? columns[..200] + "…" : columns)}, not this run's {string.Join(",", header)}; it is not this output's partial file: leave out --resume to start over.");
        }
        return rows;
    }

    static void CopyStart(string file, long length, Stream to)
    {
        using var from = FileSystem.OpenRead(file, "Partial output");
        var buffer = new byte[1 << 16];
        for (long left = length; left > 0;)
        {
            int read = from.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0) { throw new EndOfStreamException($"'{file}' became shorter while it was read."); }
            to.Write(buffer, 0, read);
            left -= read;
        }
    }

    /// <summary>Closes and removes the partial files: the run wrote nothing worth resuming.</summary>
    public void Discard()
    {
        Close(Predictions);
        Close(Errors);
        File.Delete(PredictionsFile.PartialSettingsPath(Output));
        File.Delete(Path);
        File.Delete(ErrorsPartial);
        Release();
    }

    /// <summary>
    /// Closes a stream whose contents are being given up: a write it still buffers may fail again (a full disk) and
    /// must not stop the files from being removed.
    /// </summary>
    static void Close(Stream? stream)
    {
        try
        {
            stream?.Dispose();
        }
        catch (IOException)
        {
            // The buffered bytes are discarded with the file.
        }
    }

    /// <summary>Removes the lock file and releases the lock.</summary>
    public void Release()
    {
        File.Delete(PredictionsFile.LockPath(Output));
        Lock.Dispose();
    }

    /// <summary>
    /// The published form of a partial file, written to a temporary file beside <paramref name="target"/> and flushed to
    /// disk, to be committed: a copy when written in one go (already in order; the partial file stays until the run is
    /// settled, so a kill after publishing resumes to the same files), else its rows in the folder's order, each listed
    /// file once (a row a hand-edit doubled, or one in both files, is kept once: the prediction).
    /// </summary>
    AtomicWriter Prepare(string partial, string target, IReadOnlyList<string> columns, bool lines, bool errors)
    {
        var writer = AtomicFile.Begin(target);
        try
        {
            if (Resumed)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                bool Predicted(string path) => Done.Contains(path) && !doneFailed.Contains(path);
                bool Keep(PredictionsFile.Row row) => (listed is null || listed.Contains(row.Path)) && !(errors && Predicted(row.Path)) && seen.Add(row.Path);
                writer.Stream.Write(System.Text.Encoding.UTF8.GetBytes(PredictionsFile.Format(columns, [.. PredictionsFile.Read(partial, lines).Rows.Where(Keep)], lines)));
            }
            else
            {
                using var from = File.OpenRead(partial);
                from.CopyTo(writer.Stream);
            }
            writer.Stream.Flush(flushToDisk: true);
            return writer;
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Publishes the partial files as the output (sorted by path when resumed, else as written), then writes the
    /// shard manifest <paramref name="manifest"/> gives (if any), then removes the partial files. A manifest left
    /// beside the output by an earlier run is removed first, so that it never describes the new output; the errors
    /// file is settled before the predictions, so that new predictions never sit beside the previous run's failures.
    /// A kill at any step leaves the partial files, which resume to the same result.
    /// </summary>
    public void Publish(bool anyFailed, IReadOnlyList<string> header, bool jsonl, string manifestPath, Func<string>? manifest)
    {
        Predictions.Dispose();
        Errors.Dispose();
        string errorsPath = PredictionsFile.ErrorsPath(Output);
        // Both files are written out in full (and to disk) before either replaces its target, so that a disk that
        // fills leaves the previous pair as it was; the renames that follow need no room.
        using var errorsFile = anyFailed ? Prepare(ErrorsPartial, errorsPath, PredictionsFile.ErrorColumns, false, errors: true) : null;
        using var outputFile = Prepare(Path, Output, header, jsonl, errors: false);
        File.Delete(manifestPath);
        if (errorsFile is not null) { errorsFile.Commit(); }
        else { File.Delete(errorsPath); }
        pause("score.errors-published");
        outputFile.Commit();
        pause("score.output-published");
        if (manifest is not null) { AtomicFile.WriteAllText(manifestPath, manifest()); }
        File.Delete(Path);
        File.Delete(ErrorsPartial);
        File.Delete(PredictionsFile.PartialSettingsPath(Output));
        Release();
    }
}
