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

    /// <summary>
    /// ExtractPixels offsets: input = (pixel - offset) * scale, one value for every channel or one per channel in the
    /// model's channel order. Default: from metadata, else 0.
    /// </summary>
    public IReadOnlyList<float>? Offsets { get; init; }

    /// <summary>ExtractPixels scales, one value or one per channel. Default: from metadata, else 1/255.</summary>
    public IReadOnlyList<float>? Scales { get; init; }

    /// <summary>
    /// Means of pixels scaled to [0, 1], one value or one per channel (with <see cref="Stds"/>, replaces offsets and scales:
    /// torchvision's <c>Normalize(mean, std)</c>, for example 0.485, 0.456, 0.406). Default: none.
    /// </summary>
    public IReadOnlyList<float>? Means { get; init; }

    /// <summary>Standard deviations of pixels scaled to [0, 1], one value or one per channel (with <see cref="Means"/>). Default: none.</summary>
    public IReadOnlyList<float>? Stds { get; init; }

    /// <summary>How images of another size are resized. Default: from metadata, else <see cref="ResizeMode.Stretch"/>.</summary>
    public ResizeMode? Resize { get; init; }

    /// <summary>
    /// torchvision-style resizing: the shorter side to this many pixels (Pillow's bilinear), then a centre crop to the
    /// input size. Default: from metadata, else none.
    /// </summary>
    public int? ResizeShorter { get; init; }

    /// <summary>The input's dimension order. Default: from metadata, else detected from the input shape (NCHW unless only the last dimension is 1 or 3).</summary>
    public TensorLayout? Layout { get; init; }

    /// <summary>The colour transparent pixels are laid on. Default: from metadata, else none (colour values as stored, as ML.NET).</summary>
    public BackgroundColor? Background { get; init; }

    /// <summary>
    /// Whether files' EXIF orientation tags are ignored, their pixels taken as stored (as ML.NET's LoadImages does).
    /// Default: from metadata, else false (each image is turned upright as its tag says before it is resized).
    /// </summary>
    public bool? IgnoreExifOrientation { get; init; }

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

    /// <summary>
    /// Whether a JPEG at least twice the model's input size in both dimensions is decoded at reduced scale (1/2, 1/4 or
    /// 1/8 through libjpeg's DCT scaling, as Pillow's <c>draft</c>): a 24-megapixel photo then costs a fraction of its
    /// full decode. Turn it off for decoding identical to ML.NET's LoadImages. Default: true.
    /// </summary>
    public bool ReducedScaleDecoding { get; init; } = true;

    /// <summary>
    /// Decoded pixels held at once by the parallel decoding of a batch (each image's decoded width × height waits for room).
    /// Bounds memory whatever the image sizes; an image larger than the budget is decoded alone. Default: 64 million (256 MB).
    /// </summary>
    public long DecodedPixelBudget { get; init; } = 64_000_000;

    /// <summary>Reads labels from a file: one label per line, blank lines ignored.</summary>
    /// <exception cref="InvalidDataException">The file is empty or repeats a label.</exception>
    public static IReadOnlyList<string> ReadLabels(string path)
    {
        if (!File.Exists(path)) { throw new FileNotFoundException($"Labels file '{path}' does not exist.", path); }
        var labels = File.ReadAllLines(Internals.FileSystem.RequireFile(path, "Labels file")).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
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
        if (ResizeShorter is < 1 or > ImagePreprocessing.MaxResizeShorter) { throw Bad($"ResizeShorter must be from 1 to {ImagePreprocessing.MaxResizeShorter}, but was {ResizeShorter}."); }
        if (Resize is { } r && !Enum.IsDefined(r)) { throw Bad($"Resize {(int)r} is not one of stretch, pad, crop."); }
        if (Layout is { } l && !Enum.IsDefined(l)) { throw Bad($"Layout {(int)l} is not one of nchw, nhwc."); }
        if (Background is { } b && !Enum.IsDefined(b)) { throw Bad($"Background {(int)b} is not one of black, white."); }
        if (DecodedPixelBudget < 1) { throw Bad($"DecodedPixelBudget must be at least 1, but was {DecodedPixelBudget}."); }
        if (MaxImagePixels < 1) { throw Bad($"MaxImagePixels must be at least 1, but was {MaxImagePixels}."); }
        if ((Means is null) != (Stds is null)) { throw Bad("Means and Stds go together; give both or neither."); }
        if (Means is not null && (Offsets is not null || Scales is not null)) { throw Bad("Give either Means and Stds or Offsets and Scales, not both."); }
        foreach (var (name, values) in new[] { ("Offsets", Offsets), ("Scales", Scales), ("Means", Means), ("Stds", Stds) })
        {
            if (values is null) { continue; }
            if (values.Count is not (1 or 3)) { throw Bad($"{name} has {values.Count} values ({ImagePreprocessing.Join(values)}); expected one, or three (one per colour channel)."); }
            if (values.Any(v => !float.IsFinite(v))) { throw Bad($"{name} must be finite numbers, but was {ImagePreprocessing.Join(values)}."); }
        }
        if (Scales?.Any(s => s == 0) == true) { throw Bad($"Scales must not be 0, but was {ImagePreprocessing.Join(Scales)}."); }
        if (Stds?.Any(s => s <= 0) == true) { throw Bad($"Stds must be positive, but was {ImagePreprocessing.Join(Stds)}."); }
        if (Labels is { } labels)
        {
            var duplicate = labels.GroupBy(l => l, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) { throw Bad($"Label '{duplicate.Key}' appears more than once."); }
        }
        return this;
    }
}
