using MlPipeline.Internals;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Tests.Scoring;

/// <summary>
/// The fused preprocessing (one pass per image, SkiaSharp called directly) against ML.NET's stock chain
/// (ResizeImages → ConvertToGrayscale → ExtractPixels over an IDataView), the reference: every value equal, bit for bit,
/// for every format, size, transparency, colour mode and normalisation.
/// </summary>
public sealed class FusedPreprocessingTests
{
    /// <summary>Encoded test images: formats, sizes (same as the target, smaller, larger, 1x1) and alpha.</summary>
    static IEnumerable<(string Name, byte[] Bytes)> Images()
    {
        yield return ("gray png 24x20", Encode(24, 20, SKEncodedImageFormat.Png, (x, y) => { byte v = (byte)((x * 11) + (y * 3)); return new SKColor(v, v, v); }));
        yield return ("every gray value png 16x16", Encode(16, 16, SKEncodedImageFormat.Png, (x, y) => { byte v = (byte)((y * 16) + x); return new SKColor(v, v, v); }));
        yield return ("gray png with one transparent pixel", Encode(24, 20, SKEncodedImageFormat.Png, (x, y) => { byte v = (byte)(x * 10); return new SKColor(v, v, v, x == 3 && y == 4 ? (byte)100 : (byte)255); }));
        yield return ("colour png 24x20", Encode(24, 20, SKEncodedImageFormat.Png, Colourful));
        yield return ("colour jpeg 40x30", Encode(40, 30, SKEncodedImageFormat.Jpeg, Colourful));
        yield return ("colour webp 64x64", Encode(64, 64, SKEncodedImageFormat.Webp, Colourful));
        yield return ("colour png 300x200", Encode(300, 200, SKEncodedImageFormat.Png, Colourful));
        yield return ("png 1x1", Encode(1, 1, SKEncodedImageFormat.Png, (_, _) => new SKColor(200, 30, 90)));
        yield return ("transparent png 24x20", Encode(24, 20, SKEncodedImageFormat.Png, (x, y) => Colourful(x, y).WithAlpha((byte)((x * 23) % 256))));
        yield return ("transparent png 17x9", Encode(17, 9, SKEncodedImageFormat.Png, (x, y) => Colourful(x, y).WithAlpha(x < 5 ? (byte)0 : (byte)(y * 30))));
        yield return ("bmp", File.ReadAllBytes(Bmp()));
    }

    static SKColor Colourful(int x, int y) => new((byte)(x * 9), (byte)(255 - (y * 7)), (byte)((x * y * 5) % 256));

    static byte[] Encode(int width, int height, SKEncodedImageFormat format, Func<int, int, SKColor> colour)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Bgra8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) { bitmap.SetPixel(x, y, colour(x, y)); }
        }
        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(format, 90).ToArray();
    }

    /// <summary>A 24-bit BMP written by hand (SkiaSharp does not encode BMP): 5x3 pixels, rows bottom-up, padded to 4 bytes.</summary>
    static string Bmp()
    {
        const int width = 5, height = 3, row = 16;
        var bytes = new byte[54 + (row * height)];
        "BM"u8.CopyTo(bytes);
        BitConverter.GetBytes(bytes.Length).CopyTo(bytes, 2);
        BitConverter.GetBytes(54).CopyTo(bytes, 10);
        BitConverter.GetBytes(40).CopyTo(bytes, 14);
        BitConverter.GetBytes(width).CopyTo(bytes, 18);
        BitConverter.GetBytes(height).CopyTo(bytes, 22);
        BitConverter.GetBytes((short)1).CopyTo(bytes, 26);
        BitConverter.GetBytes((short)24).CopyTo(bytes, 28);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int at = 54 + (y * row) + (x * 3);
                (bytes[at], bytes[at + 1], bytes[at + 2]) = ((byte)(x * 50), (byte)(y * 100), (byte)(255 - (x * 40)));
            }
        }
        string path = Path.Combine(TempDirectory.Create(), "image.bmp");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static IEnumerable<TestCaseData> Preprocessings()
    {
        foreach (var mode in new[] { ColorMode.Gray, ColorMode.Rgb, ColorMode.Bgr })
        {
            yield return new TestCaseData(ImagePreprocessing.UnitRange(24, 20, mode)).SetArgDisplayNames($"{mode} unit range 24x20");
            yield return new TestCaseData(new ImagePreprocessing(24, 20, mode, 127.5f, 1f / 58f)).SetArgDisplayNames($"{mode} offset 127.5 scale 1/58");
            yield return new TestCaseData(new ImagePreprocessing(7, 11, mode, 0f, 1f)).SetArgDisplayNames($"{mode} bytes 7x11");
        }
        yield return new TestCaseData(ImagePreprocessing.Standardized(24, 20, ColorMode.Rgb, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f])).SetArgDisplayNames("rgb per channel");
        yield return new TestCaseData(ImagePreprocessing.Standardized(24, 20, ColorMode.Bgr, [0.406f, 0.456f, 0.485f], [0.225f, 0.224f, 0.229f])).SetArgDisplayNames("bgr per channel");
    }

    [TestCaseSource(nameof(Preprocessings))]
    public void Fill_EveryImage_EqualsTheStockChainBitForBit(ImagePreprocessing preprocessing)
    {
        var preprocessor = new ImagePreprocessor(preprocessing);
        var reference = new StockChain(preprocessing);
        int size = preprocessing.Channels * preprocessing.Height * preprocessing.Width;

        foreach (var (name, bytes) in Images())
        {
            float[] fused = new float[size];
            preprocessor.Fill(bytes, long.MaxValue, fused);
            using var image = ImageDecoder.Decode(bytes, long.MaxValue);
            float[] stock = reference.Pixels([image]);

            Assert.That(fused, Is.EqualTo(stock), name);
        }
    }

    [Test]
    public void Fill_BadBytes_IsInvalidDataNamingTheReason()
    {
        var preprocessor = new ImagePreprocessor(ImagePreprocessing.UnitRange(4, 4, ColorMode.Gray));

        var e = Assert.Throws<InvalidDataException>(() => preprocessor.Fill([1, 2, 3], long.MaxValue, new float[16]));

        Assert.That(e!.Message, Does.Contain("not a readable image"));
    }
}
