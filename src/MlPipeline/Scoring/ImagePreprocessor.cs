using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
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
/// the same float arithmetic.
/// </summary>
internal sealed class ImagePreprocessor
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

    /// <summary>
    /// MLImage.CloneWithResizing's SkiaSharp calls for ML.NET's three resizing kinds: Fill resizes with no filtering;
    /// IsoPad and IsoCrop draw the image scaled by one factor (the smaller or the larger of the two ratios) onto a new
    /// opaque bitmap, with high filter quality, at the offsets and truncations ML.NET computes.
    /// </summary>
    SKBitmap Resize(SKBitmap image)
    {
        var p = Preprocessing;
        if (p.Resize == ResizeMode.Stretch)
        {
            return image.Resize(new SKSizeI(p.Width, p.Height), SKFilterQuality.None)
                ?? throw new InvalidDataException($"the image ({image.Width}x{image.Height}) could not be resized to {p.Width}x{p.Height}");
        }
        float widthAspect = (float)p.Width / image.Width, heightAspect = (float)p.Height / image.Height;
        bool pad = p.Resize == ResizeMode.Pad;
        // Pad fits the image inside (the smaller ratio), crop covers the size (the larger one).
        bool byHeight = pad ? heightAspect < widthAspect : heightAspect >= widthAspect;
        float aspect = byHeight ? heightAspect : widthAspect;
        int destX = byHeight ? (int)((p.Width - (image.Width * aspect)) / 2) : 0;
        int destY = byHeight ? 0 : (int)((p.Height - (image.Height * aspect)) / 2);
        int destWidth = (int)(image.Width * aspect), destHeight = (int)(image.Height * aspect);
        var result = new SKBitmap(p.Width, p.Height, isOpaque: true);
        using var canvas = new SKCanvas(result);
        using var paint = new SKPaint { FilterQuality = SKFilterQuality.High };
        canvas.DrawBitmap(image, new SKRect(0, 0, image.Width, image.Height), new SKRect(destX, destY, destX + destWidth, destY + destHeight), paint);
        return result;
    }

    /// <summary>
    /// torchvision's <c>Resize(shorter)</c> then <c>CenterCrop((height, width))</c> on a PIL image: the shorter side
    /// becomes <paramref name="shorter"/> and the longer <c>int(shorter * long / short)</c>, resized with Pillow's
    /// bilinear filter (<see cref="PilResampler"/>), then the crop starts at <c>round((size - crop) / 2)</c> (Python's
    /// round, half to even) on each axis.
    /// </summary>
    SKBitmap ResizeShorterAndCrop(SKBitmap image, int shorter)
    {
        var p = Preprocessing;
        var bgra = BgraCopyIfNeeded(image);
        try
        {
            var source = bgra ?? image;
            int width = source.Width, height = source.Height;
            long longer = width <= height ? (long)shorter * height / width : (long)shorter * width / height;
            if (longer > int.MaxValue)
            {
                throw new InvalidDataException($"the image is {width}x{height}: with its shorter side resized to {shorter} its longer side would be {longer:N0} pixels");
            }
            var (newWidth, newHeight) = width <= height ? (shorter, (int)longer) : ((int)longer, shorter);
            int top = (int)Math.Round((newHeight - p.Height) / 2.0, MidpointRounding.ToEven);
            int left = (int)Math.Round((newWidth - p.Width) / 2.0, MidpointRounding.ToEven);
            // Only the crop is resampled: a large resize-shorter costs the crop's pixels, not the resized image's.
            byte[] pixels = PilResampler.Resize(Packed(source), width, height, 4, newWidth, newHeight, left, top, p.Width, p.Height);
            var result = new SKBitmap(new SKImageInfo(p.Width, p.Height, source.ColorType, source.AlphaType));
            var target = PixelsOf(result);
            for (int y = 0; y < p.Height; y++)
            {
                pixels.AsSpan(y * p.Width * 4, p.Width * 4).CopyTo(target.Slice(y * result.RowBytes, p.Width * 4));
            }
            return result;
        }
        finally
        {
            bgra?.Dispose();
        }
    }

    /// <summary>The pixels as tightly packed rows.</summary>
    static byte[] Packed(SKBitmap image)
    {
        var pixels = image.GetPixelSpan();
        int row = image.Width * image.BytesPerPixel;
        if (image.RowBytes == row) { return pixels[..(row * image.Height)].ToArray(); }
        var packed = new byte[row * image.Height];
        for (int y = 0; y < image.Height; y++) { pixels.Slice(y * image.RowBytes, row).CopyTo(packed.AsSpan(y * row)); }
        return packed;
    }

    static unsafe Span<byte> PixelsOf(SKBitmap bitmap) => new((void*)bitmap.GetPixels(), bitmap.ByteCount);

    static bool IsOpaque(SKBitmap image)
    {
        if (image.ColorType is not (SKColorType.Bgra8888 or SKColorType.Rgba8888)) { return image.AlphaType == SKAlphaType.Opaque; }
        var pixels = image.GetPixelSpan();
        for (int at = 3; at < pixels.Length; at += 4)
        {
            if (pixels[at] != 255) { return false; }
        }
        return true;
    }

    /// <summary>
    /// The image laid on <paramref name="background"/>: each colour byte c with alpha a becomes
    /// <c>round((c * a + b * (255 - a)) / 255)</c>, alpha 255. The bytes are read as stored (the decoder's
    /// unpremultiplied values).
    /// </summary>
    static SKBitmap Composite(SKBitmap image, BackgroundColor background)
    {
        using var bgra = BgraCopyIfNeeded(image);
        var source = bgra ?? image;
        var result = new SKBitmap(new SKImageInfo(source.Width, source.Height, source.ColorType, source.AlphaType));
        var from = source.GetPixelSpan();
        var to = PixelsOf(result);
        int b = background == BackgroundColor.White ? 255 : 0;
        for (int at = 0; at + 3 < from.Length; at += 4)
        {
            int a = from[at + 3];
            for (int c = 0; c < 3; c++) { to[at + c] = (byte)(((from[at + c] * a) + (b * (255 - a)) + 127) / 255); }
            to[at + 3] = 255;
        }
        return result;
    }

    /// <summary>
    /// A BGRA copy of an image whose pixels are not 4 bytes in BGRA or RGBA order (MLImage keeps other pixel formats as
    /// such a copy); null when they already are.
    /// </summary>
    /// <exception cref="InvalidDataException">The pixel format cannot be converted.</exception>
    static SKBitmap? BgraCopyIfNeeded(SKBitmap image) => image.ColorType is SKColorType.Bgra8888 or SKColorType.Rgba8888
        ? null
        : image.Copy(SKColorType.Bgra8888) ?? throw new InvalidDataException($"the image's pixel format {image.ColorType} cannot be converted to BGRA");

    static bool IsOpaqueGray(SKBitmap image)
    {
        if (image.ColorType is not (SKColorType.Bgra8888 or SKColorType.Rgba8888)) { return false; }
        var pixels = image.GetPixelSpan();
        for (int at = 0; at + 3 < pixels.Length; at += 4)
        {
            if (pixels[at + 3] != 255 || pixels[at] != pixels[at + 1] || pixels[at + 1] != pixels[at + 2]) { return false; }
        }
        return true;
    }

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
