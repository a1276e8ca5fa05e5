using Microsoft.ML;
using Microsoft.ML.Data;
using MlPipeline.Internals;

namespace MlPipeline.Scoring;

/// <summary>
/// Where a row's image comes from: a path (a text column, relative to an image folder unless rooted) or the encoded
/// file itself (a column of bytes).
/// </summary>
internal sealed class ImageSource
{
    ImageSource(string columnName, bool bytes, string? imageFolder)
    {
        ColumnName = columnName;
        IsBytes = bytes;
        ImageFolder = imageFolder;
    }

    /// <summary>The input column.</summary>
    public string ColumnName { get; }

    /// <summary>Whether the column holds encoded bytes rather than paths.</summary>
    public bool IsBytes { get; }

    /// <summary>The folder relative paths are resolved against; null for the current directory.</summary>
    public string? ImageFolder { get; }

    /// <summary>Images given by value (<see cref="Fill"/> takes paths, relative ones under <paramref name="imageFolder"/>, and bytes alike), not read from a column.</summary>
    public static ImageSource ForValues(string? imageFolder) => new("", false, imageFolder);

    /// <summary>Whether a column of this type holds images: text (paths) or a vector of bytes (encoded files).</summary>
    public static bool Accepts(DataViewType type) =>
        type is TextDataViewType || (type is VectorDataViewType { ItemType: var item } && item == NumberDataViewType.Byte);

    /// <summary>Checks that <paramref name="columnName"/> is in <paramref name="schema"/> and holds images.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or has another type; the message names both.</exception>
    public static ImageSource For(DataViewSchema schema, string columnName, string? imageFolder)
    {
        var column = schema.GetColumnOrNull(columnName)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"The input has no column '{columnName}' (its columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}); expected the image paths or bytes there.");
        if (!Accepts(column.Type))
        {
            throw new ArgumentOutOfRangeException(nameof(schema), $"Column '{columnName}' is {column.Type}; expected text (image paths) or a vector of bytes (encoded images).");
        }
        return new ImageSource(columnName, column.Type is not TextDataViewType, imageFolder);
    }

    /// <summary>A reader of the current row's image of <paramref name="row"/>: the resolved path or a copy of the bytes.</summary>
    public Func<object> Reader(DataViewRow row)
    {
        var column = row.Schema[ColumnName];
        if (IsBytes)
        {
            var bytes = row.GetGetter<VBuffer<byte>>(column);
            VBuffer<byte> buffer = default;
            return () =>
            {
                bytes(ref buffer);
                return buffer.DenseValues().ToArray();
            };
        }
        var text = row.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> path = default;
        return () =>
        {
            text(ref path);
            return path.ToString();
        };
    }

    /// <summary>
    /// Preprocesses the image of a value <see cref="Reader"/> gave (a path, read into a pooled buffer first, or bytes)
    /// into <paramref name="destination"/>; returns null, or why the image cannot be used, leaving NaN.
    /// </summary>
    public string? TryFill(object value, ImagePreprocessor preprocessor, DecodeSettings decode, Span<float> destination)
    {
        try
        {
            Fill(value, preprocessor, decode, destination);
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            destination.Fill(float.NaN);
            return e.Message;
        }
    }

    void Fill(object value, ImagePreprocessor preprocessor, DecodeSettings decode, Span<float> destination)
    {
        if (value is byte[] bytes)
        {
            preprocessor.Fill(bytes, decode.MaxImagePixels, destination, decode.ReducedScale, decode.Budget);
            return;
        }
        string path = (string)value;
        if (path.Length == 0) { throw new IOException("the image path is empty"); }
        using var file = ImageDecoder.ReadFilePooled(ImageFolder is null || Path.IsPathRooted(path) ? path : Path.Combine(ImageFolder, path));
        preprocessor.Fill(file.Span, decode.MaxImagePixels, destination, decode.ReducedScale, decode.Budget);
    }
}

/// <summary>How a transform decodes: the pixel limit per image, reduced-scale JPEG decoding, the budget of decoded pixels in flight, and the threads.</summary>
internal sealed record DecodeSettings(long MaxImagePixels, bool ReducedScale, PixelBudget Budget, int? Threads)
{
    /// <summary>The default budget: 64 million decoded pixels at once (256 MB of BGRA), about three 24-megapixel photos.</summary>
    public const long DefaultBudget = 64_000_000;
}

/// <summary>
/// A batch of images read, decoded and preprocessed in parallel into stacked model inputs; an image that fails gets its
/// reason and an input of NaN.
/// </summary>
internal sealed class ImageBatch
{
    readonly ImageSource source;
    readonly ImagePreprocessor preprocessor;
    readonly DecodeSettings decode;
    readonly ParallelOptions parallelism;
    readonly object[] values;

    public ImageBatch(ImageSource source, ImagePreprocessor preprocessor, DecodeSettings decode, int capacity)
    {
        this.source = source;
        this.preprocessor = preprocessor;
        this.decode = decode;
        int? threads = decode.Threads;
        parallelism = new ParallelOptions { MaxDegreeOfParallelism = threads ?? Environment.ProcessorCount };
        ImageSize = preprocessor.Preprocessing.Channels * preprocessor.Preprocessing.Height * preprocessor.Preprocessing.Width;
        values = new object[capacity];
        Tensors = new float[capacity * ImageSize];
        Errors = new string?[capacity];
    }

    /// <summary>Values in one input tensor.</summary>
    public int ImageSize { get; }

    /// <summary>The model inputs, one after another.</summary>
    public float[] Tensors { get; }

    /// <summary>Why each image failed, or null.</summary>
    public string?[] Errors { get; }

    /// <summary>Keeps a row's image (a path or bytes) for the next <see cref="Compute"/>.</summary>
    public void Set(int slot, object value) => values[slot] = value;

    /// <summary>Reads, decodes and preprocesses the first <paramref name="count"/> images, spread over the cores.</summary>
    public void Compute(int count)
    {
        Parallel.For(0, count, parallelism, i =>
        {
            Errors[i] = source.TryFill(values[i], preprocessor, decode, Tensors.AsSpan(i * ImageSize, ImageSize));
            values[i] = null!;
        });
    }
}
