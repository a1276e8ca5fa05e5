using Microsoft.ML.Data;
using SkiaSharp;

namespace MlPipeline.Internals;

/// <summary>
/// Decodes one image file strictly: empty, unknown, oversized (checked from the header, before any pixel memory is
/// allocated) and truncated images are rejected with a reason, where SkiaSharp alone would return a half-grey picture.
/// Unless told to ignore it, a file's EXIF orientation is applied to the decoded pixels, so every later step (resizing,
/// cropping, padding) sees the image upright, as viewers show it.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>
    /// Reads an image file's bytes. Only regular files are read, since opening a FIFO or a device blocks (or never
    /// ends); any failure is an <see cref="IOException"/> whose message is the reason a batch reports for the file.
    /// </summary>
    public static byte[] ReadFile(string path) => Reading(path, () => File.ReadAllBytes(path));

    /// <summary>
    /// <see cref="ReadFile"/> into a buffer rented from the shared pool (a camera photo's bytes would otherwise be a
    /// new large-object array per image, which the GC returns late): dispose the result to give it back.
    /// </summary>
    public static PooledBytes ReadFilePooled(string path) => Reading(path, () =>
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        long length = stream.Length;
        if (length > Array.MaxLength) { throw new IOException($"it is {length:N0} bytes, more than an image file can be"); }
        var bytes = new PooledBytes((int)length);
        try
        {
            stream.ReadExactly(bytes.Buffer, 0, bytes.Length);
            return bytes;
        }
        catch
        {
            bytes.Dispose();
            throw;
        }
    });

    /// <summary>Runs <paramref name="read"/> on a regular file only, turning every failure into the reason a batch reports.</summary>
    static T Reading<T>(string path, Func<T> read)
    {
        try
        {
            if (FileSystem.IsSpecial(path)) { throw new IOException($"it is {FileSystem.Describe(FileSystem.Kind.Special)}"); }
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A name that is not valid UTF-8 comes to .NET with U+FFFD in place of the bad bytes, and cannot be opened by it.
            throw new IOException(e is not (FileNotFoundException or DirectoryNotFoundException) ? $"the file cannot be read ({e.Message})"
                : path.Contains('\uFFFD', StringComparison.Ordinal) ? "the file's name is not valid UTF-8, so it cannot be opened (.NET reads names as UTF-8); rename the file"
                : "the file does not exist", e);
        }
    }

    /// <summary>The strict decoding as an ML.NET image (the stock chain's input, kept as the tests' reference).</summary>
    public static MLImage Decode(byte[] bytes, long maxPixels, bool ignoreExifOrientation = false)
    {
        using var bitmap = DecodeBitmap(bytes, maxPixels, ignoreExifOrientation);
        return MLImage.CreateFromPixels(bitmap.Width, bitmap.Height, MLPixelFormat.Bgra32, bitmap.GetPixelSpan());
    }

    /// <summary>
    /// The strict decoding in the form <see cref="Decode"/>'s MLImage holds it, without the copy: the unpremultiplied
    /// BGRA bytes in a bitmap whose info says BGRA premultiplied, as <c>MLImage.CreateFromPixels</c> labels them.
    /// SkiaSharp's resize and drawing read the bytes through that label, so the fused preprocessing must too.
    /// </summary>
    public static SKBitmap DecodeAsMLImageHoldsIt(byte[] bytes, long maxPixels, bool ignoreExifOrientation = false) =>
        DecodeBitmap(bytes, maxPixels, SKAlphaType.Premul, ignoreExifOrientation, null, null, out _);

    /// <summary>
    /// <see cref="DecodeAsMLImageHoldsIt(byte[], long, bool)"/> for scoring: a JPEG at least twice <paramref name="reduceTo"/>
    /// in both dimensions (once oriented) is decoded at reduced scale (libjpeg's DCT scaling: 1/2, 1/4 or 1/8, the
    /// smallest that keeps both dimensions at least <paramref name="reduceTo"/>'s, as Pillow's <c>draft</c> does), and
    /// the decoded pixels are held against <paramref name="budget"/> until <paramref name="lease"/> is disposed.
    /// </summary>
    public static SKBitmap DecodeAsMLImageHoldsIt(ReadOnlySpan<byte> bytes, long maxPixels, bool ignoreExifOrientation, SKSizeI? reduceTo, PixelBudget? budget, out IDisposable? lease) =>
        DecodeBitmap(bytes, maxPixels, SKAlphaType.Premul, ignoreExifOrientation, reduceTo, budget, out lease);

    /// <summary>The same strict decoding, to a SkiaSharp bitmap (BGRA, unpremultiplied) the caller disposes.</summary>
    public static SKBitmap DecodeBitmap(byte[] bytes, long maxPixels, bool ignoreExifOrientation = false) =>
        DecodeBitmap(bytes, maxPixels, SKAlphaType.Unpremul, ignoreExifOrientation, null, null, out _);

    /// <summary>The size <paramref name="codec"/>'s image is shown at: its header's, width and height swapped when its EXIF orientation turns it a quarter (and is not ignored).</summary>
    public static SKSizeI ShownSize(SKCodec codec, bool ignoreExifOrientation) =>
        ExifOrientation.Apply(codec.Info.Size, ExifOrientation.Of(codec, ignoreExifOrientation));

    static unsafe SKBitmap DecodeBitmap(ReadOnlySpan<byte> bytes, long maxPixels, SKAlphaType label, bool ignoreExifOrientation, SKSizeI? reduceTo, PixelBudget? budget, out IDisposable? lease)
    {
        if (bytes.IsEmpty) { throw new InvalidDataException("the file is empty (0 bytes)"); }
        // The codec reads the caller's bytes in place (pinned until it is gone) instead of a copy.
        fixed (byte* pointer = bytes)
        {
            using var data = SKData.Create((IntPtr)pointer, bytes.Length, NoRelease);
            return DecodeBitmap(data, maxPixels, label, ignoreExifOrientation, reduceTo, budget, out lease);
        }
    }

    static readonly SKDataReleaseDelegate NoRelease = (_, _) => { };

    /// <summary>
    /// Checks the header, decodes the pixels (the orientation applied, so every later step sees the image upright) and
    /// leases them from <paramref name="budget"/>: twice the decoded pixels when the orientation turns or mirrors the
    /// image, since the stored and the oriented copy are both held while it is applied.
    /// </summary>
    static SKBitmap DecodeBitmap(SKData data, long maxPixels, SKAlphaType label, bool ignoreExifOrientation, SKSizeI? reduceTo, PixelBudget? budget, out IDisposable? lease)
    {
        lease = null;
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException("not a readable image (expected PNG, JPEG, BMP, GIF or WebP)");
        var origin = ExifOrientation.Of(codec, ignoreExifOrientation);
        var size = ExifOrientation.Apply(codec.Info.Size, origin);
        long pixels = (long)size.Width * size.Height;
        if (size.Width <= 0 || size.Height <= 0) { throw new InvalidDataException($"the image declares an empty size {size.Width}x{size.Height}"); }
        if (pixels > maxPixels)
        {
            throw new InvalidDataException($"the image is {size.Width}x{size.Height} = {pixels:N0} pixels, over the limit of {maxPixels:N0} (MaxImagePixels)");
        }
        // The reduction compares stored dimensions, so the wanted size is turned into the stored image's axes.
        var decoded = reduceTo is { } wanted ? Reduced(codec, ExifOrientation.Apply(wanted, origin)) : codec.Info.Size;
        bool orient = origin != SKEncodedOrigin.TopLeft;
        lease = budget?.Acquire((long)decoded.Width * decoded.Height * (orient ? 2 : 1));
        SKBitmap? bitmap = null;
        try
        {
            var target = new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Bgra8888, SKAlphaType.Unpremul);
            bitmap = new SKBitmap(target.WithAlphaType(label));
            var result = codec.GetPixels(target, bitmap.GetPixels());
            if (result != SKCodecResult.Success)
            {
                throw new InvalidDataException(result == SKCodecResult.IncompleteInput
                    ? "the image data is truncated (the header is valid but the pixel data ends early)"
                    : $"the image could not be decoded ({result})");
            }
            if (!orient) { return bitmap; }
            using var stored = bitmap;
            bitmap = null;
            return ExifOrientation.Apply(stored, origin);
        }
        catch
        {
            bitmap?.Dispose();
            lease?.Dispose();
            lease = null;
            throw;
        }
    }

    /// <summary>The size to decode at: the smallest DCT-scaled size of a JPEG that keeps both dimensions at least <paramref name="wanted"/>'s, when the image is at least twice that; else the full size.</summary>
    static SKSizeI Reduced(SKCodec codec, SKSizeI wanted)
    {
        var full = codec.Info.Size;
        if (codec.EncodedFormat != SKEncodedImageFormat.Jpeg || full.Width < 2 * wanted.Width || full.Height < 2 * wanted.Height) { return full; }
        var best = full;
        foreach (float scale in (ReadOnlySpan<float>)[0.5f, 0.25f, 0.125f])
        {
            var scaled = codec.GetScaledDimensions(scale);
            if (scaled.Width < wanted.Width || scaled.Height < wanted.Height) { break; }
            if (scaled.Width < best.Width) { best = scaled; }
        }
        return best;
    }
}
