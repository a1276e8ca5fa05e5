using System.Buffers.Binary;
using SkiaSharp;

namespace MlPipeline.TestSupport;

/// <summary>
/// JPEG files tagged with an EXIF orientation the way cameras write them, built byte by byte (SkiaSharp's encoder
/// writes no EXIF), and the stored pixels each orientation needs for the file to show a given upright image.
/// </summary>
public static class ExifJpeg
{
    /// <summary>The bitmap as a JPEG of quality 100 without chroma subsampling, so that decoding gives it back within a few levels.</summary>
    public static byte[] Encode(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKJpegEncoderOptions(100, SKJpegEncoderDownsample.Downsample444, SKJpegEncoderAlphaOption.Ignore));
        return data.ToArray();
    }

    /// <summary>
    /// An EXIF block's TIFF body holding one IFD0 entry, Orientation (tag 0x0112, type SHORT, count 1) =
    /// <paramref name="orientation"/>, in Motorola (big-endian) or Intel (little-endian) byte order.
    /// </summary>
    public static byte[] OrientationTiff(int orientation, bool littleEndian = false)
    {
        byte[] tiff = new byte[8 + 2 + 12 + 4];
        void Short(int at, int value)
        {
            if (littleEndian) { BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(at), (ushort)value); } else { BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(at), (ushort)value); }
        }
        void Long(int at, int value)
        {
            if (littleEndian) { BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(at), (uint)value); } else { BinaryPrimitives.WriteUInt32BigEndian(tiff.AsSpan(at), (uint)value); }
        }
        tiff[0] = tiff[1] = littleEndian ? (byte)'I' : (byte)'M';
        Short(2, 42);           // the TIFF magic number
        Long(4, 8);             // IFD0 follows the header
        Short(8, 1);            // one entry
        Short(10, 0x0112);      // Orientation
        Short(12, 3);           // SHORT
        Long(14, 1);            // one value
        Short(18, orientation); // the value, left-justified in the 4-byte field
        Long(22, 0);            // no next IFD
        return tiff;
    }

    /// <summary>The JPEG with an APP1 segment <c>"Exif\0\0" + <paramref name="tiff"/></c> right after its start-of-image marker, where cameras put it.</summary>
    public static byte[] WithExif(byte[] jpeg, byte[] tiff)
    {
        ArgumentNullException.ThrowIfNull(jpeg);
        ArgumentNullException.ThrowIfNull(tiff);
        if (jpeg.Length < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) { throw new ArgumentException("Expected a JPEG starting with the SOI marker FF D8.", nameof(jpeg)); }
        byte[] exif = [.. "Exif\0\0"u8, .. tiff];
        byte[] segment = new byte[4 + exif.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(2 + exif.Length));
        exif.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    /// <summary><paramref name="stored"/> encoded (<see cref="Encode"/>) and tagged with <paramref name="orientation"/>.</summary>
    public static byte[] Tagged(SKBitmap stored, int orientation, bool littleEndian = false) =>
        WithExif(Encode(stored), OrientationTiff(orientation, littleEndian));

    /// <summary>
    /// The pixels a camera stores for <paramref name="upright"/> under <paramref name="orientation"/> 1–8, from the
    /// tag's definition (which stored row and column become the shown image's top and left): shown pixel (x, y) of a
    /// W×H image is stored at the position given below; the stored image is H×W for 5–8.
    /// </summary>
    public static SKBitmap Stored(SKBitmap upright, int orientation)
    {
        ArgumentNullException.ThrowIfNull(upright);
        ArgumentOutOfRangeException.ThrowIfLessThan(orientation, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(orientation, 8);
        int w = upright.Width, h = upright.Height;
        bool transposed = orientation >= 5;
        var stored = new SKBitmap(new SKImageInfo(transposed ? h : w, transposed ? w : h, SKColorType.Bgra8888, SKAlphaType.Unpremul));
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                var (sx, sy) = orientation switch
                {
                    1 => (x, y),                 // row 0 at the top, column 0 at the left
                    2 => (w - 1 - x, y),         // column 0 at the right: mirrored
                    3 => (w - 1 - x, h - 1 - y), // row 0 at the bottom, column 0 at the right: turned half way
                    4 => (x, h - 1 - y),         // row 0 at the bottom: flipped
                    5 => (y, x),                 // row 0 on the left, column 0 at the top: transposed
                    6 => (y, w - 1 - x),         // row 0 on the right, column 0 at the top: shown turned clockwise
                    7 => (h - 1 - y, w - 1 - x), // row 0 on the right, column 0 at the bottom
                    _ => (h - 1 - y, x),         // row 0 on the left, column 0 at the bottom: shown turned anticlockwise
                };
                stored.SetPixel(sx, sy, upright.GetPixel(x, y));
            }
        }
        return stored;
    }
}
