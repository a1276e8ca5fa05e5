using MlPipeline.Data;
using MlPipeline.Evaluation;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Tests.Scoring;

/// <summary>
/// EXIF orientation: a JPEG stored sideways with its orientation tag is decoded, scored and read for training upright,
/// as viewers show it, unless told to ignore the tag. Files are tagged byte by byte here (<see cref="ExifJpeg"/>) and
/// checked against Pillow's <c>ImageOps.exif_transpose</c> of the same file and against the upright image itself.
/// </summary>
public sealed partial class ExifOrientationTests
{
    // A JPEG of quality 100 without chroma subsampling gives its pixels back within this many levels.
    const int JpegNoise = 4;
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>A 24x16 picture no turn or mirror maps onto itself: red grows to the right, green downwards, blue marks the top-left corner.</summary>
    static SKBitmap Upright(int width = 24, int height = 16)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Bgra8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                byte blue = x < width / 3 && y < height / 3 ? (byte)220 : (byte)40;
                bitmap.SetPixel(x, y, new SKColor((byte)(20 + (x * 200 / width)), (byte)(30 + (y * 180 / height)), blue));
            }
        }
        return bitmap;
    }

    string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The bitmap's pixels as RGB bytes, row by row.</summary>
    static byte[] Rgb(SKBitmap bitmap)
    {
        var rgb = new byte[bitmap.Width * bitmap.Height * 3];
        for (int y = 0, at = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++, at += 3)
            {
                var c = bitmap.GetPixel(x, y);
                (rgb[at], rgb[at + 1], rgb[at + 2]) = (c.Red, c.Green, c.Blue);
            }
        }
        return rgb;
    }

    static int MaxDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        Assert.That(a.Length, Is.EqualTo(b.Length));
        int max = 0;
        for (int i = 0; i < a.Length; i++) { max = Math.Max(max, Math.Abs(a[i] - b[i])); }
        return max;
    }

    /// <summary>Pillow's upright image of a file: its size as two little-endian int32s, then RGB bytes.</summary>
    const string ExifTranspose = """
        import struct, sys
        from PIL import Image, ImageOps
        im = ImageOps.exif_transpose(Image.open(sys.argv[1])).convert("RGB")
        sys.stdout.buffer.write(struct.pack("<ii", *im.size) + im.tobytes())
        """;

    /// <summary>Pillow writes <c>argv[1]</c>'s image as a lossless WebP <c>argv[2]</c> tagged with orientation <c>argv[3]</c>.</summary>
    const string TaggedWebP = """
        import sys
        from PIL import Image
        exif = Image.Exif()
        exif[0x0112] = int(sys.argv[3])
        Image.open(sys.argv[1]).save(sys.argv[2], lossless=True, exif=exif.tobytes())
        """;

    static (int Width, int Height, byte[] Rgb) PillowUpright(string path)
    {
        byte[] bytes = Pillow.Run(ExifTranspose, path);
        return (BitConverter.ToInt32(bytes, 0), BitConverter.ToInt32(bytes, 4), bytes[8..]);
    }

    [Test]
    public void DecodeBitmap_EachOrientation_EqualsPillowsExifTransposeOfTheSameFile([Range(1, 8)] int orientation, [Values] bool littleEndian)
    {
        using var upright = Upright();
        using var stored = ExifJpeg.Stored(upright, orientation);
        string path = Write($"o{orientation}.jpg", ExifJpeg.Tagged(stored, orientation, littleEndian));

        using var ours = ImageDecoder.DecodeBitmap(File.ReadAllBytes(path), long.MaxValue);
        var pillow = PillowUpright(path);

        Assert.That((ours.Width, ours.Height), Is.EqualTo((pillow.Width, pillow.Height)));
        Assert.That(MaxDifference(Rgb(ours), pillow.Rgb), Is.LessThanOrEqualTo(1), "the same file through libjpeg on both sides");
    }

    [Test]
    public void DecodeBitmap_EachOrientation_GivesTheUprightImage([Range(1, 8)] int orientation)
    {
        using var upright = Upright();
        using var stored = ExifJpeg.Stored(upright, orientation);

        using var decoded = ImageDecoder.DecodeBitmap(ExifJpeg.Tagged(stored, orientation), long.MaxValue);

        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((24, 16)));
        Assert.That(MaxDifference(Rgb(decoded), Rgb(upright)), Is.LessThanOrEqualTo(JpegNoise));
    }

    [Test]
    public void DecodeBitmap_LosslessWebPTaggedByPillow_IsTheUprightImageExactly([Values(3, 6)] int orientation)
    {
        using var upright = Upright();
        using var stored = ExifJpeg.Stored(upright, orientation);
        using (var png = stored.Encode(SKEncodedImageFormat.Png, 100)) { Write("stored.png", png.ToArray()); }
        string webp = Path.Combine(dir, "tagged.webp");
        Pillow.Run(TaggedWebP, Path.Combine(dir, "stored.png"), webp, orientation.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using var decoded = ImageDecoder.DecodeBitmap(File.ReadAllBytes(webp), long.MaxValue);

        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((24, 16)));
        Assert.That(Rgb(decoded), Is.EqualTo(Rgb(upright)));
        Assert.That(Rgb(decoded), Is.EqualTo(PillowUpright(webp).Rgb));
    }

    [Test]
    public void DecodeBitmap_IgnoreExifOrientation_GivesTheStoredPixels([Values(3, 6, 7)] int orientation)
    {
        using var upright = Upright();
        using var stored = ExifJpeg.Stored(upright, orientation);
        byte[] plain = ExifJpeg.Encode(stored);

        using var ignored = ImageDecoder.DecodeBitmap(ExifJpeg.WithExif(plain, ExifJpeg.OrientationTiff(orientation)), long.MaxValue, ignoreExifOrientation: true);
        using var untagged = ImageDecoder.DecodeBitmap(plain, long.MaxValue);

        Assert.That((ignored.Width, ignored.Height), Is.EqualTo((stored.Width, stored.Height)));
        Assert.That(Rgb(ignored), Is.EqualTo(Rgb(untagged)));
    }

    static IEnumerable<TestCaseData> BrokenExif()
    {
        var tiff = ExifJpeg.OrientationTiff(6);
        yield return new TestCaseData((Func<byte[], byte[]>)(j => j)).SetName("DecodeBitmap_NoExif_DecodesAsStored");
        yield return new TestCaseData((Func<byte[], byte[]>)(j => ExifJpeg.WithExif(j, tiff[..12]))).SetName("DecodeBitmap_ExifCutInsideItsEntry_DecodesAsStored");
        yield return new TestCaseData((Func<byte[], byte[]>)(j => ExifJpeg.WithExif(j, [(byte)'X', (byte)'X', .. tiff[2..]]))).SetName("DecodeBitmap_ExifWithAnUnknownByteOrder_DecodesAsStored");
        yield return new TestCaseData((Func<byte[], byte[]>)(j => ExifJpeg.WithExif(j, [.. tiff[..4], 0, 0, 0x7F, 0xFF, .. tiff[8..]]))).SetName("DecodeBitmap_ExifWhoseDirectoryLiesBeyondIt_DecodesAsStored");
        yield return new TestCaseData((Func<byte[], byte[]>)(j => ExifJpeg.WithExif(j, ExifJpeg.OrientationTiff(0)))).SetName("DecodeBitmap_Orientation0_DecodesAsStored");
        yield return new TestCaseData((Func<byte[], byte[]>)(j => ExifJpeg.WithExif(j, ExifJpeg.OrientationTiff(9)))).SetName("DecodeBitmap_Orientation9_DecodesAsStored");
        yield return new TestCaseData((Func<byte[], byte[]>)(j => ExifJpeg.WithExif(j, []))).SetName("DecodeBitmap_EmptyExif_DecodesAsStored");
    }

    [TestCaseSource(nameof(BrokenExif))]
    public void DecodeBitmap_CorruptOrAbsentExif_DecodesAsStored(Func<byte[], byte[]> tag)
    {
        using var upright = Upright();
        using var stored = ExifJpeg.Stored(upright, 6);
        byte[] plain = ExifJpeg.Encode(stored);

        using var decoded = ImageDecoder.DecodeBitmap(tag(plain), long.MaxValue);
        using var untagged = ImageDecoder.DecodeBitmap(plain, long.MaxValue, ignoreExifOrientation: true);

        Assert.That((decoded.Width, decoded.Height), Is.EqualTo((16, 24)));
        Assert.That(Rgb(decoded), Is.EqualTo(Rgb(untagged)));
    }

    [Test]
    public void DecodeAsMLImageHoldsIt_TurnedLargeJpeg_ReducesByTheUprightSizeAndLeasesBothCopies()
    {
        // Stored 400x100, shown 100x400: for a 48x192 input a half-scale decode (200x50 stored) still covers it.
        using var upright = Upright(100, 400);
        using var stored = ExifJpeg.Stored(upright, 6);
        byte[] jpeg = ExifJpeg.Tagged(stored, 6);
        var budget = new PixelBudget(1_000_000);
        var ignoredBudget = new PixelBudget(1_000_000);

        using var reduced = ImageDecoder.DecodeAsMLImageHoldsIt(jpeg, long.MaxValue, false, new SKSizeI(48, 192), budget, out var lease);
        lease?.Dispose();
        using var ignored = ImageDecoder.DecodeAsMLImageHoldsIt(jpeg, long.MaxValue, true, new SKSizeI(48, 192), ignoredBudget, out var ignoredLease);
        ignoredLease?.Dispose();

        Assert.That((reduced.Width, reduced.Height), Is.EqualTo((50, 200)));
        Assert.That(budget.LargestRequest, Is.EqualTo(2 * 50 * 200), "the stored and the turned copy are held at once");
        Assert.That((ignored.Width, ignored.Height), Is.EqualTo((400, 100)), "stored 100 high is under twice 192: no reduction");
        Assert.That(ignoredBudget.LargestRequest, Is.EqualTo(400 * 100));
    }

    [Test]
    public void DecodeBitmap_TurnedImageOverThePixelLimit_IsRejectedNamingItsUprightSize()
    {
        using var upright = Upright(16, 40);
        using var stored = ExifJpeg.Stored(upright, 8);

        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.DecodeBitmap(ExifJpeg.Tagged(stored, 8), 639));

        Assert.That(e!.Message, Is.EqualTo("the image is 16x40 = 640 pixels, over the limit of 639 (MaxImagePixels)"));
    }
}
