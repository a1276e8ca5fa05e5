namespace MlPipeline.Data;

/// <summary>
/// Labelled images in memory: <see cref="Count"/> images of <see cref="Channels"/>×<see cref="Height"/>×<see cref="Width"/>
/// bytes each (channel-major, as tensors want them) and one class index per image.
/// </summary>
public sealed class ImageSet
{
    readonly byte[] pixels;
    readonly int[] labels;

    /// <summary>Wraps pixels and labels; validates that their sizes agree.</summary>
    public ImageSet(byte[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (channels <= 0 || height <= 0 || width <= 0)
        {
            throw new ArgumentException($"Image shape {channels}x{height}x{width} is invalid; expected positive channels, height and width.");
        }
        long imageSize = (long)channels * height * width;
        if (pixels.LongLength != imageSize * labels.Length)
        {
            throw new ArgumentException($"{pixels.LongLength} pixel bytes do not hold {labels.Length} images of {channels}x{height}x{width} ({imageSize * labels.Length} bytes expected).", nameof(pixels));
        }
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classNames.Count)
            {
                throw new ArgumentException($"Label {labels[i]} of image {i} is outside the {classNames.Count} classes.", nameof(labels));
            }
        }
        this.pixels = pixels;
        this.labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
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

    /// <summary>Raw pixels of all images, channel-major per image.</summary>
    public ReadOnlyMemory<byte> Pixels => pixels;

    /// <summary>Class index of each image.</summary>
    public ReadOnlyMemory<int> Labels => labels;

    /// <summary>Bytes per image.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => pixels.AsSpan(index * ImageSize, ImageSize);

    /// <summary>The first <paramref name="count"/> images (all of them when <paramref name="count"/> is at least <see cref="Count"/>).</summary>
    public ImageSet Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count >= Count) { return this; }
        return new ImageSet(pixels[..(count * ImageSize)], labels[..count], Channels, Height, Width, ClassNames);
    }

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
