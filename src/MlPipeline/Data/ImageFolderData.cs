using System.Security.Cryptography;
using MlPipeline.Evaluation;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Data;

/// <summary>
/// Labelled image collections as training data, the way Keras' <c>image_dataset_from_directory</c> and torchvision's
/// <c>ImageFolder</c> read them: a folder per class (<c>DIR/&lt;class&gt;/…</c>, nested folders allowed, classes in
/// ordinal order) or a <c>path,label</c> CSV. Files are decoded by the strict decoder scoring uses and resized,
/// converted and laid out by the same ML.NET chain, so a file becomes exactly the tensor scoring feeds the model.
/// </summary>
public static class ImageFolderData
{
    const int Chunk = 512;

    /// <summary>Loads the images of <paramref name="source"/> (a folder of class folders, or a CSV), splits them and returns them as bytes.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="InvalidDataException">Fewer than two classes, images of different sizes without a size given, or no image could be read.</exception>
    public static ImageFolderLoad Load(string source, ImageFolderOptions? options = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        options = (options ?? new ImageFolderOptions()).Validate();
        var warnings = new List<string>();
        var (items, ignored) = List(source, warnings);
        var classes = items.Select(i => i.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (classes.Count < 2)
        {
            throw new InvalidDataException($"'{source}' holds {classes.Count} class{(classes.Count == 1 ? $" ('{classes[0]}')" : "es")}; a classifier needs at least two: a folder per class, or a CSV with two or more labels.");
        }
        var (preprocessing, sharedSize) = Resolve(source, items, options, cancellationToken);
        progress?.Report($"{items.Count} images in {classes.Count} classes, read as {preprocessing.Width}x{preprocessing.Height} {preprocessing.ColorMode.ToString().ToLowerInvariant()}");
        var failed = new List<ScoreResult>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var all = Read(source, items, classes, preprocessing, sharedSize, options.MaxImagePixels, failed, out string checksum, cancellationToken);
        progress?.Report(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Read {all.Count} images in {clock.Elapsed.TotalSeconds:F1} s ({all.Count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F0} images/s), {all.Pixels.Length / 1e6:F1} MB as bytes"));
        if (all.Count == 0) { throw new InvalidDataException($"None of the {items.Count} images in '{source}' could be read; the first failed with: {failed[0].Path}: {failed[0].Error}."); }

        ImageSet train, validation;
        var checksums = new Dictionary<string, string>(StringComparer.Ordinal) { ["images"] = checksum };
        if (options.Validation is { } validationSource)
        {
            train = all;
            validation = ReadOther(validationSource, "validation", classes, preprocessing, options, failed, checksums, warnings, cancellationToken);
        }
        else
        {
            (train, validation) = Split(all, options.ValidationSplit, options.Seed, warnings);
        }
        ImageSet? test = options.Test is { } testSource ? ReadOther(testSource, "test", classes, preprocessing, options, failed, checksums, warnings, cancellationToken) : null;
        // Without a test set the validation images are also the test set; Validation is set either way, so that
        // training knows the per-epoch figures come from a validation split (early stopping may watch them).
        var data = new TrainingData(train, test ?? validation, checksums) { Validation = validation, Failed = failed, Source = preprocessing };
        return new ImageFolderLoad(data, preprocessing, failed, warnings, ignored);
    }

    static (List<LabelledImage> Items, int Ignored) List(string source, List<string> warnings)
    {
        if (FileSystem.KindOf(source) == FileSystem.Kind.RegularFile)
        {
            var csv = LabelledImages.FromCsv(source);
            return ([.. csv.Items], csv.Ignored);
        }
        FileSystem.RequireDirectory(source, "Image folder");
        var images = LabelledImages.FromFolder(source);
        var labels = images.Items.Select(i => i.Label).ToHashSet(StringComparer.Ordinal);
        foreach (string folder in Directory.EnumerateDirectories(source).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal))
        {
            if (!labels.Contains(folder)) { warnings.Add($"class folder '{folder}' holds no images and is left out"); }
        }
        return ([.. images.Items], images.Ignored);
    }

    /// <summary>
    /// The size and colour mode: the options', else the size of a sampled image (which every image must then share, as
    /// <see cref="Read"/> checks) and colour when any sampled image has it.
    /// </summary>
    static (ImagePreprocessing Preprocessing, Sampled? SharedSize) Resolve(string source, List<LabelledImage> items, ImageFolderOptions options, CancellationToken cancellationToken)
    {
        var samples = Sample(items, options.MaxImagePixels, options.IgnoreExifOrientation);
        var color = options.ColorMode ?? (samples.Any(s => s.Colour) ? ColorMode.Rgb : ColorMode.Gray);
        // Bytes as they are (offset 0, scale 1), resized and laid on a background as the options say.
        ImagePreprocessing ReadAs(int width, int height) => new(width, height, color, 0f, 1f) { Resize = options.Resize, Background = options.Background, IgnoreExifOrientation = options.IgnoreExifOrientation };
        if (options.Width is { } w && options.Height is { } h)
        {
            return (ReadAs(w, h).Validate(), null);
        }
        if (samples.Count > 0)
        {
            var distinct = samples.DistinctBy(s => (s.Width, s.Height)).Take(2).ToList();
            if (distinct.Count > 1) { throw MixedSizes(source, distinct[0], distinct[1]); }
            return (ReadAs(samples[0].Width, samples[0].Height).Validate(), samples[0]);
        }
        // No sample decoded: find the size from every file's header instead.
        var sizes = new Sampled?[items.Count];
        Parallel.For(0, items.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => sizes[i] = HeaderSize(items[i].Path, options.IgnoreExifOrientation));
        var found = sizes.OfType<Sampled>().DistinctBy(s => (s.Width, s.Height)).Take(2).ToList();
        if (found.Count == 0) { throw new InvalidDataException($"None of the images in '{source}' has a readable header."); }
        if (found.Count > 1) { throw MixedSizes(source, found[0], found[1]); }
        return (ReadAs(found[0].Width, found[0].Height).Validate(), found[0]);
    }

    /// <summary>A file whose size (and, when decoded, colour) was looked at.</summary>
    sealed record Sampled(string Path, int Width, int Height, bool Colour);

    static InvalidDataException MixedSizes(string source, Sampled a, Sampled b) =>
        new($"Images in '{source}' have different sizes: '{a.Path}' is {a.Width}x{a.Height} and '{b.Path}' is {b.Width}x{b.Height}; give the size to resize them to (--size WxH).");

    static Sampled? HeaderSize(string path, bool ignoreExifOrientation)
    {
        try
        {
            // Opening a FIFO blocks: a special file has no header to read (reading it later reports why).
            if (FileSystem.IsSpecial(path)) { return null; }
            using var codec = SKCodec.Create(path);
            if (codec is null) { return null; }
            var size = ImageDecoder.ShownSize(codec, ignoreExifOrientation);
            return new Sampled(path, size.Width, size.Height, false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Up to 64 images spread over the collection, decoded: their sizes, and whether a pixel's red, green and blue differ.</summary>
    static List<Sampled> Sample(List<LabelledImage> items, long maxPixels, bool ignoreExifOrientation)
    {
        var samples = new List<Sampled>();
        int step = Math.Max(1, items.Count / 64);
        for (int i = 0; i < items.Count; i += step)
        {
            try
            {
                using var bitmap = ImageDecoder.DecodeBitmap(ImageDecoder.ReadFile(items[i].Path), maxPixels, ignoreExifOrientation);
                var pixels = bitmap.GetPixelSpan();
                bool colour = false;
                for (int p = 0; p + 3 < pixels.Length && !colour; p += 4)
                {
                    colour = pixels[p + 3] != 0 && (pixels[p] != pixels[p + 1] || pixels[p + 1] != pixels[p + 2]);
                }
                samples.Add(new Sampled(items[i].Path, bitmap.Width, bitmap.Height, colour));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                // An unreadable sample says nothing; it is reported when the images are read.
            }
        }
        return samples;
    }

    /// <summary>Decodes and preprocesses every image, in parallel chunks, into bytes; failures are recorded and left out.</summary>
    /// <param name="sharedSize">When set, every image must have this sample's size (no size was given to resize to).</param>
    static ImageSet Read(string source, IReadOnlyList<LabelledImage> items, IReadOnlyList<string> classes, ImagePreprocessing preprocessing, Sampled? sharedSize, long maxPixels, List<ScoreResult> failed, out string checksum, CancellationToken cancellationToken)
    {
        var preprocessor = new ImagePreprocessor(preprocessing, "pixels");
        int imageSize = preprocessing.Channels * preprocessing.Height * preprocessing.Width;
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        var pixels = new List<byte[]>();
        var labels = new List<int>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var chunk in items.Chunk(Chunk))
        {
            cancellationToken.ThrowIfCancellationRequested();
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
                pixels.Add(decoded[i]);
                labels.Add(index[chunk[i].Label]);
            }
        }
        checksum = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
        byte[] all = new byte[pixels.Count * imageSize];
        for (int i = 0; i < pixels.Count; i++) { pixels[i].CopyTo(all, i * imageSize); }
        return new ImageSet(all, [.. labels], preprocessing.Channels, preprocessing.Height, preprocessing.Width, classes);
    }

    static ImageSet ReadOther(string source, string role, IReadOnlyList<string> classes, ImagePreprocessing preprocessing, ImageFolderOptions options, List<ScoreResult> failed,
        Dictionary<string, string> checksums, List<string> warnings, CancellationToken cancellationToken)
    {
        var (items, _) = List(source, warnings);
        var unknown = items.Select(i => i.Label).Where(l => !classes.Contains(l)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"The {role} set '{source}' has classes the training set lacks: {string.Join(", ", unknown.Take(10))}; expected some of {string.Join(", ", classes)}.");
        }
        var set = Read(source, items, classes, preprocessing, null, options.MaxImagePixels, failed, out string checksum, cancellationToken);
        if (set.Count == 0) { throw new InvalidDataException($"None of the images of the {role} set '{source}' could be read."); }
        checksums[role] = checksum;
        return set;
    }

    /// <summary>A stratified split: from each class, a seeded shuffle's first share goes to validation.</summary>
    internal static (ImageSet Train, ImageSet Validation) Split(ImageSet all, double share, int seed, List<string> warnings)
    {
        var random = new Random(seed);
        var train = new List<int>();
        var validation = new List<int>();
        var labels = all.Labels.Span;
        for (int c = 0; c < all.ClassNames.Count; c++)
        {
            var members = new List<int>();
            for (int i = 0; i < all.Count; i++) { if (labels[i] == c) { members.Add(i); } }
            int[] order = [.. members];
            random.Shuffle(order);
            int held = (int)Math.Round(order.Length * share, MidpointRounding.AwayFromZero);
            if (held == 0 || held == order.Length)
            {
                warnings.Add($"class '{all.ClassNames[c]}' has {order.Length} image(s), too few for a {share:P0} validation share; {(order.Length < 2 ? "it is used for training only" : "one is held out")}");
                held = order.Length < 2 ? 0 : Math.Clamp(held, 1, order.Length - 1);
            }
            validation.AddRange(order.Take(held));
            train.AddRange(order.Skip(held));
        }
        train.Sort();
        validation.Sort();
        return (Subset(all, train), Subset(all, validation));
    }

    static ImageSet Subset(ImageSet all, List<int> indices)
    {
        byte[] pixels = new byte[indices.Count * all.ImageSize];
        int[] labels = new int[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            all.Image(indices[k]).CopyTo(pixels.AsSpan(k * all.ImageSize));
            labels[k] = all.Labels.Span[indices[k]];
        }
        return new ImageSet(pixels, labels, all.Channels, all.Height, all.Width, all.ClassNames);
    }
}
