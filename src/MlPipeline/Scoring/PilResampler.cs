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
    /// <paramref name="channels"/> interleaved bytes) to <paramref name="outWidth"/> × <paramref name="outHeight"/>.
    /// </summary>
    public static byte[] Resize(ReadOnlySpan<byte> source, int width, int height, int channels, int outWidth, int outHeight)
    {
        if (source.Length < width * height * channels) { throw new ArgumentException($"The source holds {source.Length} bytes; expected {width}x{height}x{channels}.", nameof(source)); }
        var (horizontalBounds, horizontal, horizontalSize) = Coefficients(width, outWidth);
        var (verticalBounds, vertical, verticalSize) = Coefficients(height, outHeight);
        bool needHorizontal = outWidth != width, needVertical = outHeight != height;
        // Only the source rows the vertical pass reads go through the horizontal one.
        int firstRow = needVertical ? verticalBounds[0] : 0;
        int lastRow = needVertical ? verticalBounds[(outHeight * 2) - 2] + verticalBounds[(outHeight * 2) - 1] : height;
        byte[] rows;
        int rowCount;
        if (needHorizontal)
        {
            rowCount = lastRow - firstRow;
            rows = new byte[rowCount * outWidth * channels];
            for (int y = 0; y < rowCount; y++)
            {
                var input = source.Slice((y + firstRow) * width * channels, width * channels);
                var output = rows.AsSpan(y * outWidth * channels, outWidth * channels);
                for (int x = 0; x < outWidth; x++)
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
        }
        else
        {
            rowCount = height;
            rows = source[..(width * height * channels)].ToArray();
            firstRow = 0;
        }
        if (!needVertical) { return rows; }
        int rowWidth = outWidth * channels;
        var result = new byte[outHeight * rowWidth];
        for (int y = 0; y < outHeight; y++)
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

    /// <summary>Pillow's <c>precompute_coeffs</c> for the bilinear filter and <c>normalize_coeffs_8bpc</c>: per output pixel, the first source pixel, the count, and fixed-point weights.</summary>
    static (int[] Bounds, int[] Weights, int Size) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale;
        int size = ((int)Math.Ceiling(support) * 2) + 1;
        var bounds = new int[outSize * 2];
        var weights = new int[outSize * size];
        var k = new double[size];
        for (int xx = 0; xx < outSize; xx++)
        {
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
                weights[(xx * size) + x] = value < 0 ? (int)(-0.5 + (value * (1 << PrecisionBits))) : (int)(0.5 + (value * (1 << PrecisionBits)));
            }
            bounds[xx * 2] = min;
            bounds[(xx * 2) + 1] = max;
        }
        return (bounds, weights, size);
    }

    static double Triangle(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }
}
