using System.Globalization;
using TorchSharp;

namespace MlPipeline.Training;

/// <summary>
/// Random changes to training images, drawn anew for every image of every batch from the run's seed, so a run (and a
/// resumed run) sees the same augmented batches. Never applied to validation or test images.
/// </summary>
/// <param name="Flip">Mirror left-right with probability one half (leave off for digits and text).</param>
/// <param name="Rotate">Largest rotation either way, in degrees (0 to 180).</param>
/// <param name="Shift">Largest shift either way, as a fraction of the width and height (0 to 0.5).</param>
/// <param name="Zoom">Largest zoom in or out, as a fraction (0 to 0.9): the scale is drawn from 1 ± Zoom.</param>
/// <param name="Color">Largest brightness and contrast change, as a fraction (0 to 1): each factor is drawn from 1 ± Color.</param>
public sealed record Augmentation(bool Flip = false, double Rotate = 0, double Shift = 0, double Zoom = 0, double Color = 0)
{
    /// <summary>No augmentation.</summary>
    public static Augmentation None { get; } = new();

    /// <summary>Mirroring and shifts of up to 10 %: <c>flip,shift=0.1</c>.</summary>
    public static Augmentation Light { get; } = new(Flip: true, Shift: 0.1);

    /// <summary>Mirroring, rotations up to 15°, shifts and zooms up to 10 %, brightness and contrast up to 20 %.</summary>
    public static Augmentation Standard { get; } = new(Flip: true, Rotate: 15, Shift: 0.1, Zoom: 0.1, Color: 0.2);

    /// <summary>Whether anything changes the images.</summary>
    public bool IsNone => !Flip && Rotate == 0 && Shift == 0 && Zoom == 0 && Color == 0;

    /// <summary>Whether the geometry changes (flip, rotation, shift or zoom).</summary>
    internal bool Moves => Flip || Rotate != 0 || Shift != 0 || Zoom != 0;

    /// <summary>
    /// Parses <c>none</c>, <c>light</c>, <c>standard</c>, or a list such as <c>flip,rotate=15,shift=0.1,zoom=0.1,color=0.2</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name or a value out of range; the message names it and what is accepted.</exception>
    public static Augmentation Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        switch (text.Trim().ToLowerInvariant())
        {
            case "none": return None;
            case "light": return Light;
            case "standard": return Standard;
        }
        var result = None;
        foreach (string raw in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string[] parts = raw.Split('=', 2, StringSplitOptions.TrimEntries);
            string name = parts[0].ToLowerInvariant();
            double Value()
            {
                if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                {
                    throw new ArgumentException($"Augmentation '{raw}' needs a number, as in {name}=0.1; expected none, light, standard, or a list of flip, rotate=DEGREES, shift=F, zoom=F, color=F.");
                }
                return v;
            }
            result = name switch
            {
                "flip" when parts.Length == 1 => result with { Flip = true },
                "rotate" => result with { Rotate = Value() },
                "shift" => result with { Shift = Value() },
                "zoom" => result with { Zoom = Value() },
                "color" or "colour" => result with { Color = Value() },
                _ => throw new ArgumentException($"Augmentation '{raw}' is unknown; expected none, light, standard, or a list of flip, rotate=DEGREES, shift=F, zoom=F, color=F."),
            };
        }
        return result.Validate();
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public Augmentation Validate()
    {
        static void Check(string name, double value, double max)
        {
            if (!(value >= 0 && value <= max))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Augmentation {name}={value} is out of range; expected 0 to {max}."));
            }
        }
        Check("rotate", Rotate, 180);
        Check("shift", Shift, 0.5);
        Check("zoom", Zoom, 0.9);
        Check("color", Color, 1);
        return this;
    }

    /// <summary>
    /// <paramref name="count"/> augmented copies of image <paramref name="index"/> of <paramref name="images"/>, each with
    /// its own draw, as training would make them (to see what an augmentation does; the first copy is the original).
    /// </summary>
    public Data.ImageSet Preview(Data.ImageSet images, int index, int count = 8, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, images.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Validate();
        var one = images.Image(index).ToArray();
        var copies = new byte[count * one.Length];
        for (int i = 0; i < count; i++) { one.CopyTo(copies, i * one.Length); }
        Data.ImageSet Set() => new(copies, [.. Enumerable.Repeat(images.Labels.Span[index], count)], images.Channels, images.Height, images.Width, images.ClassNames);
        if (count == 1 || IsNone) { return Set(); }
        var preprocessing = Scoring.ImagePreprocessing.UnitRange(images.Width, images.Height, images.Channels == 1 ? Scoring.ColorMode.Gray : Scoring.ColorMode.Rgb);
        using var scope = TorchSharp.torch.NewDisposeScope();
        // The tensor holds its own copy of the bytes, so the copies after the first can be overwritten with their draws.
        var x = TrainingTensors.Images(Set(), preprocessing);
        var augmented = new Augmenter(this, preprocessing, seed).Apply(x.narrow(0, 1, count - 1), 1, 0);
        // Scalars held until the calls return (see TrainingTensors.Normalize).
        using var zero = 0f.ToScalar();
        using var full = 255f.ToScalar();
        float[] values = augmented.mul(full).round().clamp(zero, full).data<float>().ToArray();
        for (int i = 0; i < values.Length; i++) { copies[one.Length + i] = (byte)values[i]; }
        return Set();
    }

    /// <summary>The list form <see cref="Parse"/> reads back (<c>none</c> when nothing is on).</summary>
    public override string ToString()
    {
        if (IsNone) { return "none"; }
        var parts = new List<string>();
        if (Flip) { parts.Add("flip"); }
        if (Rotate != 0) { parts.Add(string.Create(CultureInfo.InvariantCulture, $"rotate={Rotate}")); }
        if (Shift != 0) { parts.Add(string.Create(CultureInfo.InvariantCulture, $"shift={Shift}")); }
        if (Zoom != 0) { parts.Add(string.Create(CultureInfo.InvariantCulture, $"zoom={Zoom}")); }
        if (Color != 0) { parts.Add(string.Create(CultureInfo.InvariantCulture, $"color={Color}")); }
        return string.Join(",", parts);
    }
}
