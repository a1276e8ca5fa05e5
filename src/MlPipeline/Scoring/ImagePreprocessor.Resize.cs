using SkiaSharp;

namespace MlPipeline.Scoring;

// Resizing: ML.NET's ResizeImages kinds and torchvision's resize-shorter-then-center-crop.
internal sealed partial class ImagePreprocessor
{
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
}
