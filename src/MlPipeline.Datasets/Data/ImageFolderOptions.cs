using MlPipeline.Scoring;

namespace MlPipeline.Data;

/// <summary>How <see cref="ImageFolderData.Load"/> turns labelled image files into training data. Every value has a documented default.</summary>
public sealed record ImageFolderOptions
{
    /// <summary>The largest <see cref="Width"/> and <see cref="Height"/> accepted: 4096 pixels (each set must also fit in memory as bytes, which <see cref="ImageFolderData.Load"/> checks before decoding).</summary>
    public const int MaxSide = 4096;

    /// <summary>Width the images are resized to (the scoring pipeline's resize). Default: null, the width all images share.</summary>
    public int? Width { get; init; }

    /// <summary>Height the images are resized to. Default: null, the height all images share.</summary>
    public int? Height { get; init; }

    /// <summary>Gray or RGB. Default: null, RGB when any sampled image has colour, else gray.</summary>
    public ColorMode? ColorMode { get; init; }

    /// <summary>How images of another size are brought to <see cref="Width"/>×<see cref="Height"/>. Default: <see cref="ResizeMode.Stretch"/>.</summary>
    public ResizeMode Resize { get; init; }

    /// <summary>The colour transparent pixels are laid on. Default: null (colour values as stored, alpha ignored, as ML.NET).</summary>
    public BackgroundColor? Background { get; init; }

    /// <summary>
    /// Whether files' EXIF orientation tags are ignored, their pixels read as stored. Default: false (each image is
    /// turned upright as its tag says, as scoring does; the choice is recorded with the model).
    /// </summary>
    public bool IgnoreExifOrientation { get; init; }

    /// <summary>Share of each class held out for validation, stratified, when no <see cref="Validation"/> set is given. Default: 0.2.</summary>
    public double ValidationSplit { get; init; } = 0.2;

    /// <summary>Seed of the stratified split. Default: 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>A separate validation set (a folder per class or a <c>path,label</c> CSV). Default: none (split the training images).</summary>
    public string? Validation { get; init; }

    /// <summary>A test set, evaluated once at the end (a folder per class or a CSV). Default: none (the validation set is the test set).</summary>
    public string? Test { get; init; }

    /// <summary>Largest image accepted, in pixels, checked from the header. Default: <see cref="ImageClassifierOptions.DefaultMaxImagePixels"/>.</summary>
    public long MaxImagePixels { get; init; } = ImageClassifierOptions.DefaultMaxImagePixels;

    /// <summary>
    /// A folder for decoded-image cache files (<c>images-training.bin</c>, <c>images-validation.bin</c>,
    /// <c>images-test.bin</c>): each set's decoded pixels are written there as they are decoded and read a batch at a
    /// time, so that memory holds a batch, not the set, and the disk bounds the set's size; a later load with the same
    /// files and settings reuses them instead of decoding (every file is still read and hashed to know it is the same,
    /// and the rows are checked against their checksum). Default: null (the pixels are held in memory).
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option and the accepted range.</summary>
    public ImageFolderOptions Validate()
    {
        if (Width is < 1 or > MaxSide || Height is < 1 or > MaxSide)
        {
            throw new ArgumentException($"Size {Width?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}x{Height?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} is invalid; expected a width and height from 1 to {MaxSide}.");
        }
        if ((Width is null) != (Height is null)) { throw new ArgumentException("Width and Height go together; give both or neither."); }
        if (ColorMode == Scoring.ColorMode.Bgr) { throw new ArgumentException("Training takes gray or RGB images; BGR is a scoring option for foreign models."); }
        if (Validation is null && !(ValidationSplit > 0 && ValidationSplit < 1))
        {
            throw new ArgumentException($"ValidationSplit must be above 0 and below 1, but was {ValidationSplit.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        }
        if (MaxImagePixels < 1) { throw new ArgumentException($"MaxImagePixels must be at least 1, but was {MaxImagePixels}."); }
        return this;
    }
}
