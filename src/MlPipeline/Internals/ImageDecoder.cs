using Microsoft.ML.Data;
using SkiaSharp;

namespace MlPipeline.Internals;

/// <summary>
/// Decodes one image file strictly: empty, unknown, oversized (checked from the header, before any pixel memory is
/// allocated) and truncated images are rejected with a reason, where SkiaSharp alone would return a half-grey picture.
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
            throw new IOException(e is FileNotFoundException or DirectoryNotFoundException ? "the file does not exist" : $"the file cannot be read ({e.Message})", e);
        }
    }

    /// <summary>The strict decoding as an ML.NET image (the stock chain's input, kept as the tests' reference).</summary>
    public static MLImage Decode(byte[] bytes, long maxPixels)
    {
        using var bitmap = DecodeBitmap(bytes, maxPixels);
        return MLImage.CreateFromPixels(bitmap.Width, bitmap.Height, MLPixelFormat.Bgra32, bitmap.GetPixelSpan());
    }

    /// <summary>
    /// The strict decoding in the form <see cref="Decode"/>'s MLImage holds it, without the copy: the unpremultiplied
    /// BGRA bytes in a bitmap whose info says BGRA premultiplied, as <c>MLImage.CreateFromPixels</c> labels them.
    /// SkiaSharp's resize and drawing read the bytes through that label, so the fused preprocessing must too.
    /// </summary>
    public static SKBitmap DecodeAsMLImageHoldsIt(byte[] bytes, long maxPixels) => DecodeBitmap(bytes, maxPixels, SKAlphaType.Premul, null, null, out _);

    /// <summary>
    /// <see cref="DecodeAsMLImageHoldsIt(byte[], long)"/> for scoring: a JPEG at least twice <paramref name="reduceTo"/>
    /// in both dimensions is decoded at reduced scale (libjpeg's DCT scaling: 1/2, 1/4 or 1/8, the smallest that keeps
    /// both dimensions at least <paramref name="reduceTo"/>'s, as Pillow's <c>draft</c> does), and the decoded pixels
    /// are held against <paramref name="budget"/> until <paramref name="lease"/> is disposed.
    /// </summary>
    public static SKBitmap DecodeAsMLImageHoldsIt(ReadOnlySpan<byte> bytes, long maxPixels, SKSizeI? reduceTo, PixelBudget? budget, out IDisposable? lease) =>
        DecodeBitmap(bytes, maxPixels, SKAlphaType.Premul, reduceTo, budget, out lease);

    /// <summary>The same strict decoding, to a SkiaSharp bitmap (BGRA, unpremultiplied) the caller disposes.</summary>
    public static SKBitmap DecodeBitmap(byte[] bytes, long maxPixels) => DecodeBitmap(bytes, maxPixels, SKAlphaType.Unpremul, null, null, out _);

    static unsafe SKBitmap DecodeBitmap(ReadOnlySpan<byte> bytes, long maxPixels, SKAlphaType label, SKSizeI? reduceTo, PixelBudget? budget, out IDisposable? lease)
    {
        if (bytes.IsEmpty) { throw new InvalidDataException("the file is empty (0 bytes)"); }
        // The codec reads the caller's bytes in place (pinned until it is gone) instead of a copy.
        fixed (byte* pointer = bytes)
        {
            using var data = SKData.Create((IntPtr)pointer, bytes.Length, NoRelease);
            return DecodeBitmap(data, maxPixels, label, reduceTo, budget, out lease);
        }
    }

    static readonly SKDataReleaseDelegate NoRelease = (_, _) => { };

    static SKBitmap DecodeBitmap(SKData data, long maxPixels, SKAlphaType label, SKSizeI? reduceTo, PixelBudget? budget, out IDisposable? lease)
    {
        lease = null;
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException("not a readable image (expected PNG, JPEG, BMP, GIF or WebP)");
        var size = codec.Info;
        long pixels = (long)size.Width * size.Height;
        if (size.Width <= 0 || size.Height <= 0) { throw new InvalidDataException($"the image declares an empty size {size.Width}x{size.Height}"); }
        if (pixels > maxPixels)
        {
            throw new InvalidDataException($"the image is {size.Width}x{size.Height} = {pixels:N0} pixels, over the limit of {maxPixels:N0} (MaxImagePixels)");
        }
        var decoded = reduceTo is { } wanted ? Reduced(codec, wanted) : size.Size;
        lease = budget?.Acquire((long)decoded.Width * decoded.Height);
        var target = new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Bgra8888, SKAlphaType.Unpremul);
        SKBitmap bitmap;
        try
        {
            bitmap = new SKBitmap(target.WithAlphaType(label));
        }
        catch
        {
            lease?.Dispose();
            throw;
        }
        var result = codec.GetPixels(target, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            lease?.Dispose();
            lease = null;
            throw new InvalidDataException(result == SKCodecResult.IncompleteInput
                ? "the image data is truncated (the header is valid but the pixel data ends early)"
                : $"the image could not be decoded ({result})");
        }
        return bitmap;
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
