using System.Buffers.Binary;
using MlPipeline.Internals;

namespace MlPipeline.Datasets.Internals;

/// <summary>Reads the IDX files MNIST ships in, validating magic number, dimensions and length before trusting them.</summary>
internal static class IdxReader
{
    const int ImagesMagic = 0x00000803;
    const int LabelsMagic = 0x00000801;

    /// <summary>Reads an images file: returns count, rows, columns and the row-major pixels.</summary>
    public static (int Count, int Rows, int Columns, byte[] Pixels) ReadImages(string path)
    {
        byte[] data = ReadFile(path);
        RequireHeader(path, data, 16, ImagesMagic, "images (idx3-ubyte)");
        int count = ReadDimension(path, data, 4, "image count");
        int rows = ReadDimension(path, data, 8, "rows");
        int columns = ReadDimension(path, data, 12, "columns");
        long expected = 16 + ((long)count * rows * columns);
        RequireLength(path, data, expected, $"{count} images of {rows}x{columns}");
        return (count, rows, columns, data[16..]);
    }

    /// <summary>Reads a labels file.</summary>
    public static byte[] ReadLabels(string path)
    {
        byte[] data = ReadFile(path);
        RequireHeader(path, data, 8, LabelsMagic, "labels (idx1-ubyte)");
        int count = ReadDimension(path, data, 4, "label count");
        RequireLength(path, data, 8L + count, $"{count} labels");
        return data[8..];
    }

    static byte[] ReadFile(string path)
    {
        if (!File.Exists(path)) { throw new FileNotFoundException($"IDX file '{path}' does not exist.", path); }
        return File.ReadAllBytes(FileSystem.RequireFile(path, "IDX file"));
    }

    static void RequireHeader(string path, byte[] data, int headerLength, int magic, string kind)
    {
        if (data.Length < headerLength)
        {
            throw new InvalidDataException($"IDX file '{path}' is truncated: {data.Length} bytes, shorter than the {headerLength}-byte header of an {kind} file.");
        }
        int actual = BinaryPrimitives.ReadInt32BigEndian(data);
        if (actual != magic)
        {
            throw new InvalidDataException($"IDX file '{path}' has magic number 0x{actual:X8}; expected 0x{magic:X8} for {kind}.");
        }
    }

    static int ReadDimension(string path, byte[] data, int offset, string name)
    {
        int value = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(offset));
        if (value <= 0)
        {
            throw new InvalidDataException($"IDX file '{path}' declares {name} = {value}; expected a positive number.");
        }
        return value;
    }

    static void RequireLength(string path, byte[] data, long expected, string what)
    {
        if (data.Length != expected)
        {
            string problem = data.Length < expected ? "truncated" : "longer than its header says";
            throw new InvalidDataException($"IDX file '{path}' is {problem}: {data.Length} bytes, expected {expected} for {what}.");
        }
    }
}
