using System.Globalization;
using System.Text.Json.Serialization;

namespace MlPipeline.Scoring;

/// <summary>
/// How an image becomes a model input: resized to <see cref="Width"/>×<see cref="Height"/>, laid out as <see cref="ColorMode"/>,
/// and each pixel byte p (0–255) of channel c turned into <c>(p - Offsets[c]) * Scales[c]</c>, the formula of ML.NET's
/// ExtractPixels, per channel. Channels are in the model's input order: R, G, B for <see cref="ColorMode.Rgb"/>; B, G, R
/// for <see cref="ColorMode.Bgr"/>; one for <see cref="ColorMode.Gray"/>.
/// </summary>
public sealed record ImagePreprocessing
{
    readonly float[] offsets;
    readonly float[] scales;

    /// <summary>The same offset and scale for every channel (ExtractPixels' own form).</summary>
    /// <param name="width">Input width in pixels.</param>
    /// <param name="height">Input height in pixels.</param>
    /// <param name="colorMode">Channel layout.</param>
    /// <param name="offset">Subtracted from each pixel byte before scaling.</param>
    /// <param name="scale">Multiplies each pixel after the offset.</param>
    public ImagePreprocessing(int width, int height, ColorMode colorMode, float offset, float scale)
        : this(width, height, colorMode, [offset], [scale])
    {
    }

    /// <summary>An offset and a scale per channel; a single value applies to every channel.</summary>
    /// <param name="width">Input width in pixels.</param>
    /// <param name="height">Input height in pixels.</param>
    /// <param name="colorMode">Channel layout.</param>
    /// <param name="offsets">One offset, or one per channel in the model's channel order.</param>
    /// <param name="scales">One scale, or one per channel in the model's channel order.</param>
    /// <exception cref="ArgumentException">A list is missing or has neither one value nor one per channel.</exception>
    [JsonConstructor]
    public ImagePreprocessing(int width, int height, ColorMode colorMode, IReadOnlyList<float> offsets, IReadOnlyList<float> scales)
    {
        Width = width;
        Height = height;
        ColorMode = colorMode;
        this.offsets = PerChannel(offsets, nameof(offsets));
        this.scales = PerChannel(scales, nameof(scales));
    }

    /// <summary>Input width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>Input height in pixels.</summary>
    public int Height { get; init; }

    /// <summary>Channel layout.</summary>
    public ColorMode ColorMode { get; }

    /// <summary>Subtracted from each pixel byte of a channel before scaling; one per channel.</summary>
    public IReadOnlyList<float> Offsets => offsets;

    /// <summary>Multiplies each pixel of a channel after the offset; one per channel.</summary>
    public IReadOnlyList<float> Scales => scales;

    /// <summary>How an image of another size is brought to <see cref="Width"/> × <see cref="Height"/> (ignored with <see cref="ResizeShorter"/>). Default: <see cref="ResizeMode.Stretch"/>.</summary>
    public ResizeMode Resize { get; init; }

    /// <summary>
    /// torchvision's <c>Resize(N)</c> + <c>CenterCrop</c>: the image is resized (Pillow's bilinear) so that its shorter
    /// side is this many pixels, then the centre <see cref="Width"/> × <see cref="Height"/> is cut out. Null (the
    /// default) resizes as <see cref="Resize"/> says.
    /// </summary>
    public int? ResizeShorter { get; init; }

    /// <summary>The order of the input tensor's dimensions. Default: <see cref="TensorLayout.Nchw"/>.</summary>
    public TensorLayout Layout { get; init; }

    /// <summary>
    /// The colour transparent pixels are composited on, before resizing. Null (the default) takes the colour values as
    /// stored and ignores alpha, as ML.NET's ExtractPixels does.
    /// </summary>
    public BackgroundColor? Background { get; init; }

    /// <summary>
    /// Whether a file's EXIF orientation tag is ignored, its pixels taken as stored (as ML.NET's LoadImages takes them).
    /// False (the default) turns and mirrors each image upright as the tag says, as viewers show it, before any
    /// resizing; a file without the tag, or with a corrupt one, is taken as stored either way.
    /// </summary>
    public bool IgnoreExifOrientation { get; init; }

