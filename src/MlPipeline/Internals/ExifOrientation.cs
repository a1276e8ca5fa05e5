using System.Runtime.InteropServices;
using SkiaSharp;

namespace MlPipeline.Internals;

/// <summary>
/// The EXIF orientation (tag 0x0112) a codec reads from a file, applied to decoded pixels: cameras and phones store
/// the sensor's rows as they come and tag how to turn them, and every viewer shows the turned image.
/// </summary>
internal static class ExifOrientation
{
    /// <summary>
    /// The orientation to apply to <paramref name="codec"/>'s pixels: its tag, or <see cref="SKEncodedOrigin.TopLeft"/>
    /// (as stored) when ignored. Skia reads the tag itself and gives TopLeft for a file without one or with a corrupt
    /// one; a value outside 1–8 is taken as TopLeft too.
    /// </summary>
    public static SKEncodedOrigin Of(SKCodec codec, bool ignore)
    {
        var origin = codec.EncodedOrigin;
        return ignore || origin is < SKEncodedOrigin.TopLeft or > SKEncodedOrigin.LeftBottom ? SKEncodedOrigin.TopLeft : origin;
    }

    /// <summary>Whether <paramref name="origin"/> turns the image a quarter (orientations 5–8): width and height swap.</summary>
    public static bool SwapsAxes(SKEncodedOrigin origin) => origin is >= SKEncodedOrigin.LeftTop and <= SKEncodedOrigin.LeftBottom;

    /// <summary>The size of an image of <paramref name="size"/> once <paramref name="origin"/> is applied (the same map turns a shown size back into the stored one).</summary>
    public static SKSizeI Apply(SKSizeI size, SKEncodedOrigin origin) => SwapsAxes(origin) ? new SKSizeI(size.Height, size.Width) : size;

    /// <summary>
    /// A new bitmap holding <paramref name="stored"/>'s 4-byte pixels turned and mirrored as <paramref name="origin"/>
    /// says, with the same pixel format and alpha label; the bytes are copied, never resampled.
    /// </summary>
    public static unsafe SKBitmap Apply(SKBitmap stored, SKEncodedOrigin origin)
    {
        if (stored.BytesPerPixel != 4) { throw new InvalidDataException($"the image's pixel format {stored.ColorType} cannot be oriented; expected 4 bytes per pixel"); }
        int width = stored.Width, height = stored.Height, row = stored.RowBytes / 4;
        var size = Apply(new SKSizeI(width, height), origin);
        // The stored pixel the shown (0, 0) is, and how far on in the stored pixels one shown column and one shown row are.
        var (start, stepX, stepY) = origin switch
        {
            SKEncodedOrigin.TopRight => (width - 1, -1, row),
            SKEncodedOrigin.BottomRight => (((height - 1) * row) + width - 1, -1, -row),
            SKEncodedOrigin.BottomLeft => ((height - 1) * row, 1, -row),
            SKEncodedOrigin.LeftTop => (0, row, 1),
            SKEncodedOrigin.RightTop => ((height - 1) * row, -row, 1),
            SKEncodedOrigin.RightBottom => (((height - 1) * row) + width - 1, -row, -1),
            SKEncodedOrigin.LeftBottom => (width - 1, row, -1),
            _ => (0, 1, row),
        };
        var result = new SKBitmap(stored.Info.WithSize(size.Width, size.Height));
        var from = MemoryMarshal.Cast<byte, uint>(stored.GetPixelSpan());
        var to = MemoryMarshal.Cast<byte, uint>(new Span<byte>((void*)result.GetPixels(), result.ByteCount));
        int toRow = result.RowBytes / 4;
        for (int y = 0; y < size.Height; y++)
        {
            var line = to.Slice(y * toRow, size.Width);
            for (int x = 0, at = start + (y * stepY); x < line.Length; x++, at += stepX) { line[x] = from[at]; }
        }
        return result;
    }
}
