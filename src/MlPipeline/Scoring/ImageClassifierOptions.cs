namespace MlPipeline.Scoring;

/// <summary>
/// How <see cref="ImageClassifier"/> prepares images and reads the model. Every value is optional: an MlPipeline model
/// supplies preprocessing and labels in its metadata; for a foreign model size and channels come from its input shape,
/// pixels are scaled to [0, 1], and labels default to 0..K-1. Anything set here overrides both.
/// </summary>
public sealed record ImageClassifierOptions
{
    /// <summary>The default <see cref="MaxImagePixels"/>: 50 million pixels (a 7071×7071 image).</summary>
    public const long DefaultMaxImagePixels = 50_000_000;

    /// <summary>The largest <see cref="Threads"/> accepted: 256 (ONNX Runtime starts one OS thread for each, and far more threads than cores only slow it down).</summary>
    public const int MaxThreads = 256;

    /// <summary>The largest <see cref="BatchSize"/> accepted: 65,536 images per model call.</summary>
    public const int MaxBatchSize = 65_536;

    /// <summary>Input width in pixels. Default: from metadata, else the model's input shape.</summary>
    public int? Width { get; init; }

    /// <summary>Input height in pixels. Default: from metadata, else the model's input shape.</summary>
    public int? Height { get; init; }

    /// <summary>Channel layout. Default: from metadata, else gray for 1 channel and RGB for 3.</summary>
    public ColorMode? ColorMode { get; init; }

    /// <summary>ExtractPixels offset: input = (pixel - offset) * scale. Default: from metadata, else 0.</summary>
    public float? Offset { get; init; }

    /// <summary>ExtractPixels scale. Default: from metadata, else 1/255.</summary>
    public float? Scale { get; init; }

    /// <summary>Mean of pixels scaled to [0, 1] (with <see cref="Std"/>, replaces offset and scale). Default: none.</summary>
    public float? Mean { get; init; }

    /// <summary>Standard deviation of pixels scaled to [0, 1] (with <see cref="Mean"/>). Default: none.</summary>
    public float? Std { get; init; }

    /// <summary>Class labels, one per model output. Default: from metadata, else "0".."K-1".</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>How many of the most probable classes each prediction lists. Default: 3.</summary>
    public int TopK { get; init; } = 3;

    /// <summary>Whether predictions carry every class probability. Default: false.</summary>
    public bool IncludeProbabilities { get; init; }

    /// <summary>Images per ONNX Runtime call when scoring many. Default: 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>ONNX Runtime intra-op threads; null lets ONNX Runtime choose. Default: null.</summary>
    public int? Threads { get; init; }

    /// <summary>Largest image accepted, in pixels (width × height), checked before decoding; guards against decompression bombs. Default: 50 million.</summary>
    public long MaxImagePixels { get; init; } = DefaultMaxImagePixels;

    /// <summary>Reads labels from a file: one label per line, blank lines ignored.</summary>
    /// <exception cref="InvalidDataException">The file is empty or repeats a label.</exception>
    public static IReadOnlyList<string> ReadLabels(string path)
    {
        if (!File.Exists(path)) { throw new FileNotFoundException($"Labels file '{path}' does not exist.", path); }
        var labels = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (labels.Count == 0) { throw new InvalidDataException($"Labels file '{path}' holds no labels; expected one label per line."); }
        var duplicate = labels.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) { throw new InvalidDataException($"Labels file '{path}' repeats the label '{duplicate.Key}'; expected each label once."); }
        return labels;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option and the accepted range.</summary>
    public ImageClassifierOptions Validate()
    {
        static ArgumentException Bad(string message) => new(message);
        if (Width is < 1 || Height is < 1) { throw Bad($"Size {Width}x{Height} is invalid; expected positive width and height."); }
        if (TopK < 1) { throw Bad($"TopK must be at least 1, but was {TopK}."); }
        if (BatchSize is < 1 or > MaxBatchSize) { throw Bad($"BatchSize must be from 1 to {MaxBatchSize}, but was {BatchSize}."); }
        if (Threads is < 1 or > MaxThreads) { throw Bad($"Threads must be from 1 to {MaxThreads}, but was {Threads}."); }
        if (MaxImagePixels < 1) { throw Bad($"MaxImagePixels must be at least 1, but was {MaxImagePixels}."); }
        if ((Mean is null) != (Std is null)) { throw Bad("Mean and Std go together; give both or neither."); }
        if (Mean is not null && (Offset is not null || Scale is not null)) { throw Bad("Give either Mean and Std or Offset and Scale, not both."); }
        foreach (var (name, value) in new[] { ("Offset", Offset), ("Scale", Scale), ("Mean", Mean), ("Std", Std) })
        {
            if (value is { } v && !float.IsFinite(v)) { throw Bad($"{name} must be a finite number, but was {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}."); }
        }
        if (Scale is 0) { throw Bad("Scale must not be 0."); }
        if (Std is <= 0) { throw Bad($"Std must be positive, but was {Std.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}."); }
        if (Labels is { } labels)
        {
            var duplicate = labels.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) { throw Bad($"Label '{duplicate.Key}' appears more than once."); }
        }
        return this;
    }
}
