namespace MlPipeline.Training;

/// <summary>
/// A training run's folder, held under an exclusive lock for the run's lifetime so that two processes never train
/// into one folder. Names the files a run keeps; a folder this process created and left with nothing in it is
/// removed again when the run fails before writing anything.
/// </summary>
public sealed class RunFolder : IDisposable
{
    /// <summary>Weights, optimiser state and where the run stands (written atomically after every epoch and on stop).</summary>
    public const string CheckpointFile = "checkpoint.bin";

    /// <summary>With early stopping, the best epoch's weights, which the finished model uses.</summary>
    public const string BestCheckpointFile = "best.bin";

    /// <summary>One entry per finished epoch.</summary>
    public const string HistoryFile = MlPipeline.Evaluation.TrainingHistory.FileName;

    /// <summary>The finished model's description (architecture, preprocessing, labels); present only when the run finished.</summary>
    public const string ModelFile = "model.json";

    /// <summary>The finished model's test metrics.</summary>
    public const string MetricsFile = "metrics.json";

    /// <summary>The files the data loader could not read (<c>path,error</c>); present only when there were some.</summary>
    public const string DataErrorsFile = "data-errors.csv";

    /// <summary>The cache of a backbone's features, by content (see <c>Transfer.FeatureCache</c>).</summary>
    public const string FeaturesFile = "features.bin";

    /// <summary>The lock file; a second process that opens the folder while it is held gets an error.</summary>
    public const string LockFile = "run.lock";

    /// <summary>
    /// The decoded-image cache files, one per set (<c>images-training.bin</c>, <c>images-validation.bin</c>,
    /// <c>images-test.bin</c>), when the images are kept on disk, and those a run replaced, kept until it goes ahead
    /// (<c>images-training.previous.bin</c>, …: a run refused once its data is read leaves the old cache reusable).
    /// </summary>
    public static IReadOnlyList<string> ImageCacheFiles => MlPipeline.Data.ImageCache.FileNames;

    /// <summary>Every file a run folder keeps; an export or another output must not overwrite any of them.</summary>
    public static IReadOnlyList<string> Files { get; } = [CheckpointFile, BestCheckpointFile, HistoryFile, ModelFile, MetricsFile, DataErrorsFile, FeaturesFile, .. ImageCacheFiles, LockFile];

    readonly FileStream lockStream;
    readonly bool created;

    RunFolder(string path, FileStream lockStream, bool created)
    {
        Path = path;
        this.lockStream = lockStream;
        this.created = created;
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>A file of the run, by name (see the constants).</summary>
    public string this[string file] => System.IO.Path.Combine(Path, file);

    /// <summary>
    /// Checks, before any work, that <paramref name="path"/> can be a run folder: missing, empty, or already a run's
    /// (it holds <see cref="LockFile"/>, which every run folder holds from its first moment on). A folder holding only
    /// a <see cref="FeaturesFile"/> or <see cref="ImageCacheFiles"/> (caches copied there to be reused; they are checked) is fine too.
    /// </summary>
    /// <exception cref="IOException">The path is a file, or a folder of other files (the message names one): a run would replace its <c>metrics.json</c> or <c>history.json</c> and delete its <c>data-errors.csv</c>.</exception>
    public static void RequireUsable(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (File.Exists(path)) { throw new IOException($"Run folder '{path}' is a file; expected a folder (or a path where one can be created)."); }
        MlPipeline.Internals.OutputPaths.RequireNewEmptyOrOwn(path, LockFile, "Run folder",
            $"a run writes {CheckpointFile}, {HistoryFile}, {MetricsFile}, {ModelFile} and {DataErrorsFile} there and would replace or delete files of those names",
            [FeaturesFile, .. ImageCacheFiles]);
    }

    /// <summary>Creates the folder when needed and takes its lock.</summary>
    /// <exception cref="IOException">The path is a file, a folder of other files (see <see cref="RequireUsable"/>), or another process holds the run's lock.</exception>
    public static RunFolder Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = System.IO.Path.GetFullPath(path);
        RequireUsable(path);
        bool created = !Directory.Exists(full);
        Directory.CreateDirectory(full);
        var held = MlPipeline.Internals.ExclusiveLock.TryTake(System.IO.Path.Combine(full, LockFile), "The run's lock file")
            ?? throw new IOException($"Run folder '{path}' is in use: another MlPipeline process holds its lock ({LockFile}). Wait for that run to finish, or train into another folder.");
        return new RunFolder(full, held, created);
    }

    /// <summary>Whether the folder holds a checkpoint.</summary>
    public bool HasCheckpoint => File.Exists(this[CheckpointFile]);

    /// <summary>
    /// Refuses a resume of a folder without a checkpoint, and a new run into a folder that holds one (it would replace
    /// that run). Training checks this itself; call it first to refuse before any data is read.
    /// </summary>
    /// <exception cref="InvalidOperationException">The folder does not fit <paramref name="resume"/>.</exception>
    public void RequireResumable(bool resume)
    {
        if (HasCheckpoint && !resume)
        {
            throw new InvalidOperationException($"Run folder '{Path}' already holds a checkpoint; pass --resume (Resume = true) to continue it, or choose another output folder.");
        }
        if (!HasCheckpoint && resume)
        {
            throw new InvalidOperationException($"Run folder '{Path}' holds no checkpoint to resume; leave out --resume (Resume = false) to start a new run there.");
        }
    }

    /// <summary>Whether the folder holds a finished model (its <c>model.json</c>).</summary>
    public bool IsFinished => File.Exists(this[ModelFile]);

    /// <summary>
    /// Releases the lock; when this process created the folder and wrote nothing but the lock and decoded-image cache
    /// files (a run that failed before its first epoch), removes the folder: a failed run leaves no output behind.
    /// </summary>
    public void Abandon()
    {
        lockStream.Dispose();
        if (!created) { return; }
        try
        {
            var entries = Directory.EnumerateFileSystemEntries(Path).Select(e => System.IO.Path.GetFileName(e)).ToList();
            if (entries.All(e => e == LockFile || ImageCacheFiles.Contains(e)))
            {
                foreach (string entry in entries) { File.Delete(this[entry]); }
                Directory.Delete(Path);
            }
        }
        catch (IOException)
        {
            // Best effort: an empty folder left behind loses nothing.
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => lockStream.Dispose();
}
