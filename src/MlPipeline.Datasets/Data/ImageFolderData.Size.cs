using MlPipeline.Evaluation;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Data;

// ImageFolderData: The size and colour images are read at.
public static partial class ImageFolderData
{
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
        new($"Images in '{source}' have different sizes: '{a.Path}' is {a.Width}x{a.Height} and '{b.Path}' is {b.Width}x{b.Height}; give the size to resize them to (ImageFolderOptions.Width and Height).");

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

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when a set, held as bytes (images × width × height × channels), would not
    /// fit in one array, or all of them (the training images twice when a share is split off) in the memory available,
    /// naming the size, the bytes it implies and what is allowed. Checked before decoding, so that no time is spent on
    /// a load that cannot finish.
    /// </summary>
    static void RequireFitsInMemory(IReadOnlyList<(string Role, string? Source, int Count)> sets, int width, int height, int channels, bool split)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        long image = (long)width * height * channels, total = 0;
        foreach (var (role, source, count) in sets)
        {
            if (source is null) { continue; }
            long bytes = image * count;
            total += bytes * (split && role == "training" ? 2 : 1);
            if (bytes > Array.MaxLength)
            {
                throw new ArgumentException(string.Create(inv, $"The {role} set '{source}' has {count} images, which at size {width}x{height} with {channels} channel(s) take {bytes:N0} bytes ({bytes / 1e9:F1} GB; images × width × height × channels); a set holds at most {Array.MaxLength:N0} bytes ({Array.MaxLength / 1e9:F1} GB). Give a smaller size (ImageFolderOptions.Width/Height) or fewer images."));
            }
        }
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available > 0 && total > available)
        {
            throw new ArgumentException(string.Create(inv, $"The images at size {width}x{height} with {channels} channel(s) take {total:N0} bytes ({total / 1e9:F1} GB) in memory{(split ? ", the training images twice for the split" : "")}; this process may use {available:N0} bytes ({available / 1e9:F1} GB). Give a smaller size (ImageFolderOptions.Width/Height) or fewer images."));
        }
    }

    /// <summary>Whether the disk of <paramref name="directory"/> has room for every set's cache file (less what the cache files already there take, which are reused or replaced).</summary>
    static void RequireDiskRoom(string directory, IReadOnlyList<(string Role, string? Source, int Count)> sets, int width, int height, int channels)
    {
        long image = (long)width * height * channels, needed = 0, existing = 0;
        foreach (var (role, source, count) in sets)
        {
            if (source is null) { continue; }
            needed += ImageCache.BytesNeeded(count, image);
            string path = ImageCache.PathOf(directory, role);
            foreach (string file in (string[])[path, ImageCache.PreviousOf(path)])
            {
                if (FileSystem.KindOf(file) == FileSystem.Kind.RegularFile) { existing += new FileInfo(file).Length; }
            }
        }
        long free = FreeSpace(directory);
        if (free + existing < needed)
        {
            throw new IOException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"The decoded images take up to {needed / 1e6:F1} MB (images × width × height × channels) in cache files in '{directory}', but its disk has {free / 1e6:F1} MB free{(existing > 0 ? $" (and {existing / 1e6:F1} MB of cache files there would be replaced)" : "")}; free some space, put the cache on another disk (ImageFolderOptions.CacheDirectory), or give a smaller size (ImageFolderOptions.Width/Height)."));
        }
    }
}
