using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace MlPipeline.Scoring;

/// <summary>
/// The ML.NET preprocessing chain (ResizeImages → ConvertToGrayscale for gray → ExtractPixels with offset and scale)
/// fitted once and run over decoded images in parallel slices. Scoring feeds its output to the model; training builds
/// its tensors with it (offset 0, scale 1 gives the pixel bytes), so a file becomes the same tensor on both sides.
/// </summary>
internal sealed class ImagePreprocessor
{
    /// <summary>The image column the chain reads and rewrites.</summary>
    public const string ImageColumn = "image";

    readonly MLContext ml = new(seed: 0);
    readonly ITransformer fitted;
    readonly string outputColumn;
    readonly int imageSize;
    readonly int parallelism;

    public ImagePreprocessor(ImagePreprocessing preprocessing, string outputColumn, int? threads = null)
    {
        Preprocessing = preprocessing;
        this.outputColumn = outputColumn;
        imageSize = preprocessing.Channels * preprocessing.Height * preprocessing.Width;
        parallelism = threads ?? Environment.ProcessorCount;
        fitted = Chain(ml, preprocessing, outputColumn).Fit(ml.Data.LoadFromEnumerable(Array.Empty<ImageRow>()));
    }

    /// <summary>What the chain does.</summary>
    public ImagePreprocessing Preprocessing { get; }

    /// <summary>ResizeImages → ConvertToGrayscale (gray) → ExtractPixels, from <see cref="ImageColumn"/> to <paramref name="outputColumn"/>.</summary>
    public static IEstimator<ITransformer> Chain(MLContext ml, ImagePreprocessing p, string outputColumn)
    {
        IEstimator<ITransformer> chain = ml.Transforms.ResizeImages(ImageColumn, p.Width, p.Height, ImageColumn, ImageResizingEstimator.ResizingKind.Fill);
        if (p.ColorMode == ColorMode.Gray) { chain = chain.Append(ml.Transforms.ConvertToGrayscale(ImageColumn, ImageColumn)); }
        return chain.Append(ml.Transforms.ExtractPixels(
            outputColumn, ImageColumn,
            colorsToExtract: p.ColorMode == ColorMode.Gray ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb,
            orderOfExtraction: p.ColorMode == ColorMode.Bgr ? ImagePixelExtractingEstimator.ColorsOrder.ABGR : ImagePixelExtractingEstimator.ColorsOrder.ARGB,
            interleavePixelColors: false, offsetImage: p.Offset, scaleImage: p.Scale));
    }

    /// <summary>The preprocessed pixel vectors of decoded images, stacked [N, C, H, W].</summary>
    public float[] Pixels(IReadOnlyList<MLImage> images)
    {
        float[] batch = new float[images.Count * imageSize];
        FillPixels(images, batch);
        return batch;
    }

    /// <summary>Writes the preprocessed pixel vectors of <paramref name="images"/> to the start of <paramref name="batch"/>.</summary>
    public void FillPixels(IReadOnlyList<MLImage> images, float[] batch)
    {
        // ML.NET's image transforms run row by row on one thread per cursor; a fitted transformer serves many cursors
        // at once, so slices of the batch are preprocessed in parallel, each into its own part of the array.
        int slices = Math.Clamp(images.Count / 16, 1, parallelism);
        int per = (images.Count + slices - 1) / slices;
        Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, slice =>
        {
            int first = slice * per;
            int count = Math.Min(per, images.Count - first);
            if (count > 0) { PixelsInto(images.Skip(first).Take(count), batch.AsSpan(first * imageSize, count * imageSize)); }
        });
    }

    void PixelsInto(IEnumerable<MLImage> images, Span<float> destination)
    {
        var view = fitted.Transform(ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { Image = i })));
        var column = view.Schema[outputColumn];
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        int row = 0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            if (buffer.Length != imageSize)
            {
                throw new InvalidOperationException($"ExtractPixels produced {buffer.Length} values; expected {imageSize} ({Preprocessing.Channels}x{Preprocessing.Height}x{Preprocessing.Width}).");
            }
            buffer.CopyTo(destination.Slice(row * imageSize, imageSize));
            row++;
        }
    }

    sealed class ImageRow
    {
        // ML.NET maps MLImage only through this attribute, which wants a positive size; the declared size is not
        // checked against the pixels, and ResizeImages takes any size, so the images keep their own.
        [ImageType(1, 1)]
        [ColumnName(ImageColumn)]
        public MLImage? Image { get; set; }
    }
}
