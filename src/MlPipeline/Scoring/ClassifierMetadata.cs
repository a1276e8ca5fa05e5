using System.Globalization;
using System.Text.Json;

namespace MlPipeline.Scoring;

/// <summary>
/// What an MlPipeline ONNX model says about itself in <c>metadata_props</c>, so scoring needs no preprocessing flags.
/// Foreign models carry none of it; then the user supplies preprocessing and labels.
/// </summary>
/// <param name="Labels">Class names, indexed by the model's output.</param>
/// <param name="Preprocessing">Size, colour mode, and ExtractPixels' offset and scale.</param>
/// <param name="Architecture">Architecture name (for example <c>cnn</c>).</param>
/// <param name="TrainingDataChecksums">Checksum of each training data file, by file name.</param>
/// <param name="Epochs">Epochs trained.</param>
/// <param name="TestAccuracy">Test accuracy at export, when known.</param>
/// <param name="Version">MlPipeline version that wrote the model.</param>
public sealed record ClassifierMetadata(
    IReadOnlyList<string> Labels,
    ImagePreprocessing Preprocessing,
    string Architecture,
    IReadOnlyDictionary<string, string> TrainingDataChecksums,
    int Epochs,
    double? TestAccuracy,
    string Version)
{
    /// <summary>Key of the JSON array of class labels.</summary>
    public const string LabelsKey = "mlpipeline.labels";

    /// <summary>Key of the input width in pixels.</summary>
    public const string WidthKey = "mlpipeline.image_width";

    /// <summary>Key of the input height in pixels.</summary>
    public const string HeightKey = "mlpipeline.image_height";

    /// <summary>Key of the colour mode: gray, rgb or bgr.</summary>
    public const string ColorModeKey = "mlpipeline.color_mode";

    /// <summary>Key of ExtractPixels' offset: input = (pixel - offset) * scale; one number, or one per channel separated by commas.</summary>
    public const string OffsetKey = "mlpipeline.pixel_offset";

    /// <summary>Key of ExtractPixels' scale; one number, or one per channel separated by commas.</summary>
    public const string ScaleKey = "mlpipeline.pixel_scale";

    /// <summary>Key of the resize mode: stretch, pad or crop (absent: stretch).</summary>
    public const string ResizeKey = "mlpipeline.resize";

    /// <summary>Key of torchvision-style resizing: the shorter side's length before the centre crop (absent: none).</summary>
    public const string ResizeShorterKey = "mlpipeline.resize_shorter";

    /// <summary>Key of the input layout: nchw or nhwc (absent: nchw).</summary>
    public const string LayoutKey = "mlpipeline.layout";

    /// <summary>Key of the background transparent pixels are laid on: black or white (absent: none).</summary>
    public const string BackgroundKey = "mlpipeline.background";

    /// <summary>Key of the EXIF orientation: apply or ignore (absent: apply, so files written before the key turn images upright too).</summary>
    public const string ExifOrientationKey = "mlpipeline.exif_orientation";

    /// <summary>Key of the architecture name.</summary>
    public const string ArchitectureKey = "mlpipeline.architecture";

    /// <summary>Key of the JSON object of training data checksums.</summary>
    public const string ChecksumsKey = "mlpipeline.training_data_md5";

    /// <summary>Key of the number of epochs trained.</summary>
    public const string EpochsKey = "mlpipeline.epochs";

    /// <summary>Key of the test accuracy.</summary>
    public const string TestAccuracyKey = "mlpipeline.test_accuracy";

    /// <summary>Key of the MlPipeline version.</summary>
    public const string VersionKey = "mlpipeline.version";

    /// <summary>The metadata as ONNX <c>metadata_props</c> entries.</summary>
    public IReadOnlyDictionary<string, string> ToProperties()
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [LabelsKey] = JsonSerializer.Serialize(Labels),
            [WidthKey] = Preprocessing.Width.ToString(CultureInfo.InvariantCulture),
            [HeightKey] = Preprocessing.Height.ToString(CultureInfo.InvariantCulture),
            [ColorModeKey] = Preprocessing.ColorMode.ToString().ToLowerInvariant(),
            [OffsetKey] = Values(Preprocessing.Offsets),
            [ScaleKey] = Values(Preprocessing.Scales),
            [ArchitectureKey] = Architecture,
            [ChecksumsKey] = JsonSerializer.Serialize(TrainingDataChecksums),
            [EpochsKey] = Epochs.ToString(CultureInfo.InvariantCulture),
            [VersionKey] = Version,
        };
        // The geometry keys are written only when they differ from the defaults, so older readers see older files.
        if (Preprocessing.Resize != ResizeMode.Stretch) { properties[ResizeKey] = Preprocessing.Resize.ToString().ToLowerInvariant(); }
        if (Preprocessing.ResizeShorter is { } shorter) { properties[ResizeShorterKey] = shorter.ToString(CultureInfo.InvariantCulture); }
        if (Preprocessing.Layout != TensorLayout.Nchw) { properties[LayoutKey] = Preprocessing.Layout.ToString().ToLowerInvariant(); }
        if (Preprocessing.Background is { } background) { properties[BackgroundKey] = background.ToString().ToLowerInvariant(); }
        if (Preprocessing.IgnoreExifOrientation) { properties[ExifOrientationKey] = "ignore"; }
        if (TestAccuracy is { } accuracy) { properties[TestAccuracyKey] = accuracy.ToString("R", CultureInfo.InvariantCulture); }
        return properties;
    }

    /// <summary>
    /// Reads the metadata back from <c>metadata_props</c>; returns null when the model carries none (a foreign model).
    /// </summary>
    /// <exception cref="InvalidDataException">Some MlPipeline keys are present but missing or malformed; the message names the key.</exception>
    public static ClassifierMetadata? FromProperties(IReadOnlyDictionary<string, string> properties, string source)
    {
        ArgumentNullException.ThrowIfNull(properties);
        if (!properties.ContainsKey(LabelsKey) && !properties.ContainsKey(WidthKey)) { return null; }
        string Get(string key) => properties.TryGetValue(key, out var value)
            ? value
            : throw new InvalidDataException($"Model '{source}' has MlPipeline metadata but lacks '{key}'.");
        T Parse<T>(string key, Func<string, T> parse)
        {
            string raw = Get(key);
            try { return parse(raw); }
            catch (Exception e) when (e is FormatException or JsonException or OverflowException or ArgumentException)
            {
                throw new InvalidDataException($"Model '{source}' has an invalid '{key}' value '{raw}': {e.Message}", e);
            }
        }
        var labels = Parse(LabelsKey, s => JsonSerializer.Deserialize<string[]>(s) ?? throw new FormatException("null"));
        int width = Parse(WidthKey, s => int.Parse(s, CultureInfo.InvariantCulture));
        int height = Parse(HeightKey, s => int.Parse(s, CultureInfo.InvariantCulture));
        var color = Parse(ColorModeKey, s => Enum.Parse<ColorMode>(s, ignoreCase: true));
        float[] offsets = Parse(OffsetKey, ParseValues), scales = Parse(ScaleKey, ParseValues);
        ImagePreprocessing preprocessing;
        try
        {
            preprocessing = new ImagePreprocessing(width, height, color, offsets, scales)
            {
                Resize = properties.ContainsKey(ResizeKey) ? Parse(ResizeKey, ParseName<ResizeMode>) : ResizeMode.Stretch,
                ResizeShorter = properties.ContainsKey(ResizeShorterKey) ? Parse(ResizeShorterKey, s => int.Parse(s, CultureInfo.InvariantCulture)) : null,
                Layout = properties.ContainsKey(LayoutKey) ? Parse(LayoutKey, ParseName<TensorLayout>) : TensorLayout.Nchw,
                Background = properties.ContainsKey(BackgroundKey) ? Parse(BackgroundKey, ParseName<BackgroundColor>) : null,
                IgnoreExifOrientation = properties.ContainsKey(ExifOrientationKey) && Parse(ExifOrientationKey, ParseIgnore),
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Model '{source}' has invalid preprocessing metadata ('{OffsetKey}' {Get(OffsetKey)}, '{ScaleKey}' {Get(ScaleKey)}, '{ColorModeKey}' {Get(ColorModeKey)}): {e.Message}", e);
        }
        var checksums = properties.ContainsKey(ChecksumsKey)
            ? Parse(ChecksumsKey, s => JsonSerializer.Deserialize<Dictionary<string, string>>(s) ?? [])
            : [];
        double? accuracy = properties.ContainsKey(TestAccuracyKey) ? Parse(TestAccuracyKey, s => double.Parse(s, CultureInfo.InvariantCulture)) : null;
        int epochs = properties.ContainsKey(EpochsKey) ? Parse(EpochsKey, s => int.Parse(s, CultureInfo.InvariantCulture)) : 0;
        return new ClassifierMetadata(labels, preprocessing, properties.GetValueOrDefault(ArchitectureKey, ""), checksums, epochs, accuracy,
            properties.GetValueOrDefault(VersionKey, ""));
    }

    // One number when every channel shares it, so models with one offset and scale read as before.
    static string Values(IReadOnlyList<float> values) =>
        ImagePreprocessing.Join(values.All(v => v.Equals(values[0])) ? [values[0]] : values);

    /// <summary>An enum value by its name (any case); numbers are not names.</summary>
    static T ParseName<T>(string text) where T : struct, Enum =>
        !text.Any(char.IsDigit) && Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new FormatException($"expected one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");

    /// <summary>Whether an orientation value says ignore: "apply" or "ignore", in any case.</summary>
    static bool ParseIgnore(string text) => text.ToLowerInvariant() switch
    {
        "ignore" => true,
        "apply" => false,
        _ => throw new FormatException("expected apply or ignore"),
    };

    static float[] ParseValues(string text) =>
        [.. text.Split(',').Select(v => float.Parse(v.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture))];
}
