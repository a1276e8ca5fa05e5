using SkiaSharp;

namespace MlPipeline.Internals;

/// <summary>Writes 8-bit grayscale pixels as a PNG file (atomically).</summary>
internal static class GrayPng
{
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque);
        using var image = SKImage.FromPixelCopy(info, pixels)
            ?? throw new ArgumentException($"{pixels.Length} bytes do not make a {width}x{height} grayscale image.", nameof(pixels));
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static void Write(string path, ReadOnlySpan<byte> pixels, int width, int height) =>
        AtomicFile.WriteAllBytes(path, Encode(pixels, width, height));
}
