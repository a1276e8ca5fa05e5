namespace MlPipeline.Scoring;

/// <summary>
/// Bilinear resizing as Pillow does it (<c>Image.resize(size, Image.BILINEAR)</c>, what torchvision's <c>Resize</c>
/// runs on a PIL image): a separable triangle filter whose support widens with the reduction (so downscaling averages
/// every source pixel, antialiased), 8-bit pixels, coefficients in 22-bit fixed point and the same rounding, horizontal
/// pass first. The integer arithmetic follows Pillow's <c>Resample.c</c> step by step, so the bytes equal Pillow's.
/// </summary>
internal static class PilResampler
{
    const int PrecisionBits = 32 - 8 - 2;

    /// <summary>
    /// Resizes <paramref name="source"/> (<paramref name="width"/> × <paramref name="height"/> pixels of
    /// <paramref name="channels"/> interleaved bytes) to <paramref name="outWidth"/> × <paramref name="outHeight"/> and
    /// returns the <paramref name="cropWidth"/> × <paramref name="cropHeight"/> window at
    /// (<paramref name="cropLeft"/>, <paramref name="cropTop"/>) of the result. Each output pixel depends only on its
    /// own weights, so only the window is computed: the bytes equal Pillow's resize followed by its crop, at the cost
    /// (and memory) of the window alone.
    /// </summary>
    public static byte[] Resize(ReadOnlySpan<byte> source, int width, int height, int channels, int outWidth, int outHeight,
        int cropLeft, int cropTop, int cropWidth, int cropHeight)
    {
        if (source.Length < width * height * channels) { throw new ArgumentException($"The source holds {source.Length} bytes; expected {width}x{height}x{channels}.", nameof(source)); }
        if (cropLeft < 0 || cropTop < 0 || cropWidth < 1 || cropHeight < 1 || cropLeft + cropWidth > outWidth || cropTop + cropHeight > outHeight)
        {
            throw new ArgumentOutOfRangeException(nameof(cropLeft), $"The window {cropWidth}x{cropHeight} at ({cropLeft}, {cropTop}) is not inside the {outWidth}x{outHeight} result.");
        }
        bool needHorizontal = outWidth != width, needVertical = outHeight != height;
        // Weights for the window's columns and rows only (index 0 is the window's first).
        var (horizontalBounds, horizontal, horizontalSize) = needHorizontal ? Coefficients(width, outWidth, cropLeft, cropWidth) : ([], [], 0);
        var (verticalBounds, vertical, verticalSize) = needVertical ? Coefficients(height, outHeight, cropTop, cropHeight) : ([], [], 0);
        // The source rows the window's output rows read (Pillow's ybox_first and ybox_last, for the window).
        int firstRow = needVertical ? verticalBounds[0] : cropTop;
        int lastRow = needVertical
            ? Enumerable.Range(0, cropHeight).Max(y => verticalBounds[y * 2] + verticalBounds[(y * 2) + 1])
            : cropTop + cropHeight;
        int rowCount = lastRow - firstRow, rowWidth = cropWidth * channels;
        // Horizontal pass (or a copy of the window's columns) over those rows only.
        var rows = new byte[rowCount * rowWidth];
        for (int y = 0; y < rowCount; y++)
        {
            var input = source.Slice((y + firstRow) * width * channels, width * channels);
            var output = rows.AsSpan(y * rowWidth, rowWidth);
            if (!needHorizontal)
            {
                input.Slice(cropLeft * channels, rowWidth).CopyTo(output);
                continue;
            }
            for (int x = 0; x < cropWidth; x++)
            {
                int min = horizontalBounds[x * 2], count = horizontalBounds[(x * 2) + 1];
                var k = horizontal.AsSpan(x * horizontalSize, horizontalSize);
                for (int c = 0; c < channels; c++)
                {
                    int sum = 1 << (PrecisionBits - 1);
                    for (int i = 0; i < count; i++) { sum += input[((i + min) * channels) + c] * k[i]; }
                    output[(x * channels) + c] = Clip8(sum);
                }
            }
        }
        if (!needVertical) { return rows; }
        var result = new byte[cropHeight * rowWidth];
        for (int y = 0; y < cropHeight; y++)
        {
            int min = verticalBounds[y * 2] - firstRow, count = verticalBounds[(y * 2) + 1];
            var k = vertical.AsSpan(y * verticalSize, verticalSize);
            for (int x = 0; x < rowWidth; x++)
            {
                int sum = 1 << (PrecisionBits - 1);
                for (int i = 0; i < count; i++) { sum += rows[((i + min) * rowWidth) + x] * k[i]; }
                result[(y * rowWidth) + x] = Clip8(sum);
            }
        }
        return result;
    }

    static byte Clip8(int value) => value >= 255 << PrecisionBits ? (byte)255 : value <= 0 ? (byte)0 : (byte)(value >> PrecisionBits);

    /// <summary>
    /// Pillow's <c>precompute_coeffs</c> for the bilinear filter and <c>normalize_coeffs_8bpc</c>, for output pixels
    /// <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 of <paramref name="outSize"/>:
    /// per pixel, the first source pixel, the number read, and fixed-point weights.
    /// </summary>
    static (int[] Bounds, int[] Weights, int Size) Coefficients(int inSize, int outSize, int start, int count)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale;
        int size = ((int)Math.Ceiling(support) * 2) + 1;
        var bounds = new int[count * 2];
        var weights = new int[count * size];
        var k = new double[size];
        for (int n = 0; n < count; n++)
        {
            int xx = start + n;
            double center = (xx + 0.5) * scale;
            double total = 0, ss = 1.0 / filterScale;
            // C's (int) cast truncates toward zero, as here.
            int min = Math.Max((int)(center - support + 0.5), 0);
            int max = Math.Min((int)(center + support + 0.5), inSize) - min;
            for (int x = 0; x < max; x++)
            {
                double w = Triangle((x + min - center + 0.5) * ss);
                k[x] = w;
                total += w;
            }
            for (int x = 0; x < size; x++)
            {
                double value = x < max && total != 0 ? k[x] / total : 0;
                weights[(n * size) + x] = value < 0 ? (int)(-0.5 + (value * (1 << PrecisionBits))) : (int)(0.5 + (value * (1 << PrecisionBits)));
            }
            bounds[n * 2] = min;
            bounds[(n * 2) + 1] = max;
        }
        return (bounds, weights, size);
    }

    static double Triangle(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }
}
