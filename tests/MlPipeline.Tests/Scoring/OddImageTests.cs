using System.Buffers.Binary;
using System.IO.Compression;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Tests.Scoring;

/// <summary>Unusual but valid images, a decompression bomb, and awkward paths through the scoring pipeline.</summary>
public sealed class OddImageTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    /// <summary>Mean of the left and right halves of a 28x28 single-channel tensor.</summary>
    static (double Left, double Right) Halves(float[] pixels)
    {
        Assert.That(pixels, Has.Length.EqualTo(784));
        double left = 0, right = 0;
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 28; x++)
            {
                if (x < 14) { left += pixels[y * 28 + x]; } else { right += pixels[y * 28 + x]; }
            }
        }
        return (left / 392, right / 392);
    }

    // White left half, black right half (the GIF's first frame; its second frame is the inverse). The gray+alpha
    // image's white half has alpha 128: ML.NET's image type is premultiplied, so it is composited onto black.
    [TestCase("cmyk.jpg", 1.0)]
    [TestCase("gray16.png", 1.0)]
    [TestCase("gray-alpha.png", 128 / 255.0)]
    [TestCase("animated.gif", 1.0)]
    public void Preprocess_OddFormat_GivesTheImageItHolds(string fixture, double white)
    {
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        var (left, right) = Halves(classifier.Preprocess(Fixture(fixture)));

        Assert.That(left, Is.EqualTo(white).Within(0.05), "left half");
        Assert.That(right, Is.LessThan(0.05), "right half");
    }

    [Test]
    public void Predict_OneByOnePixel_IsResizedAndScored()
    {
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        byte[] png = GrayPng.Encode([255], 1, 1);

        float[] pixels = classifier.Preprocess(png);
        var prediction = classifier.Predict(png);

        // Resized to 28x28 it is exactly the all-white digit image, and is scored as that image is.
        var white = classifier.Predict(GrayPng.Encode(Enumerable.Repeat((byte)255, 784).ToArray(), 28, 28));
        Assert.That(pixels, Has.All.EqualTo(1f));
        Assert.That(prediction.Label, Is.EqualTo(white.Label));
        Assert.That(prediction.Confidence, Is.EqualTo(white.Confidence));
    }

    /// <summary>A valid 1-bit PNG of width x height black pixels: a few KB that would decode to width*height*4 bytes.</summary>
    static byte[] Bomb(int width, int height)
    {
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[1 + (width + 7) / 8];   // filter byte 0, then all-zero pixels
            for (int y = 0; y < height; y++) { z.Write(row); }
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 1;   // bit depth 1, colour type 0 (gray), deflate, no filter, no interlace
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    static void Chunk(Stream png, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        png.Write(header);
        png.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32([.. header.AsSpan(4).ToArray(), .. data]));
        png.Write(crc);
    }

    static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) { crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1; }
        }
        return ~crc;
    }

    [Test]
    public void Predict_DecompressionBomb_IsRejectedByThePixelLimitBeforeDecoding()
    {
        byte[] bomb = Bomb(20_000, 20_000);
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        classifier.Predict(Bomb(28, 28)); // everything the first call loads, loaded before the measurement
        bool measured = ResetPeakRss();
        long before = PeakRss();

        var ex = Assert.Throws<InvalidDataException>(() => classifier.Predict(bomb));

        Assert.That(bomb, Has.Length.LessThan(100_000), "the bomb is small on disk");
        Assert.That(ex!.Message, Does.Contain("20000x20000").And.Contain("over the limit").And.Contain("MaxImagePixels"));
        // Decoding would fill 1.6 GB of native (SkiaSharp) pixel memory; the process's peak resident memory, reset
        // just before, must not have grown by anything close to that.
        if (measured) { Assert.That(PeakRss() - before, Is.LessThan(100_000_000)); }
    }

    [Test]
    public void Predict_BombWithOnlyItsHeader_IsRejectedForItsSizeNotAsTruncated()
    {
        // The pixel data is cut off halfway: a decoder that got as far as reading pixels would call the file
        // truncated, so "over the limit" proves the size check comes before any decoding (and any pixel allocation).
        byte[] bomb = Bomb(20_000, 20_000);
        byte[] header = bomb[..(bomb.Length / 2)];
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        var ex = Assert.Throws<InvalidDataException>(() => classifier.Predict(header));

        Assert.That(ex!.Message, Does.Contain("over the limit").And.Not.Contain("truncated"));
    }

    /// <summary>Resets the kernel's peak-RSS counter (VmHWM) for this process; false where that is not possible.</summary>
    static bool ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return OperatingSystem.IsLinux();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    static long PeakRss()
    {
        if (!OperatingSystem.IsLinux()) { return 0; }
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    [Test]
    public void Predict_ImageUnderARaisedLimit_IsScored()
    {
        byte[] large = Bomb(3000, 3000);
        using var strict = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { MaxImagePixels = 1_000_000 });
        using var relaxed = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { MaxImagePixels = 10_000_000 });

        Assert.Throws<InvalidDataException>(() => strict.Predict(large));
        Assert.That(relaxed.Preprocess(large), Has.All.EqualTo(0f));
    }

    [Test]
    public void ScoreFolder_SpacesNonAsciiAndSymlinks_ScoresEachFileOnceAndCutsTheLoop()
    {
        string root = Path.Combine(dir, "in put");
        string nested = Path.Combine(root, "zählen 数字");
        Directory.CreateDirectory(nested);
        byte[] png = GrayPng.Encode(new byte[784], 28, 28);
        File.WriteAllBytes(Path.Combine(root, "a b.png"), png);
        File.WriteAllBytes(Path.Combine(nested, "ß ü.PNG"), png);
        File.CreateSymbolicLink(Path.Combine(root, "link.png"), Path.Combine(root, "a b.png"));
        Directory.CreateSymbolicLink(Path.Combine(nested, "loop"), root);
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        var results = classifier.ScoreFolder(root, recursive: true).ToList();

        Assert.That(results.Select(r => r.Path), Is.EqualTo(new[] { "a b.png", "link.png", "zählen 数字/ß ü.PNG" }));
        Assert.That(results.All(r => r.Succeeded), Is.True);
    }
}
