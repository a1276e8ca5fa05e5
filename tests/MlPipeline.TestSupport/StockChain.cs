using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MlPipeline.Scoring;

namespace MlPipeline.TestSupport;

/// <summary>
/// ML.NET's stock image chain (LoadImages → ResizeImages → ConvertToGrayscale → ExtractPixels → ApplyOnnxModel), built
/// here from ML.NET's own transforms and nothing of MlPipeline's preprocessing: the independent reference that the
/// fused preprocessing is tested against and the baseline the scoring benchmark measures.
/// </summary>
public sealed class StockChain
{
    /// <summary>The image column the chain reads and rewrites.</summary>
    public const string ImageColumn = "image";

    readonly MLContext ml = new(seed: 0);
    readonly ImagePreprocessing preprocessing;
    readonly Lazy<ITransformer> fitted;
    const string Output = "pixels";

    /// <summary>The stock chain for <paramref name="preprocessing"/>.</summary>
    public StockChain(ImagePreprocessing preprocessing)
    {
        this.preprocessing = preprocessing;
        fitted = new(() => Transforms(ml, preprocessing, Output).Fit(ml.Data.LoadFromEnumerable(Array.Empty<ImageRow>())));
    }

    /// <summary>
    /// ResizeImages (fill, pad or crop about the centre), ConvertToGrayscale for gray, ExtractPixels with the one offset
    /// and scale (0 and 1 when they differ by channel: <see cref="Pixels"/> applies them after).
    /// </summary>
    public static IEstimator<ITransformer> Transforms(MLContext ml, ImagePreprocessing p, string outputColumn)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(p);
        bool uniform = Uniform(p);
        var kind = p.Resize switch
        {
            ResizeMode.Pad => ImageResizingEstimator.ResizingKind.IsoPad,
            ResizeMode.Crop => ImageResizingEstimator.ResizingKind.IsoCrop,
            _ => ImageResizingEstimator.ResizingKind.Fill,
        };
        IEstimator<ITransformer> chain = ml.Transforms.ResizeImages(ImageColumn, p.Width, p.Height, ImageColumn, kind, ImageResizingEstimator.Anchor.Center);
        if (p.ColorMode == ColorMode.Gray) { chain = chain.Append(ml.Transforms.ConvertToGrayscale(ImageColumn, ImageColumn)); }
        return chain.Append(ml.Transforms.ExtractPixels(
            outputColumn, ImageColumn,
            colorsToExtract: p.ColorMode == ColorMode.Gray ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb,
            orderOfExtraction: p.ColorMode == ColorMode.Bgr ? ImagePixelExtractingEstimator.ColorsOrder.ABGR : ImagePixelExtractingEstimator.ColorsOrder.ARGB,
            interleavePixelColors: false, offsetImage: uniform ? p.Offsets[0] : 0f, scaleImage: uniform ? p.Scales[0] : 1f));
    }

    /// <summary>
    /// The chain's pixel vectors for decoded images, stacked [N, C, H, W], one cursor over the images; per-channel
    /// offsets and scales applied after as (v - offset) * scale in float.
    /// </summary>
    public float[] Pixels(IReadOnlyList<MLImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var p = preprocessing;
        int plane = p.Height * p.Width, size = p.Channels * plane;
        bool uniform = Uniform(p);
        float[] batch = new float[images.Count * size];
        var view = fitted.Value.Transform(ml.Data.LoadFromEnumerable(images.Select(i => new ImageRow { Image = i })));
        var column = view.Schema[Output];
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        int row = 0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            if (buffer.Length != size) { throw new InvalidOperationException($"ExtractPixels produced {buffer.Length} values; expected {size}."); }
            var pixels = batch.AsSpan(row * size, size);
            buffer.CopyTo(pixels);
            for (int c = 0; !uniform && c < p.Channels; c++)
            {
                foreach (ref float v in pixels.Slice(c * plane, plane)) { v = (v - p.Offsets[c]) * p.Scales[c]; }
            }
            row++;
        }
        return batch;
    }

    /// <summary>
    /// The whole stock pipeline for a loaded classifier's model over a column "path" of paths relative to
    /// <paramref name="imageFolder"/>, one row per model call; it aborts on a bad file.
    /// </summary>
    /// <exception cref="NotSupportedException">The model's preprocessing is beyond the stock chain (per-channel values, NHWC, a background, resize-then-crop).</exception>
    public static (MLContext Context, IEstimator<ITransformer> Pipeline, string Output) Pipeline(ImageClassifier classifier, string imageFolder, string modelPath)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        var p = classifier.Preprocessing;
        if (!p.IsStock) { throw new NotSupportedException($"ML.NET's stock chain has one offset and scale for all channels, NCHW, no background and no resize-then-crop; this model's preprocessing is {p.DescribeNormalization()}, {p.DescribeGeometry()}."); }
        var ml = new MLContext(seed: 0);
        var chain = ml.Transforms.LoadImages(ImageColumn, imageFolder, "path")
            .Append(Transforms(ml, p, classifier.InputName))
            .Append(ml.Transforms.ApplyOnnxModel([classifier.Model.OutputName], [classifier.InputName], modelPath));
        return (ml, chain, classifier.Model.OutputName);
    }

    /// <summary>
    /// The model's output for each of <paramref name="paths"/> (relative to <paramref name="imageFolder"/>) through the
    /// whole stock pipeline: the independent reference for what MlPipeline's facade and transforms score.
    /// </summary>
    public static List<float[]> Scores(ImageClassifier classifier, string imageFolder, string modelPath, IEnumerable<string> paths)
    {
        var (ml, pipeline, output) = Pipeline(classifier, imageFolder, modelPath);
        var data = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { Path = p }));
        return [.. pipeline.Fit(data).Transform(data).GetColumn<float[]>(output)];
    }

    sealed class PathRow
    {
        [ColumnName("path")]
        public string Path { get; set; } = "";
    }

    /// <summary>Whether one offset and one scale serve every channel (what ExtractPixels can apply itself).</summary>
    static bool Uniform(ImagePreprocessing p) => p.Offsets.Distinct().Count() == 1 && p.Scales.Distinct().Count() == 1;

    sealed class ImageRow
    {
        // ML.NET maps MLImage only through this attribute, which wants a positive size; the declared size is not
        // checked against the pixels, and ResizeImages takes any size, so the images keep their own.
        [ImageType(1, 1)]
        [ColumnName(ImageColumn)]
        public MLImage? Image { get; set; }
    }
}