    /// <summary>
    /// Whether ML.NET's stock chain (ResizeImages → ConvertToGrayscale → ExtractPixels) expresses this preprocessing,
    /// for files without an EXIF orientation tag (LoadImages ignores the tag; <see cref="IgnoreExifOrientation"/> does too).
    /// </summary>
    [JsonIgnore]
    public bool IsStock => IsUniform && ResizeShorter is null && Layout == TensorLayout.Nchw && Background is null;

    /// <summary>The largest <see cref="ResizeShorter"/> accepted: 16,384 pixels.</summary>
    public const int MaxResizeShorter = 16_384;

    /// <summary>Number of input channels <see cref="ColorMode"/> implies.</summary>
    [JsonIgnore]
    public int Channels => ChannelsOf(ColorMode);

    /// <summary>Whether every channel has the same offset and scale, which ML.NET's ExtractPixels expresses alone.</summary>
    [JsonIgnore]
    public bool IsUniform => offsets.All(o => o.Equals(offsets[0])) && scales.All(s => s.Equals(scales[0]));

    /// <summary>Pixels scaled to [0, 1]: offset 0, scale 1/255.</summary>
    public static ImagePreprocessing UnitRange(int width, int height, ColorMode colorMode) =>
        new(width, height, colorMode, 0f, 1f / 255f);

    /// <summary>Standardisation <c>(p/255 - mean) / std</c>, written as ExtractPixels' offset and scale.</summary>
    public static ImagePreprocessing Standardized(int width, int height, ColorMode colorMode, float mean, float std) =>
        Standardized(width, height, colorMode, [mean], [std]);

    /// <summary>
    /// Per-channel standardisation <c>(p/255 - mean[c]) / std[c]</c> (torchvision's <c>Normalize</c>), written as offsets
    /// and scales. One value applies to every channel.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A standard deviation is not a positive finite number.</exception>
    public static ImagePreprocessing Standardized(int width, int height, ColorMode colorMode, IReadOnlyList<float> means, IReadOnlyList<float> stds)
    {
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(stds);
        foreach (float std in stds)
        {
            if (!(std > 0) || !float.IsFinite(std))
            {
                throw new ArgumentOutOfRangeException(nameof(stds), std, "The standard deviation must be a positive finite number.");
            }
        }
        return new(width, height, colorMode, [.. means.Select(m => m * 255f)], [.. stds.Select(s => 1f / (s * 255f))]);
    }

    /// <summary>Applies channel <paramref name="channel"/>'s offset and scale to one pixel byte.</summary>
    public float Apply(byte pixel, int channel = 0) => (pixel - offsets[channel]) * scales[channel];

    /// <summary>The resizing, layout, background and an ignored EXIF orientation as text, for messages and reports.</summary>
    public string DescribeGeometry() => string.Create(CultureInfo.InvariantCulture,
        $"{(ResizeShorter is { } n ? $"shorter side to {n} then centre crop to {Width}x{Height}" : $"{Resize.ToString().ToLowerInvariant()} to {Width}x{Height}")}, {Layout.ToString().ToUpperInvariant()}{(Background is { } b ? $", transparent pixels on {b.ToString().ToLowerInvariant()}" : "")}{(IgnoreExifOrientation ? ", EXIF orientation ignored" : "")}");

    /// <summary>The offsets and scales as text: one pair when uniform, else one per channel.</summary>
    public string DescribeNormalization() => IsUniform
        ? string.Create(CultureInfo.InvariantCulture, $"offset {offsets[0]} and scale {scales[0]}")
        : $"offsets {Join(offsets)} and scales {Join(scales)}";

    /// <summary>Numbers joined by commas, round-trippable (the form of the ONNX metadata and the CLI's lists).</summary>
    public static string Join(IEnumerable<float> values) => string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>Whether every pixel 0 to 255 becomes a finite input (no offset or scale so large that floats overflow). The formula is affine in the pixel, so its two ends bound every value.</summary>
    [JsonIgnore]
    public bool KeepsPixelsFinite => Enumerable.Range(0, offsets.Length).All(c =>
        float.IsFinite(scales[c]) && float.IsFinite(Apply(0, c)) && float.IsFinite(Apply(255, c)));

