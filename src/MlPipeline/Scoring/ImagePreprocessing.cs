using System.Globalization;

namespace MlPipeline.Scoring;

/// <summary>
/// How an image becomes a model input: resized to <see cref="Width"/>×<see cref="Height"/>, laid out as <see cref="ColorMode"/>,
/// and each pixel byte p (0–255) turned into <c>(p - Offset) * Scale</c>, the formula of ML.NET's ExtractPixels.
/// </summary>
/// <param name="Width">Input width in pixels.</param>
/// <param name="Height">Input height in pixels.</param>
/// <param name="ColorMode">Channel layout.</param>
/// <param name="Offset">Subtracted from each pixel byte before scaling.</param>
/// <param name="Scale">Multiplies each pixel after the offset.</param>
public sealed record ImagePreprocessing(int Width, int Height, ColorMode ColorMode, float Offset, float Scale)
{
    /// <summary>Number of input channels <see cref="ColorMode"/> implies.</summary>
    public int Channels => ColorMode == ColorMode.Gray ? 1 : 3;

    /// <summary>Pixels scaled to [0, 1]: offset 0, scale 1/255.</summary>
    public static ImagePreprocessing UnitRange(int width, int height, ColorMode colorMode) =>
        new(width, height, colorMode, 0f, 1f / 255f);

    /// <summary>Standardisation <c>(p/255 - mean) / std</c>, written as ExtractPixels' offset and scale.</summary>
    public static ImagePreprocessing Standardized(int width, int height, ColorMode colorMode, float mean, float std)
    {
        if (!(std > 0) || !float.IsFinite(std))
        {
            throw new ArgumentOutOfRangeException(nameof(std), std, "The standard deviation must be a positive finite number.");
        }
        return new(width, height, colorMode, mean * 255f, 1f / (std * 255f));
    }

    /// <summary>Applies the offset and scale to one pixel byte.</summary>
    public float Apply(byte pixel) => (pixel - Offset) * Scale;

    /// <summary>Whether every pixel 0 to 255 becomes a finite input. The formula is affine in the pixel, so its two ends bound every value.</summary>
    internal bool KeepsPixelsFinite => float.IsFinite(Scale) && float.IsFinite(Apply(0)) && float.IsFinite(Apply(255));

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
        if (!float.IsFinite(Offset) || !float.IsFinite(Scale) || Scale == 0)
        {
            throw new ArgumentException($"Preprocessing offset {Offset.ToString(CultureInfo.InvariantCulture)} and scale {Scale.ToString(CultureInfo.InvariantCulture)} are invalid; expected finite numbers and a non-zero scale.");
        }
        if (!KeepsPixelsFinite)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Preprocessing offset {Offset} and scale {Scale} turn pixel values into {Apply(0)} to {Apply(255)}, beyond float's range; expected (pixel - offset) * scale to be finite for pixels 0 to 255."));
        }
        return this;
    }
}
