using SkiaSharp;

namespace MlPipeline.Scoring;

// Pixels to the model input: ExtractPixels' (pixel - offset) * scale per plane, and the grayscale draw's table.
internal sealed partial class ImagePreprocessor
{
    void ExtractGray(SKBitmap image, Span<float> destination)
    {
        var table = GrayTable.Value;
        ReadOnlySpan<byte> pixels = image.GetPixelSpan();
        float offset = Preprocessing.Offsets[0], scale = Preprocessing.Scales[0];
        int count = Preprocessing.Width * Preprocessing.Height;
        for (int i = 0; i < count; i++) { destination[i] = (table[pixels[i * 4]] - offset) * scale; }
    }

    /// <summary>What the grayscale draw (the colour matrix onto an opaque bitmap) makes of each opaque gray pixel (v, v, v, 255), read as ExtractPixels reads it.</summary>
    static readonly Lazy<byte[]> GrayTable = new(() =>
    {
        using var source = new SKBitmap(new SKImageInfo(256, 1, SKColorType.Bgra8888, SKAlphaType.Premul));
        for (int v = 0; v < 256; v++) { source.SetPixel(v, 0, new SKColor((byte)v, (byte)v, (byte)v, 255)); }
        using var gray = new SKBitmap(256, 1, isOpaque: true);
        using (var canvas = new SKCanvas(gray))
        using (var paint = new SKPaint { ColorFilter = GrayscaleMatrix, FilterQuality = SKFilterQuality.High })
        {
            canvas.DrawBitmap(source, 0f, 0f, paint);
        }
        using var bgra = BgraCopyIfNeeded(gray);
        var result = bgra ?? gray;
        int red = result.ColorType == SKColorType.Bgra8888 ? 2 : 0;
        var pixels = result.GetPixelSpan();
        var table = new byte[256];
        for (int v = 0; v < 256; v++) { table[v] = pixels[(v * 4) + red]; }
        return table;
    });

    void Extract(SKBitmap image, Span<float> destination)
    {
        var p = Preprocessing;
        ReadOnlySpan<byte> pixels = image.GetPixelSpan();
        bool bgra = image.ColorType == SKColorType.Bgra8888;
        int red = bgra ? 2 : 0, blue = bgra ? 0 : 2;
        // The byte of each output plane within a pixel: gray reads red (ExtractPixels' Red bits); RGB and BGR their order.
        int[] planes = p.ColorMode switch
        {
            ColorMode.Gray => [red],
            ColorMode.Bgr => [blue, 1, red],
            _ => [red, 1, blue],
        };
        int plane = p.Width * p.Height;
        // NCHW: one plane per channel; NHWC: the channels of each pixel side by side.
        bool nhwc = p.Layout == TensorLayout.Nhwc;
        int step = nhwc ? planes.Length : 1;
        for (int c = 0; c < planes.Length; c++)
        {
            float offset = p.Offsets[c], scale = p.Scales[c];
            int start = nhwc ? c : c * plane;
            for (int i = 0, at = planes[c], to = start; i < plane; i++, at += 4, to += step) { destination[to] = (pixels[at] - offset) * scale; }
        }
    }

    // MLImage.CloneWithGrayscale's matrix: every colour channel becomes 0.3 R + 0.59 G + 0.11 B; alpha is kept.
    static readonly SKColorFilter GrayscaleMatrix = SKColorFilter.CreateColorMatrix(
    [
        0.3f, 0.59f, 0.11f, 0, 0,
        0.3f, 0.59f, 0.11f, 0, 0,
        0.3f, 0.59f, 0.11f, 0, 0,
        0, 0, 0, 1, 0,
    ]);
}
