using Microsoft.ML;

namespace MlPipeline.Scoring;

/// <summary>
/// MlPipeline's ML.NET transforms, as extension methods of <c>mlContext.Transforms</c>: compose them with ML.NET's own
/// (for example <c>LoadFromTextFile</c> → <c>MapValueToKey</c> → <c>ScoreImageClassifier</c> →
/// <c>MulticlassClassification.Evaluate</c>).
/// </summary>
public static class MlPipelineCatalog
{
    /// <summary>The default name of the error column: empty for a good image, else why it could not be used.</summary>
    public const string DefaultErrorColumnName = "ImageError";

    /// <summary>The default name of the class-probabilities column.</summary>
    public const string DefaultScoreColumnName = "Score";

    /// <summary>The default name of the predicted-label column.</summary>
    public const string DefaultPredictedLabelColumnName = "PredictedLabel";

    /// <summary>
    /// Reads each row's image (a path in a text column, relative to <paramref name="imageFolder"/> unless rooted, or
    /// the encoded file in a column of bytes) and writes its model input as <paramref name="preprocessing"/> says: a
    /// known-size vector of C × H × W floats in channel planes. Images are decoded strictly and in parallel, a batch
    /// at a time; a bad image leaves NaN and its reason in <paramref name="errorColumnName"/> instead of stopping the
    /// cursor. Equal, bit for bit, to ML.NET's LoadImages → ResizeImages → ConvertToGrayscale → ExtractPixels wherever
    /// that chain applies.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">The tensor column written.</param>
    /// <param name="inputColumnName">The column of image paths or bytes.</param>
    /// <param name="preprocessing">Size, colour mode and per-channel offsets and scales.</param>
    /// <param name="imageFolder">The folder relative paths are resolved against; null for the current directory.</param>
    /// <param name="errorColumnName">The error column written.</param>
    /// <param name="maxImagePixels">The largest image accepted (width × height), checked before decoding.</param>
    /// <param name="reducedScaleDecoding">Decode a JPEG at least twice the input size at reduced scale (see <see cref="ImageClassifierOptions.ReducedScaleDecoding"/>); false decodes as ML.NET's LoadImages.</param>
    /// <exception cref="ArgumentException">A name is empty, the two output names are equal, or the preprocessing or pixel limit is invalid.</exception>
    public static ImageTensorEstimator LoadImageTensor(this TransformsCatalog catalog, string outputColumnName, string inputColumnName,
        ImagePreprocessing preprocessing, string? imageFolder = null, string errorColumnName = DefaultErrorColumnName,
        long maxImagePixels = ImageClassifierOptions.DefaultMaxImagePixels, bool reducedScaleDecoding = true)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(preprocessing);
        CheckNames(outputColumnName, inputColumnName, errorColumnName);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxImagePixels, 1);
        return new ImageTensorEstimator(new ImageTensorTransformer.Settings(outputColumnName, inputColumnName, preprocessing.Validate(), imageFolder, errorColumnName, maxImagePixels, reducedScaleDecoding));
    }

    /// <summary>
    /// Scores images with an ONNX image classifier, <see cref="ImageClassifierOptions.BatchSize"/> rows per ONNX Runtime
    /// call: adds <paramref name="scoreColumnName"/> (class probabilities, slot names = labels),
    /// <paramref name="predictedLabelColumnName"/> (a key whose values are the labels) and
    /// <paramref name="errorColumnName"/>. The input column holds image paths or bytes (preprocessed as the model's
    /// metadata, shape and <paramref name="options"/> say) or model input tensors (<see cref="LoadImageTensor"/>'s output).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="modelPath">The ONNX file; loaded when the estimator is fitted.</param>
    /// <param name="inputColumnName">The column of image paths, image bytes or input tensors.</param>
    /// <param name="options">Preprocessing and label overrides, batch size, threads; defaults from the model.</param>
    /// <param name="imageFolder">The folder relative paths are resolved against; null for the current directory.</param>
    /// <param name="scoreColumnName">The probabilities column written.</param>
    /// <param name="predictedLabelColumnName">The predicted-label column written.</param>
    /// <param name="errorColumnName">The error column written (and, for tensor input, read when the input has it).</param>
    /// <exception cref="ArgumentException">A name is empty or two output names are equal.</exception>
    public static ImageClassifierEstimator ScoreImageClassifier(this TransformsCatalog catalog, string modelPath, string inputColumnName,
        ImageClassifierOptions? options = null, string? imageFolder = null, string scoreColumnName = DefaultScoreColumnName,
        string predictedLabelColumnName = DefaultPredictedLabelColumnName, string errorColumnName = DefaultErrorColumnName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        CheckNames(scoreColumnName, inputColumnName, errorColumnName, predictedLabelColumnName);
        options?.Validate();
        return new ImageClassifierEstimator(() => ClassifierModel.Load(modelPath, options), owns: true,
            new ImageClassifierTransformer.Columns(inputColumnName, scoreColumnName, predictedLabelColumnName, errorColumnName, imageFolder));
    }

    /// <summary>
    /// <see cref="ScoreImageClassifier(TransformsCatalog, string, string, ImageClassifierOptions?, string?, string, string, string)"/>
    /// with a classifier already loaded; the transformer uses it and does not dispose it.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="classifier">The loaded classifier, with its options.</param>
    /// <param name="inputColumnName">The column of image paths, image bytes or input tensors.</param>
    /// <param name="imageFolder">The folder relative paths are resolved against; null for the current directory.</param>
    /// <param name="scoreColumnName">The probabilities column written.</param>
    /// <param name="predictedLabelColumnName">The predicted-label column written.</param>
    /// <param name="errorColumnName">The error column written.</param>
    public static ImageClassifierEstimator ScoreImageClassifier(this TransformsCatalog catalog, ImageClassifier classifier, string inputColumnName,
        string? imageFolder = null, string scoreColumnName = DefaultScoreColumnName, string predictedLabelColumnName = DefaultPredictedLabelColumnName,
        string errorColumnName = DefaultErrorColumnName)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(classifier);
        CheckNames(scoreColumnName, inputColumnName, errorColumnName, predictedLabelColumnName);
        return new ImageClassifierEstimator(() => classifier.Model, owns: false,
            new ImageClassifierTransformer.Columns(inputColumnName, scoreColumnName, predictedLabelColumnName, errorColumnName, imageFolder));
    }

    /// <param name="output">The first output column.</param>
    /// <param name="input">The input column (may equal an output: the output then hides it).</param>
    /// <param name="outputs">The other output columns.</param>
    static void CheckNames(string output, string input, params string[] outputs)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(output);
        ArgumentException.ThrowIfNullOrWhiteSpace(input);
        foreach (string name in outputs) { ArgumentException.ThrowIfNullOrWhiteSpace(name); }
        var duplicate = outputs.Prepend(output).GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"The output column name '{duplicate.Key}' is given twice; each output column needs its own name.");
        }
    }
}
