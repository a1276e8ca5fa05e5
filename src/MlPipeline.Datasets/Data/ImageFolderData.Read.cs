using System.Security.Cryptography;
using MlPipeline.Evaluation;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Data;

// ImageFolderData: Decoding the files into bytes.
public static partial class ImageFolderData
{
    /// <summary>
    /// Decodes and preprocesses every image, in parallel chunks, into bytes; failures are recorded and left out. With
    /// <paramref name="cacheDirectory"/>, the bytes go to the set's decoded-image cache file there instead of memory,
    /// and a cache already there is used instead of decoding when its settings, listing and file contents match.
    /// </summary>
    /// <param name="sharedSize">When set, every image must have this sample's size (no size was given to resize to).</param>
    /// <param name="role">The set's name in <paramref name="classChecksums"/>, which receives a checksum of each class's decoded files.</param>
    static ImageSet Read(string source, string role, IReadOnlyList<LabelledImage> items, IReadOnlyList<string> classes, ImagePreprocessing preprocessing, Sampled? sharedSize, long maxPixels,
        string? cacheDirectory, List<ScoreResult> failed, List<ClassChecksum> classChecksums, out string checksum, IProgress<DataProgress>? progress, CancellationToken cancellationToken)
    {
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        string root = FileSystem.KindOf(source) == FileSystem.Kind.Directory ? Path.GetFullPath(source) : Path.GetDirectoryName(Path.GetFullPath(source))!;
        var relative = items.Select(i => ImageFolder.Relative(root, i.Path)).ToList();
        var digests = new byte[]?[items.Count];
        var errors = new string?[items.Count];
        var rowItems = new List<int>();
        ImageStore store;
        if (cacheDirectory is null)
        {
            store = Decode(source, role, items, preprocessing, sharedSize, maxPixels, null, digests, errors, rowItems, progress, cancellationToken)!;
        }
        else
        {
            var settings = CacheSettings(preprocessing, sharedSize, maxPixels);
            string path = ImageCache.PathOf(cacheDirectory, role);
            store = Reuse(path, role, items, relative, settings, preprocessing, digests, errors, rowItems, progress, cancellationToken)
                ?? DecodeToCache(path, source, role, items, relative, settings, preprocessing, sharedSize, maxPixels, digests, errors, rowItems, progress, cancellationToken);
        }
        for (int i = 0; i < items.Count; i++)
        {
            if (errors[i] is { } error) { failed.Add(new ScoreResult(items[i].Path, null, error)); }
        }
        checksum = Checksums(role, items, relative, classes, digests, rowItems, classChecksums);
        int[] labels = [.. rowItems.Select(i => index[items[i].Label])];
        return new ImageSet(store, null, labels, preprocessing.Channels, preprocessing.Height, preprocessing.Width, classes);
    }

    static ImageCache.Settings CacheSettings(ImagePreprocessing p, Sampled? sharedSize, long maxPixels) =>
        new(p.Width, p.Height, p.ColorMode.ToString(), p.Resize.ToString(), p.ResizeShorter, p.Background?.ToString(), p.IgnoreExifOrientation, maxPixels,
            sharedSize is null ? null : $"{sharedSize.Width}x{sharedSize.Height}");

