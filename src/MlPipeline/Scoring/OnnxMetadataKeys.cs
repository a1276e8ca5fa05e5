using System.Globalization;
using System.Text.Json;

namespace MlPipeline.Scoring;

/// <summary>
/// Every <c>metadata_props</c> key MlPipeline writes into an ONNX model, with its value's type: the one definition the
/// exporter writes and <see cref="ClassifierMetadata"/> reads. Keys that are absent mean their documented default.
/// </summary>
public static class OnnxMetadataKeys
{
    /// <summary>Class names, indexed by the model's output (a JSON array).</summary>
    public static OnnxMetadataKey<IReadOnlyList<string>> Labels { get; } = new("mlpipeline.labels",
        labels => JsonSerializer.Serialize(labels), text => JsonSerializer.Deserialize<string[]>(text) ?? throw new FormatException("null"));

    /// <summary>The input width in pixels.</summary>
    public static OnnxMetadataKey<int> ImageWidth { get; } = Int("mlpipeline.image_width");

    /// <summary>The input height in pixels.</summary>
    public static OnnxMetadataKey<int> ImageHeight { get; } = Int("mlpipeline.image_height");

    /// <summary>The colour mode: gray, rgb or bgr.</summary>
    public static OnnxMetadataKey<ColorMode> ColorMode { get; } = new("mlpipeline.color_mode",
        Lower, text => Enum.Parse<ColorMode>(text, ignoreCase: true));

    /// <summary>ExtractPixels' offset: input = (pixel - offset) * scale; one number when every channel shares it, else one per channel separated by commas.</summary>
    public static OnnxMetadataKey<IReadOnlyList<float>> PixelOffset { get; } = Floats("mlpipeline.pixel_offset");

    /// <summary>ExtractPixels' scale; one number when every channel shares it, else one per channel separated by commas.</summary>
    public static OnnxMetadataKey<IReadOnlyList<float>> PixelScale { get; } = Floats("mlpipeline.pixel_scale");

    /// <summary>The resize mode: stretch, pad or crop (absent: stretch).</summary>
    public static OnnxMetadataKey<ResizeMode> Resize { get; } = Name<ResizeMode>("mlpipeline.resize");

    /// <summary>Torchvision-style resizing: the shorter side's length before the centre crop (absent: none).</summary>
    public static OnnxMetadataKey<int> ResizeShorter { get; } = Int("mlpipeline.resize_shorter");

    /// <summary>The input layout: nchw or nhwc (absent: nchw).</summary>
    public static OnnxMetadataKey<TensorLayout> Layout { get; } = Name<TensorLayout>("mlpipeline.layout");

    /// <summary>The background transparent pixels are laid on: black or white (absent: none).</summary>
    public static OnnxMetadataKey<BackgroundColor> Background { get; } = Name<BackgroundColor>("mlpipeline.background");

    /// <summary>Whether the EXIF orientation is ignored: <c>ignore</c> or <c>apply</c> (absent: apply, so files written before the key turn images upright too).</summary>
    public static OnnxMetadataKey<bool> IgnoreExifOrientation { get; } = new("mlpipeline.exif_orientation",
        ignore => ignore ? "ignore" : "apply",
        text => text.ToLowerInvariant() switch
        {
            "ignore" => true,
            "apply" => false,
            _ => throw new FormatException("expected apply or ignore"),
        });

    /// <summary>What the class-score output scoring reads holds: probabilities or logits (absent: guessed from the output's name, <c>probabilities</c> or not).</summary>
    public static OnnxMetadataKey<OutputKind> Output { get; } = Name<OutputKind>("mlpipeline.output");

    /// <summary>The architecture name (for example <c>cnn</c>).</summary>
    public static OnnxMetadataKey<string> Architecture { get; } = Text("mlpipeline.architecture");

    /// <summary>
    /// The checksum of each training data file by file name (a JSON object of <c>sha256:</c> values). Files written
    /// before the key was renamed hold it under <c>mlpipeline.training_data_md5</c>, still read.
    /// </summary>
    public static OnnxMetadataKey<IReadOnlyDictionary<string, string>> TrainingDataChecksums { get; } = new("mlpipeline.training_data_sha256",
        checksums => JsonSerializer.Serialize(checksums),
        text => JsonSerializer.Deserialize<Dictionary<string, string>>(text) ?? [],
        formerName: "mlpipeline.training_data_md5");

    /// <summary>The number of epochs trained.</summary>
    public static OnnxMetadataKey<int> Epochs { get; } = Int("mlpipeline.epochs");

    /// <summary>The test accuracy at export.</summary>
    public static OnnxMetadataKey<double> TestAccuracy { get; } = new("mlpipeline.test_accuracy",
        accuracy => accuracy.ToString("R", CultureInfo.InvariantCulture), text => double.Parse(text, CultureInfo.InvariantCulture));

    /// <summary>The MlPipeline version that wrote the model.</summary>
    public static OnnxMetadataKey<string> Version { get; } = Text("mlpipeline.version");

    /// <summary>The backbone a transfer-learned head was trained on (for example <c>resnet18</c>).</summary>
    public static OnnxMetadataKey<string> Backbone { get; } = Text("mlpipeline.backbone");

    /// <summary>The NuGet package and version the backbone came from.</summary>
    public static OnnxMetadataKey<string> BackbonePackage { get; } = Text("mlpipeline.backbone_package");

    /// <summary>The head's kind on a backbone: linear or mlp.</summary>
    public static OnnxMetadataKey<string> Head { get; } = Text("mlpipeline.head");

    /// <summary>How many of the backbone's last residual blocks were fine-tuned (absent or 0: frozen).</summary>
    public static OnnxMetadataKey<int> FineTunedBlocks { get; } = Int("mlpipeline.fine_tuned_blocks");

    static OnnxMetadataKey<string> Text(string name) => new(name, value => value, text => text);

    static OnnxMetadataKey<int> Int(string name) =>
        new(name, value => value.ToString(CultureInfo.InvariantCulture), text => int.Parse(text, CultureInfo.InvariantCulture));

    static OnnxMetadataKey<IReadOnlyList<float>> Floats(string name) => new(name,
        // One number when every channel shares it, so models with one offset and scale read as before.
        values => ImagePreprocessing.Join(values.All(v => v.Equals(values[0])) ? [values[0]] : values),
        text => [.. text.Split(',').Select(v => float.Parse(v.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture))]);

    /// <summary>An enum written as its lowercase name and read by its name in any case; numbers are not names.</summary>
    static OnnxMetadataKey<T> Name<T>(string name) where T : struct, Enum => new(name, Lower,
        text => !text.Any(char.IsDigit) && Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new FormatException($"expected one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}"));

    static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
