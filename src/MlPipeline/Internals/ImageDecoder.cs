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
    public static byte[] ReadFile(string path)
    {
        try
        {
            if (FileSystem.IsSpecial(path)) { throw new IOException($"it is {FileSystem.Describe(FileSystem.Kind.Special)}"); }
            return File.ReadAllBytes(path);
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
    public static SKBitmap DecodeAsMLImageHoldsIt(byte[] bytes, long maxPixels) => DecodeBitmap(bytes, maxPixels, SKAlphaType.Premul);

    /// <summary>The same strict decoding, to a SkiaSharp bitmap (BGRA, unpremultiplied) the caller disposes.</summary>
    public static SKBitmap DecodeBitmap(byte[] bytes, long maxPixels) => DecodeBitmap(bytes, maxPixels, SKAlphaType.Unpremul);

    static SKBitmap DecodeBitmap(byte[] bytes, long maxPixels, SKAlphaType label)
    {
        if (bytes.Length == 0) { throw new InvalidDataException("the file is empty (0 bytes)"); }
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw new InvalidDataException("not a readable image (expected PNG, JPEG, BMP, GIF or WebP)");
        var size = codec.Info;
        long pixels = (long)size.Width * size.Height;
        if (size.Width <= 0 || size.Height <= 0) { throw new InvalidDataException($"the image declares an empty size {size.Width}x{size.Height}"); }
        if (pixels > maxPixels)
        {
            throw new InvalidDataException($"the image is {size.Width}x{size.Height} = {pixels:N0} pixels, over the limit of {maxPixels:N0} (MaxImagePixels)");
        }
        var target = new SKImageInfo(size.Width, size.Height, SKColorType.Bgra8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(target.WithAlphaType(label));
        var result = codec.GetPixels(target, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new InvalidDataException(result == SKCodecResult.IncompleteInput
                ? "the image data is truncated (the header is valid but the pixel data ends early)"
                : $"the image could not be decoded ({result})");
        }
        return bitmap;
    }
}
