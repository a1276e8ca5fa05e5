using SkiaSharp;

namespace MlPipeline.Scoring;

// Pixel formats and alpha: direct pixel access, opacity checks, compositing onto a background, BGRA copies.
internal sealed partial class ImagePreprocessor
{
    static unsafe Span<byte> PixelsOf(SKBitmap bitmap) => new((void*)bitmap.GetPixels(), bitmap.ByteCount);

    static bool IsOpaque(SKBitmap image)
    {
        if (image.ColorType is not (SKColorType.Bgra8888 or SKColorType.Rgba8888)) { return image.AlphaType == SKAlphaType.Opaque; }
        var pixels = image.GetPixelSpan();
        for (int at = 3; at < pixels.Length; at += 4)
        {
            if (pixels[at] != 255) { return false; }
        }
        return true;
    }

    /// <summary>
    /// The image laid on <paramref name="background"/>: each colour byte c with alpha a becomes
    /// <c>round((c * a + b * (255 - a)) / 255)</c>, alpha 255. The bytes are read as stored (the decoder's
    /// unpremultiplied values).
    /// </summary>
    static SKBitmap Composite(SKBitmap image, BackgroundColor background)
    {
        using var bgra = BgraCopyIfNeeded(image);
        var source = bgra ?? image;
        var result = new SKBitmap(new SKImageInfo(source.Width, source.Height, source.ColorType, source.AlphaType));
        var from = source.GetPixelSpan();
        var to = PixelsOf(result);
        int b = background == BackgroundColor.White ? 255 : 0;
        for (int at = 0; at + 3 < from.Length; at += 4)
        {
            int a = from[at + 3];
            for (int c = 0; c < 3; c++) { to[at + c] = (byte)(((from[at + c] * a) + (b * (255 - a)) + 127) / 255); }
            to[at + 3] = 255;
        }
        return result;
    }

    /// <summary>
    /// A BGRA copy of an image whose pixels are not 4 bytes in BGRA or RGBA order (MLImage keeps other pixel formats as
    /// such a copy); null when they already are.
    /// </summary>
    /// <exception cref="InvalidDataException">The pixel format cannot be converted.</exception>
    static SKBitmap? BgraCopyIfNeeded(SKBitmap image) => image.ColorType is SKColorType.Bgra8888 or SKColorType.Rgba8888
        ? null
        : image.Copy(SKColorType.Bgra8888) ?? throw new InvalidDataException($"the image's pixel format {image.ColorType} cannot be converted to BGRA");

    static bool IsOpaqueGray(SKBitmap image)
    {
        if (image.ColorType is not (SKColorType.Bgra8888 or SKColorType.Rgba8888)) { return false; }
        var pixels = image.GetPixelSpan();
        for (int at = 0; at + 3 < pixels.Length; at += 4)
        {
            if (pixels[at + 3] != 255 || pixels[at] != pixels[at + 1] || pixels[at + 1] != pixels[at + 2]) { return false; }
        }
        return true;
    }
}