    /// <summary>The cache at <paramref name="path"/> when it is this set's, read with these settings; null (with a message saying why, when there was a file) otherwise.</summary>
    static FileImageStore? Reuse(string path, string role, IReadOnlyList<LabelledImage> items, List<string> relative, ImageCache.Settings settings, ImagePreprocessing preprocessing,
        byte[]?[] digests, string?[] errors, List<int> rowItems, IProgress<DataProgress>? progress, CancellationToken cancellationToken)
    {
        string previous = ImageCache.PreviousOf(path);
        // The partial file of a build that a kill stopped (it can be nearly a whole cache's size) goes, whether the cache
        // is then reused or rebuilt (only after this, by DecodeToCache).
        AtomicFile.RemoveLeftovers(path);
        if (FileSystem.KindOf(path) == FileSystem.Kind.Missing && FileSystem.KindOf(previous) == FileSystem.Kind.Missing) { return null; }
        // Every file is read and hashed (much cheaper than decoding it) to know that the cache holds these files' pixels.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string step = $"Checking the {role} images against the cache";
        var readErrors = new string?[items.Count];
        int done = 0;
        foreach (var chunk in Enumerable.Range(0, items.Count).Chunk(Chunk))
        {
            cancellationToken.ThrowIfCancellationRequested();
            Parallel.ForEach(chunk, i =>
            {
                try
                {
                    digests[i] = SHA256.HashData(ImageDecoder.ReadFile(items[i].Path));
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
                {
                    readErrors[i] = e.Message;
                }
            });
            done += chunk.Length;
            progress?.Report(new DataProgress(step, done, items.Count, clock.Elapsed));
        }
        string listing = ImageCache.ListingSha256(relative, [.. items.Select(i => i.Label)], digests);
        int imageSize = preprocessing.Channels * preprocessing.Height * preprocessing.Width;
        var cached = ImageCache.TryOpen(path, settings, items.Count, listing, imageSize, out string? reason);
        // The cache a refused run replaced (say a resume with another size) is kept beside it: it may be this one.
        if (cached is null && ImageCache.TryOpen(previous, settings, items.Count, listing, imageSize, out _) is { } kept)
        {
            Swap(path, previous);
            cached = (kept.Store.MovedTo(path), kept.Description);
        }
        if (cached is null)
        {
            if (reason is not null) { progress?.Report(DataProgress.Note($"The decoded-image cache {path} is not used because {reason}; the {role} images are decoded again.")); }
            Array.Clear(digests);
            return null;
        }
        var (store, description) = cached.Value;
        foreach (var (item, error) in description.Failed) { errors[item] = readErrors[item] ?? error; }
        rowItems.AddRange(description.Rows);
        progress?.Report(DataProgress.Note(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Reused the {description.Rows.Length} decoded {role} images of {path} ({(long)description.Rows.Length * imageSize / 1e6:F1} MB; checked in {clock.Elapsed.TotalSeconds:F1} s)")));
        return store;
    }

    /// <summary>Decodes the set into a new cache file at <paramref name="path"/> (<see cref="Load"/> checked the disk's room for every set before any was decoded).</summary>
    static FileImageStore DecodeToCache(string path, string source, string role, IReadOnlyList<LabelledImage> items, List<string> relative, ImageCache.Settings settings, ImagePreprocessing preprocessing,
        Sampled? sharedSize, long maxPixels, byte[]?[] digests, string?[] errors, List<int> rowItems, IProgress<DataProgress>? progress, CancellationToken cancellationToken)
    {
        int imageSize = preprocessing.Channels * preprocessing.Height * preprocessing.Width;
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        // The cache this one replaces is kept as the previous one when the disk has room for both, so that a run refused
        // once its data is read (a resume with another size) has not cost the folder its cache; without that room it
        // goes first, so that the new one has its room. A previous one already there is the cache of the last run that
        // went ahead (which removes it once it does), so the one at the path is a refused run's: that one goes, and a
        // second refused run costs the folder nothing either.
        string previous = ImageCache.PreviousOf(path);
        long needed = ImageCache.BytesNeeded(items.Count, imageSize);
        if (FileSystem.KindOf(path) == FileSystem.Kind.RegularFile)
        {
            if (FileSystem.KindOf(previous) != FileSystem.Kind.RegularFile && FreeSpace(folder) >= needed) { File.Move(path, previous); }
            else { File.Delete(path); }
        }
        if (FileSystem.KindOf(previous) == FileSystem.Kind.RegularFile && FreeSpace(folder) < needed) { File.Delete(previous); }
        try
        {
            using var writer = ImageCache.Create(path, imageSize);
            Decode(source, role, items, preprocessing, sharedSize, maxPixels, writer, digests, errors, rowItems, progress, cancellationToken);
            string listing = ImageCache.ListingSha256(relative, [.. items.Select(i => i.Label)], digests);
            var failedItems = Enumerable.Range(0, items.Count).Where(i => errors[i] is not null).ToDictionary(i => i, i => errors[i]!);
            return writer.Commit(settings, items.Count, listing, [.. rowItems], failedItems);
        }
        catch (IOException e) when (!File.Exists(path))
        {
            throw new IOException($"Writing the decoded-image cache '{path}' failed: {e.Message} Nothing else in its folder was changed.", e);
        }
    }

    /// <summary>Exchanges two files' names.</summary>
    static void Swap(string a, string b)
    {
        if (FileSystem.KindOf(a) == FileSystem.Kind.Missing)
        {
            File.Move(b, a);
            return;
        }
        string temporary = a + ".swap";
        File.Move(a, temporary, overwrite: true);
        File.Move(b, a);
        File.Move(temporary, b);
    }

    /// <summary>The free bytes of the disk a folder is on (replaced by tests).</summary>
    internal static Func<string, long> FreeSpace { get; set; } = FileSystem.FreeSpace;

    /// <summary>
    /// Decodes every image in chunks, appending the decoded ones to <paramref name="writer"/> (or, without one, to memory,
    /// returned as a store), filling each file's digest or error and the item of each row.
    /// </summary>
    static MemoryImageStore? Decode(string source, string role, IReadOnlyList<LabelledImage> items, ImagePreprocessing preprocessing, Sampled? sharedSize, long maxPixels, ImageCache.Writer? writer,
        byte[]?[] digests, string?[] errors, List<int> rowItems, IProgress<DataProgress>? progress, CancellationToken cancellationToken)
    {
        var preprocessor = new ImagePreprocessor(preprocessing);
        int imageSize = preprocessing.Channels * preprocessing.Height * preprocessing.Width;
        var pixels = new List<byte[]>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string step = $"Decoding the {role} images" + (writer is null ? "" : " into the cache");
        int start = 0;
        foreach (var chunk in items.Chunk(Chunk))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (decoded, chunkErrors, chunkDigests, sizes) = DecodeChunk(chunk, preprocessor, preprocessing, sharedSize, maxPixels);
            int other = Array.FindIndex(sizes, s => s is not null);
            if (other >= 0)
            {
                var (w, h) = sizes[other]!.Value;
                throw MixedSizes(source, sharedSize!, new Sampled(chunk[other].Path, w, h, false));
            }
            for (int i = 0; i < chunk.Length; i++)
            {
                digests[start + i] = chunkDigests[i];
                if (chunkErrors[i] is { } error)
                {
                    errors[start + i] = error;
                    continue;
                }
                if (writer is null) { pixels.Add(decoded[i]); }
                else { writer.Add(decoded[i]); }
                rowItems.Add(start + i);
            }
            start += chunk.Length;
            progress?.Report(new DataProgress(step, start, items.Count, clock.Elapsed));
        }
        if (writer is not null) { return null; }
        // In long arithmetic: the product of count and image size overflows an int long before memory runs out.
        long total = (long)pixels.Count * imageSize;
        if (total > Array.MaxLength) { throw new InvalidDataException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"'{source}' decodes to {total:N0} bytes, more than the {Array.MaxLength:N0} one set can hold in memory; give a smaller size or fewer images, or keep the images in a cache file (ImageFolderOptions.CacheDirectory).")); }
        byte[] all = new byte[total];
        for (int i = 0; i < pixels.Count; i++) { pixels[i].CopyTo(all, (long)i * imageSize); }
        return new MemoryImageStore(all, imageSize, pixels.Count);
    }

