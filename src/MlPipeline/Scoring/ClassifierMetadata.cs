using System.Text.Json;
using Keys = MlPipeline.Scoring.OnnxMetadataKeys;

namespace MlPipeline.Scoring;

/// <summary>
/// What an MlPipeline ONNX model says about itself in <c>metadata_props</c>, so scoring needs no preprocessing flags.
/// Foreign models carry none of it; then the user supplies preprocessing and labels. The keys and their value types are
/// in <see cref="OnnxMetadataKeys"/>.
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
    /// <summary>What the class-score output holds; null when the model does not say (files written before the key), and scoring guesses from the output's name.</summary>
    public OutputKind? Output { get; init; }

    /// <summary>The backbone a transfer-learned head was trained on; null for a model trained from scratch.</summary>
    public BackboneMetadata? Backbone { get; init; }

    /// <summary>The metadata as ONNX <c>metadata_props</c> entries.</summary>
    public IReadOnlyDictionary<string, string> ToProperties()
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        void Set<T>(OnnxMetadataKey<T> key, T value) => properties[key.Name] = key.Format(value);
        Set(Keys.Labels, Labels);
        Set(Keys.ImageWidth, Preprocessing.Width);
        Set(Keys.ImageHeight, Preprocessing.Height);
        Set(Keys.ColorMode, Preprocessing.ColorMode);
        Set(Keys.PixelOffset, Preprocessing.Offsets);
        Set(Keys.PixelScale, Preprocessing.Scales);
        Set(Keys.Architecture, Architecture);
        Set(Keys.TrainingDataChecksums, TrainingDataChecksums);
        Set(Keys.Epochs, Epochs);
        Set(Keys.Version, Version);
        // The geometry keys are written only when they differ from the defaults, so older readers see older files.
        if (Preprocessing.Resize != ResizeMode.Stretch) { Set(Keys.Resize, Preprocessing.Resize); }
        if (Preprocessing.ResizeShorter is { } shorter) { Set(Keys.ResizeShorter, shorter); }
        if (Preprocessing.Layout != TensorLayout.Nchw) { Set(Keys.Layout, Preprocessing.Layout); }
        if (Preprocessing.Background is { } background) { Set(Keys.Background, background); }
        if (Preprocessing.IgnoreExifOrientation) { Set(Keys.IgnoreExifOrientation, true); }
        if (TestAccuracy is { } accuracy) { Set(Keys.TestAccuracy, accuracy); }
        if (Output is { } output) { Set(Keys.Output, output); }
        if (Backbone is { } backbone)
        {
            Set(Keys.Backbone, backbone.Name);
            Set(Keys.BackbonePackage, backbone.Package);
            Set(Keys.Head, backbone.Head);
            Set(Keys.FineTunedBlocks, backbone.FineTunedBlocks);
        }
        return properties;
    }

    /// <summary>
    /// Reads the metadata back from <c>metadata_props</c>; returns null when the model carries none (a foreign model).
    /// Keys renamed since (see <see cref="OnnxMetadataKey{T}.FormerName"/>) are read under their old names too.
    /// </summary>
    /// <exception cref="InvalidDataException">Some MlPipeline keys are present but missing or malformed; the message names the key.</exception>
    public static ClassifierMetadata? FromProperties(IReadOnlyDictionary<string, string> properties, string source)
    {
        ArgumentNullException.ThrowIfNull(properties);
        if (!properties.ContainsKey(Keys.Labels.Name) && !properties.ContainsKey(Keys.ImageWidth.Name)) { return null; }
        var reader = new Reader(properties, source);
        var labels = reader.Get(Keys.Labels);
        int width = reader.Get(Keys.ImageWidth), height = reader.Get(Keys.ImageHeight);
        var color = reader.Get(Keys.ColorMode);
        var offsets = reader.Get(Keys.PixelOffset);
        var scales = reader.Get(Keys.PixelScale);
        ImagePreprocessing preprocessing;
        try
        {
            preprocessing = new ImagePreprocessing(width, height, color, offsets, scales)
            {
                Resize = reader.Optional(Keys.Resize) ?? ResizeMode.Stretch,
                ResizeShorter = reader.Optional(Keys.ResizeShorter),
                Layout = reader.Optional(Keys.Layout) ?? TensorLayout.Nchw,
                Background = reader.Optional(Keys.Background),
                IgnoreExifOrientation = reader.Optional(Keys.IgnoreExifOrientation) ?? false,
            }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Model '{source}' has invalid preprocessing metadata ('{Keys.PixelOffset}' {reader.Text(Keys.PixelOffset)}, '{Keys.PixelScale}' {reader.Text(Keys.PixelScale)}, '{Keys.ColorMode}' {reader.Text(Keys.ColorMode)}): {e.Message}", e);
        }
        var backbone = reader.Text(Keys.Backbone) is { } name
            ? new BackboneMetadata(name, reader.Get(Keys.BackbonePackage, ""), reader.Get(Keys.Head, ""), reader.Optional(Keys.FineTunedBlocks) ?? 0)
            : null;
        return new ClassifierMetadata(labels, preprocessing, reader.Get(Keys.Architecture, ""),
            reader.Get(Keys.TrainingDataChecksums, new Dictionary<string, string>()), reader.Optional(Keys.Epochs) ?? 0,
            reader.Optional(Keys.TestAccuracy), reader.Get(Keys.Version, ""))
        {
            Output = reader.Optional(Keys.Output),
            Backbone = backbone,
        };
    }

    /// <summary>Typed reads whose errors name the model, the key and the bad text.</summary>
    sealed class Reader(IReadOnlyDictionary<string, string> properties, string source)
    {
        /// <summary>A key that must be present.</summary>
        public T Get<T>(OnnxMetadataKey<T> key) => key.TryFind(properties, out string name, out string text)
            ? Parse(key, name, text)
            : throw new InvalidDataException($"Model '{source}' has MlPipeline metadata but lacks '{key.Name}'.");

        /// <summary>A key that may be absent, then <paramref name="absent"/>.</summary>
        public T Get<T>(OnnxMetadataKey<T> key, T absent) => key.TryFind(properties, out string name, out string text) ? Parse(key, name, text) : absent;

        /// <summary>A value-typed key that may be absent, then null.</summary>
        public T? Optional<T>(OnnxMetadataKey<T> key) where T : struct =>
            key.TryFind(properties, out string name, out string text) ? Parse(key, name, text) : null;

        /// <summary>The entry's text, or null when absent.</summary>
        public string? Text<T>(OnnxMetadataKey<T> key) => key.TryFind(properties, out _, out string text) ? text : null;

        T Parse<T>(OnnxMetadataKey<T> key, string name, string text)
        {
            try { return key.Parse(text); }
            catch (Exception e) when (e is FormatException or JsonException or OverflowException or ArgumentException)
            {
                throw new InvalidDataException($"Model '{source}' has an invalid '{name}' value '{text}': {e.Message}", e);
            }
        }
    }
}
