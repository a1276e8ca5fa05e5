using System.Buffers.Binary;
using MlPipeline.Datasets.Internals;

namespace MlPipeline.Datasets.Tests;

public sealed class IdxReaderTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static byte[] Images(int count, int rows, int columns, int magic = 0x803, int? pixelBytes = null)
    {
        int length = pixelBytes ?? (count * rows * columns);
        var data = new byte[16 + length];
        BinaryPrimitives.WriteInt32BigEndian(data, magic);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(12), columns);
        for (int i = 0; i < length; i++) { data[16 + i] = (byte)(i * 7); }
        return data;
    }

    string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void ReadImages_ValidFile_ReturnsShapeAndPixels()
    {
        string path = Write("images", Images(3, 2, 4));

        var (count, rows, columns, pixels) = IdxReader.ReadImages(path);

        Assert.That((count, rows, columns), Is.EqualTo((3, 2, 4)));
        Assert.That(pixels, Has.Length.EqualTo(24));
        Assert.That(pixels[5], Is.EqualTo((byte)35));
    }

    [Test]
    public void ReadImages_Truncated_ThrowsNamingFileAndExpectedLength()
    {
        string path = Write("images", Images(3, 2, 4, pixelBytes: 20));

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));

        Assert.That(e!.Message, Does.Contain(path).And.Contain("truncated").And.Contain("expected 40"));
    }

    [Test]
    public void ReadImages_ShorterThanHeader_Throws()
    {
        string path = Write("images", [0, 0, 8]);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));

        Assert.That(e!.Message, Does.Contain("16-byte header"));
    }

    [Test]
    public void ReadImages_WrongMagic_ThrowsNamingBothMagics()
    {
        string path = Write("images", Images(1, 2, 2, magic: 0x801));

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));

        Assert.That(e!.Message, Does.Contain("0x00000801").And.Contain("expected 0x00000803"));
    }

    [Test]
    public void ReadLabels_LongerThanHeaderSays_Throws()
    {
        var data = new byte[8 + 5];
        BinaryPrimitives.WriteInt32BigEndian(data, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), 4);
        string path = Write("labels", data);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadLabels(path));

        Assert.That(e!.Message, Does.Contain("longer than its header says").And.Contain("expected 12"));
    }

    [Test]
    public void ReadImages_MissingFile_ThrowsFileNotFound()
    {
        var e = Assert.Throws<FileNotFoundException>(() => IdxReader.ReadImages(Path.Combine(dir, "nope")));

        Assert.That(e!.Message, Does.Contain("nope"));
    }

    [Test]
    public void ReadSet_LabelCountDiffersFromImageCount_ThrowsNamingBothFiles()
    {
        Write("images", Images(4, 2, 2));
        var labels = new byte[8 + 3];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), 3);
        Write("labels", labels);

        var e = Assert.Throws<InvalidDataException>(() => IdxDataSet.Mnist.ReadSet(dir, "images", "labels"));

        Assert.That(e!.Message, Does.Contain("holds 3 labels").And.Contain("holds 4 images").And.Contain(Path.Combine(dir, "labels")));
    }
}