    /// <summary>The set's checksum (SHA-256 over the decoded files' digests, in order) and each class's (over relative path and digest), added to <paramref name="classChecksums"/>.</summary>
    static string Checksums(string role, IReadOnlyList<LabelledImage> items, List<string> relative, IReadOnlyList<string> classes, byte[]?[] digests, List<int> rowItems, List<ClassChecksum> classChecksums)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var perClass = new Dictionary<string, (IncrementalHash Hash, int Files)>(StringComparer.Ordinal);
        try
        {
            foreach (int i in rowItems)
            {
                hash.AppendData(digests[i]!);
                if (!perClass.TryGetValue(items[i].Label, out var entry)) { entry = (IncrementalHash.CreateHash(HashAlgorithmName.SHA256), 0); }
                entry.Hash.AppendData(System.Text.Encoding.UTF8.GetBytes(relative[i] + "\n"));
                entry.Hash.AppendData(digests[i]!);
                perClass[items[i].Label] = (entry.Hash, entry.Files + 1);
            }
            foreach (string label in classes)
            {
                if (perClass.TryGetValue(label, out var entry)) { classChecksums.Add(new ClassChecksum(role, label, entry.Files, "sha256:" + Convert.ToHexStringLower(entry.Hash.GetHashAndReset()))); }
            }
            return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            foreach (var (h, _) in perClass.Values) { h.Dispose(); }
        }
    }

    /// <summary>Reads, hashes, decodes and preprocesses one chunk of files in parallel: each file's bytes, or its error, its digest, and its size when it is not the shared one.</summary>
    static (byte[][] Decoded, string?[] Errors, byte[][] Digests, (int W, int H)?[] Sizes) DecodeChunk(LabelledImage[] chunk, ImagePreprocessor preprocessor, ImagePreprocessing preprocessing, Sampled? sharedSize, long maxPixels)
    {
        int imageSize = preprocessing.Channels * preprocessing.Height * preprocessing.Width;
        var decoded = new byte[chunk.Length][];
        var errors = new string?[chunk.Length];
        var digests = new byte[chunk.Length][];
        var sizes = new (int W, int H)?[chunk.Length];
        // Each worker reads, hashes, decodes and preprocesses whole files into its own buffer, then keeps the bytes.
        Parallel.For(0, chunk.Length, () => new float[imageSize], (i, _, buffer) =>
        {
            try
            {
                byte[] bytes = ImageDecoder.ReadFile(chunk[i].Path);
                digests[i] = SHA256.HashData(bytes);
                using var bitmap = ImageDecoder.DecodeAsMLImageHoldsIt(bytes, maxPixels, preprocessing.IgnoreExifOrientation);
                if (sharedSize is not null && (bitmap.Width != sharedSize.Width || bitmap.Height != sharedSize.Height))
                {
                    sizes[i] = (bitmap.Width, bitmap.Height);
                    return buffer;
                }
                preprocessor.Fill(bitmap, buffer);
                var image = new byte[imageSize];
                // Offset 0 and scale 1: every value is a whole pixel byte.
                for (int j = 0; j < imageSize; j++) { image[j] = (byte)buffer[j]; }
                decoded[i] = image;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                errors[i] = e.Message;
            }
            return buffer;
        }, _ => { });
        return (decoded, errors, digests, sizes);
    }

    static ImageSet ReadOther(string source, IReadOnlyList<LabelledImage> items, string role, IReadOnlyList<string> classes, ImagePreprocessing preprocessing, ImageFolderOptions options, List<ScoreResult> failed,
        Dictionary<string, string> checksums, List<ClassChecksum> classChecksums, IProgress<DataProgress>? progress, CancellationToken cancellationToken)
    {
        var unknown = items.Select(i => i.Label).Where(l => !classes.Contains(l)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"The {role} set '{source}' has classes the training set lacks: {string.Join(", ", unknown.Take(10))}; expected some of {string.Join(", ", classes)}.");
        }
        var set = Read(source, role, items, classes, preprocessing, null, options.MaxImagePixels, options.CacheDirectory, failed, classChecksums, out string checksum, progress, cancellationToken);
        if (set.Count == 0) { throw new InvalidDataException($"None of the images of the {role} set '{source}' could be read."); }
        checksums[role] = checksum;
        return set;
    }
}
