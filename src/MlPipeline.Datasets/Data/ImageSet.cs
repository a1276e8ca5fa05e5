namespace MlPipeline.Data;

/// <summary>
/// Labelled images: <see cref="Count"/> images of <see cref="Channels"/>×<see cref="Height"/>×<see cref="Width"/> bytes
/// each (channel-major, as tensors want them) and one class index per image. The pixels are in memory, or in a
/// decoded-image cache file read a few images at a time (<see cref="ImageFolderOptions.CacheDirectory"/>); either way
/// they are read through <see cref="CopyImages(ReadOnlySpan{int}, Span{byte})"/>. Subsets (<see cref="Take"/>, a
/// validation split) share their parent's pixels.
/// </summary>
public sealed class ImageSet
{
    readonly ImageStore store;
    readonly int[]? rows;
    readonly int[] labels;

    /// <summary>Wraps pixels and labels; validates that their sizes agree.</summary>
    public ImageSet(byte[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
        : this(Store(pixels, labels, channels, height, width), null, labels, channels, height, width, classNames)
    {
    }

    internal ImageSet(ImageStore store, int[]? rows, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if ((long)channels * height * width != store.ImageSize) { throw new ArgumentException($"Image shape {channels}x{height}x{width} does not match the store's {store.ImageSize} bytes per image."); }
        if ((rows?.Length ?? store.Count) != labels.Length) { throw new ArgumentException($"{labels.Length} labels for {rows?.Length ?? store.Count} images.", nameof(labels)); }
        if (rows is not null && rows.Any(r => (uint)r >= (uint)store.Count)) { throw new ArgumentException($"A row is outside the store's {store.Count} images.", nameof(rows)); }
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
            {
                throw new ArgumentException($"Label {labels[i]} of image {i} is outside the {classNames.Count} classes.", nameof(labels));
            }
        }
        this.store = store;
        this.rows = rows;
        this.labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
    }

    static MemoryImageStore Store(byte[] pixels, int[] labels, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        if (channels <= 0 || height <= 0 || width <= 0)
        {
            throw new ArgumentException($"Image shape {channels}x{height}x{width} is invalid; expected positive channels, height and width.");
        }
        long imageSize = (long)channels * height * width;
        if (imageSize > int.MaxValue || pixels.LongLength != imageSize * labels.Length)
        {
            throw new ArgumentException($"{pixels.LongLength} pixel bytes do not hold {labels.Length} images of {channels}x{height}x{width} ({imageSize * labels.Length} bytes expected).", nameof(pixels));
        }
        return new MemoryImageStore(pixels, (int)imageSize, labels.Length);
    }

    /// <summary>Number of images.</summary>
    public int Count => labels.Length;

    /// <summary>Channels per image (1 for grayscale).</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Class index of each image.</summary>
    public ReadOnlyMemory<int> Labels => labels;

    /// <summary>Bytes per image.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>The decoded-image cache file the pixels are read from; null when they are in memory.</summary>
    public string? CacheFile => (store as FileImageStore)?.Path;

    /// <summary>The pixels of image <paramref name="index"/>, as a new array.</summary>
    public byte[] Image(int index)
    {
        var image = new byte[ImageSize];
        CopyImages([index], image);
        return image;
    }

    /// <summary>Copies the images at <paramref name="indices"/>, in that order, into <paramref name="destination"/> (indices × <see cref="ImageSize"/> bytes).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the set, or the destination is too small.</exception>
    /// <exception cref="IOException">The set's cache file was removed, replaced or cut while in use.</exception>
    public void CopyImages(ReadOnlySpan<int> indices, Span<byte> destination)
    {
        if ((long)indices.Length * ImageSize > destination.Length) { throw new ArgumentOutOfRangeException(nameof(destination), $"{destination.Length} bytes do not hold {indices.Length} images of {ImageSize} bytes."); }
        int[] mapped = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)Count) { throw new ArgumentOutOfRangeException(nameof(indices), $"Image {index} is outside the set's {Count} images."); }
            mapped[i] = rows?[index] ?? index;
        }
        store.Read(mapped, destination);
    }

    /// <summary>Copies images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 into <paramref name="destination"/>.</summary>
    public void CopyImages(int start, int count, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if ((long)start + count > Count) { throw new ArgumentOutOfRangeException(nameof(count), $"Images {start} to {(long)start + count - 1} are outside the set's {Count} images."); }
        int[] indices = new int[count];
        for (int i = 0; i < count; i++) { indices[i] = start + i; }
        CopyImages(indices, destination);
    }

    /// <summary>Every image's pixels in one new array (for sets small enough to hold in memory; prefer <see cref="CopyImages(int, int, Span{byte})"/> a batch at a time).</summary>
    public byte[] ToArray()
    {
        if (store is MemoryImageStore memory && rows is null) { return (byte[])memory.Pixels.Clone(); }
        var all = new byte[(long)Count * ImageSize];
        CopyImages(0, Count, all);
        return all;
    }

    /// <summary>The first <paramref name="count"/> images (all of them when <paramref name="count"/> is at least <see cref="Count"/>), sharing this set's pixels.</summary>
    public ImageSet Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Count) { return this; }
        return Subset([.. Enumerable.Range(0, count)]);
    }

    /// <summary>The images at <paramref name="indices"/>, in that order, sharing this set's pixels.</summary>
    internal ImageSet Subset(int[] indices) =>
        new(store, [.. indices.Select(i => rows?[i] ?? i)], [.. indices.Select(i => labels[i])], Channels, Height, Width, ClassNames);

    /// <summary>The same images under other labels and class names (classes dropped after decoding).</summary>
    internal ImageSet Relabelled(int[] newLabels, IReadOnlyList<string> classNames) => new(store, rows, newLabels, Channels, Height, Width, classNames);

    /// <summary>
    /// Writes grayscale images as PNG files in a folder per class (<c>DIR/&lt;label&gt;/&lt;index&gt;.png</c>, index zero-padded),
    /// the layout <c>mlpipeline evaluate</c> reads. Each file is written atomically. Returns the number written.
    /// </summary>
    public int WritePngFolder(string directory, int? limit = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (Channels != 1) { throw new NotSupportedException($"Only grayscale image sets can be written as PNG folders; this one has {Channels} channels."); }
        int count = Math.Min(limit ?? Count, Count);
        int digits = Math.Max(5, (count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        foreach (string label in ClassNames) { Directory.CreateDirectory(Path.Combine(directory, label)); }
        for (int i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string name = i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0') + ".png";
            MlPipeline.Internals.GrayPng.Write(Path.Combine(directory, ClassNames[labels[i]], name), Image(i), Width, Height);
        }
        return count;
    }
}
