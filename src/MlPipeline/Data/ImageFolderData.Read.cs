using System.Security.Cryptography;
using MlPipeline.Evaluation;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Data;

// ImageFolderData: Decoding the files into bytes.
public static partial class ImageFolderData
{
    /// <summary>Decodes and preprocesses every image, in parallel chunks, into bytes; failures are recorded and left out.</summary>
    /// <param name="sharedSize">When set, every image must have this sample's size (no size was given to resize to).</param>
    /// <param name="role">The set's name in <paramref name="classChecksums"/>, which receives a checksum of each class's decoded files.</param>
    static ImageSet Read(string source, string role, IReadOnlyList<LabelledImage> items, IReadOnlyList<string> classes, ImagePreprocessing preprocessing, Sampled? sharedSize, long maxPixels,
        List<ScoreResult> failed, List<ClassChecksum> classChecksums, out string checksum, CancellationToken cancellationToken)
    {
        using var perClass = new ClassHashes(source, classes);
        var preprocessor = new ImagePreprocessor(preprocessing, "pixels");
        int imageSize = preprocessing.Channels * preprocessing.Height * preprocessing.Width;
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        var pixels = new List<byte[]>();
        var labels = new List<int>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var chunk in items.Chunk(Chunk))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (decoded, errors, digests, sizes) = DecodeChunk(chunk, preprocessor, preprocessing, sharedSize, maxPixels);
            int other = Array.FindIndex(sizes, s => s is not null);
            if (other >= 0)
            {
                var (w, h) = sizes[other]!.Value;
                throw MixedSizes(source, sharedSize!, new Sampled(chunk[other].Path, w, h, false));
            }
            for (int i = 0; i < chunk.Length; i++)
            {
                if (errors[i] is { } error)
                {
                    failed.Add(new ScoreResult(chunk[i].Path, null, error));
                    continue;
                }
                hash.AppendData(digests[i]);
                perClass.Add(chunk[i], digests[i]);
                pixels.Add(decoded[i]);
                labels.Add(index[chunk[i].Label]);
            }
        }
        checksum = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
        classChecksums.AddRange(perClass.Finish(role));
        // In long arithmetic: the product of count and image size overflows an int long before memory runs out.
        long total = (long)pixels.Count * imageSize;
        if (total > Array.MaxLength) { throw new InvalidDataException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"'{source}' decodes to {total:N0} bytes, more than the {Array.MaxLength:N0} one set can hold; give a smaller size or fewer images.")); }
        byte[] all = new byte[total];
        for (int i = 0; i < pixels.Count; i++) { pixels[i].CopyTo(all, (long)i * imageSize); }
        return new ImageSet(all, [.. labels], preprocessing.Channels, preprocessing.Height, preprocessing.Width, classes);
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
        Dictionary<string, string> checksums, List<ClassChecksum> classChecksums, CancellationToken cancellationToken)
    {
        var unknown = items.Select(i => i.Label).Where(l => !classes.Contains(l)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"The {role} set '{source}' has classes the training set lacks: {string.Join(", ", unknown.Take(10))}; expected some of {string.Join(", ", classes)}.");
        }
        var set = Read(source, role, items, classes, preprocessing, null, options.MaxImagePixels, failed, classChecksums, out string checksum, cancellationToken);
        if (set.Count == 0) { throw new InvalidDataException($"None of the images of the {role} set '{source}' could be read."); }
        checksums[role] = checksum;
        return set;
    }

    /// <summary>A SHA-256 per class over each decoded file's relative path and content digest, in the order read.</summary>
    sealed class ClassHashes(string source, IReadOnlyList<string> classes) : IDisposable
    {
        readonly string root = FileSystem.KindOf(source) == FileSystem.Kind.Directory ? Path.GetFullPath(source) : Path.GetDirectoryName(Path.GetFullPath(source))!;
        readonly Dictionary<string, (IncrementalHash Hash, int Files)> hashes = new(StringComparer.Ordinal);

        public void Add(LabelledImage item, byte[] digest)
        {
            if (!hashes.TryGetValue(item.Label, out var entry)) { entry = (IncrementalHash.CreateHash(HashAlgorithmName.SHA256), 0); }
            entry.Hash.AppendData(System.Text.Encoding.UTF8.GetBytes(ImageFolder.Relative(root, item.Path) + "\n"));
            entry.Hash.AppendData(digest);
            hashes[item.Label] = (entry.Hash, entry.Files + 1);
        }

        public IEnumerable<ClassChecksum> Finish(string role)
        {
            foreach (string label in classes)
            {
                if (!hashes.TryGetValue(label, out var entry)) { continue; }
                yield return new ClassChecksum(role, label, entry.Files, "sha256:" + Convert.ToHexStringLower(entry.Hash.GetHashAndReset()));
            }
        }

        public void Dispose()
        {
            foreach (var (hash, _) in hashes.Values) { hash.Dispose(); }
        }
    }
}
