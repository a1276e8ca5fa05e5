using MlPipeline.Internals;
using SkiaSharp;

namespace MlPipeline.Scoring;

/// <summary>
/// Turns an image into its model input the way ML.NET's stock chain does (ResizeImages → ConvertToGrayscale for gray →
/// ExtractPixels with offset and scale), bit for bit, in one fused pass per image (<see cref="Fill(SKBitmap, Span{float})"/>)
/// that makes the same SkiaSharp calls without ML.NET's per-row costs. Scoring feeds its output to the model; training
/// builds its tensors with it (offset 0, scale 1 gives the pixel bytes), so a file becomes the same tensor on both
/// sides. The stock chain itself is the tests' and benchmarks' reference (<c>MlPipeline.TestSupport.StockChain</c>), not
/// shipped. ExtractPixels has one offset and scale for all channels; per-channel ones follow the same formula in
/// the same float arithmetic. The steps live by job: resizing (<c>ImagePreprocessor.Resize.cs</c>), alpha and pixel
/// formats (<c>ImagePreprocessor.Pixels.cs</c>), pixels to floats (<c>ImagePreprocessor.Extract.cs</c>).
/// </summary>
internal sealed partial class ImagePreprocessor
{
    readonly int imageSize;

    public ImagePreprocessor(ImagePreprocessing preprocessing)
    {
        Preprocessing = preprocessing;
        imageSize = preprocessing.Channels * preprocessing.Height * preprocessing.Width;
    }

    /// <summary>What the chain does.</summary>
    public ImagePreprocessing Preprocessing { get; }

    /// <summary>
    /// Decodes one encoded image strictly, upright by its EXIF orientation unless the preprocessing ignores it, and
    /// writes its model input [C, H, W] to <paramref name="destination"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a readable image; the message says why.</exception>
    public void Fill(byte[] encoded, long maxPixels, Span<float> destination) => Fill(encoded, maxPixels, destination, reducedScale: false, budget: null);

    /// <summary>
    /// <see cref="Fill(byte[], long, Span{float})"/> for scoring: a JPEG at least twice the size the resizing needs is
    /// decoded at reduced scale when <paramref name="reducedScale"/> is set, and the decoded pixels wait for and hold
    /// room in <paramref name="budget"/>.
    /// </summary>
    public void Fill(ReadOnlySpan<byte> encoded, long maxPixels, Span<float> destination, bool reducedScale, PixelBudget? budget)
    {
        var p = Preprocessing;
        SKSizeI? reduceTo = !reducedScale ? null : p.ResizeShorter is { } n ? new SKSizeI(n, n) : new SKSizeI(p.Width, p.Height);
        using var image = ImageDecoder.DecodeAsMLImageHoldsIt(encoded, maxPixels, p.IgnoreExifOrientation, reduceTo, budget, out var lease);
        using (lease)
        {
            Fill(image, destination);
        }
    }

    /// <summary>
    /// Writes the model input [C, H, W] of one decoded image (as <see cref="ImageDecoder.DecodeAsMLImageHoldsIt(byte[], long, bool)"/> gives
    /// it) to <paramref name="destination"/>: the stock chain's steps, each with the SkiaSharp call ML.NET 5.0 makes for
    /// it (MLImage.CloneWithResizing's Resize with no filtering, only when the size differs, as ResizeImages does;
    /// CloneWithGrayscale's colour-matrix draw onto a new opaque bitmap; ExtractPixels' (pixel - offset) * scale per
    /// plane), without the per-row costs of ML.NET's cursors and images. Tests compare it with the stock chain bit for bit.
    /// </summary>
    public void Fill(SKBitmap image, Span<float> destination)
    {
        var p = Preprocessing;
        if (destination.Length < imageSize) { throw new ArgumentException($"The destination holds {destination.Length} values; expected at least {imageSize}.", nameof(destination)); }
        SKBitmap? composited = null, resized = null, gray = null, converted = null;
        try
        {
            var current = image;
            if (p.Background is { } background && !IsOpaque(current))
            {
                composited = Composite(current, background);
                current = composited;
            }
            if (current.Width != p.Width || current.Height != p.Height || p.ResizeShorter is not null)
            {
                resized = p.ResizeShorter is { } shorter ? ResizeShorterAndCrop(current, shorter) : Resize(current);
                current = resized;
            }
            if (p.ColorMode == ColorMode.Gray && IsOpaqueGray(current))
            {
                // Gray, opaque pixels are what Skia's grayscale draw maps through one fixed table (measured from Skia
                // itself, once); a 28x28 draw costs more than the rest of the image's preprocessing.
                ExtractGray(current, destination);
                return;
            }
            if (p.ColorMode == ColorMode.Gray)
            {
                gray = new SKBitmap(p.Width, p.Height, isOpaque: true);
                using (var canvas = new SKCanvas(gray))
                using (var paint = new SKPaint { ColorFilter = GrayscaleMatrix, FilterQuality = SKFilterQuality.High })
                {
                    canvas.DrawBitmap(current, 0f, 0f, paint);
                }
                current = gray;
            }
            converted = BgraCopyIfNeeded(current);
            Extract(converted ?? current, destination);
        }
        finally
        {
            converted?.Dispose();
            gray?.Dispose();
            resized?.Dispose();
            composited?.Dispose();
        }
    }
}