    /// <summary>The smallest and largest input any pixel becomes, over all channels.</summary>
    internal (float Min, float Max) InputRange()
    {
        var ends = Enumerable.Range(0, offsets.Length).SelectMany(c => new[] { Apply(0, c), Apply(255, c) }).ToList();
        return (ends.Min(), ends.Max());
    }

    /// <summary>Checks every field; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public ImagePreprocessing Validate()
    {
        if (Width <= 0 || Height <= 0)
        {
            throw new ArgumentException($"Preprocessing size {Width}x{Height} is invalid; expected positive width and height.");
        }
        if (!Enum.IsDefined(ColorMode))
        {
            throw new ArgumentException($"Preprocessing colour mode {(int)ColorMode} is not one of gray, rgb, bgr.");
        }
        if (!Enum.IsDefined(Resize) || !Enum.IsDefined(Layout) || (Background is { } b && !Enum.IsDefined(b)))
        {
            throw new ArgumentException($"Preprocessing resize mode {Resize}, layout {Layout} or background {Background} is not a defined value.");
        }
        if (ResizeShorter is { } shorter && (shorter < Math.Max(Width, Height) || shorter > MaxResizeShorter))
        {
            throw new ArgumentException($"Preprocessing resize-shorter {shorter} is invalid; expected {Math.Max(Width, Height)} to {MaxResizeShorter}: at least the crop's larger side ({Width}x{Height}), so that the centre crop lies inside the resized image.");
        }
        if (offsets.Any(o => !float.IsFinite(o)) || scales.Any(s => !float.IsFinite(s) || s == 0))
        {
            throw new ArgumentException($"Preprocessing offsets {Join(offsets)} and scales {Join(scales)} are invalid; expected finite numbers and non-zero scales.");
        }
        if (!KeepsPixelsFinite)
        {
            var (min, max) = InputRange();
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Preprocessing {DescribeNormalization()} turn pixel values into {min} to {max}, beyond float's range; expected (pixel - offset) * scale to be finite for pixels 0 to 255."));
        }
        return this;
    }

    /// <summary>Equal when size, colour mode, geometry, orientation and every offset and scale are equal.</summary>
    public bool Equals(ImagePreprocessing? other) =>
        other is not null && Width == other.Width && Height == other.Height && ColorMode == other.ColorMode
        && Resize == other.Resize && ResizeShorter == other.ResizeShorter && Layout == other.Layout && Background == other.Background
        && IgnoreExifOrientation == other.IgnoreExifOrientation
        && offsets.AsSpan().SequenceEqual(other.offsets) && scales.AsSpan().SequenceEqual(other.scales);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Width);
        hash.Add(Height);
        hash.Add(ColorMode);
        hash.Add(Resize);
        hash.Add(ResizeShorter);
        hash.Add(Layout);
        hash.Add(Background);
        hash.Add(IgnoreExifOrientation);
        foreach (float o in offsets) { hash.Add(o); }
        foreach (float s in scales) { hash.Add(s); }
        return hash.ToHashCode();
    }

    bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(CultureInfo.InvariantCulture, $"Width = {Width}, Height = {Height}, ColorMode = {ColorMode}, Offsets = [{Join(offsets)}], Scales = [{Join(scales)}], Resize = {Resize}, ResizeShorter = {ResizeShorter}, Layout = {Layout}, Background = {Background}, IgnoreExifOrientation = {IgnoreExifOrientation}");
        return true;
    }

    static int ChannelsOf(ColorMode mode) => mode == ColorMode.Gray ? 1 : 3;

    float[] PerChannel(IReadOnlyList<float>? values, string name)
    {
        int channels = ChannelsOf(ColorMode);
        if (values is null || (values.Count != 1 && values.Count != channels))
        {
            throw new ArgumentException(values is null
                ? $"Preprocessing needs {name}; expected one value or {channels} (one per channel)."
                : $"Preprocessing has {values.Count} {name} ({Join(values)}) for colour mode {ColorMode.ToString().ToLowerInvariant()}; expected one value or {channels} (one per channel).", name);
        }
        return values.Count == channels ? [.. values] : [.. Enumerable.Repeat(values[0], channels)];
    }
}
