using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MlPipeline.Internals;

namespace MlPipeline.Scoring;

/// <summary>
/// An ONNX image classifier, ready to score files, folders and in-memory images: a convenience over the ML.NET
/// transform <see cref="MlPipelineCatalog.ScoreImageClassifier(TransformsCatalog, string, string, ImageClassifierOptions?, string?, string, string, string)"/>
/// (images decoded strictly and preprocessed in parallel, many rows per ONNX Runtime call, one bad file reported and
/// skipped). Safe for concurrent callers; dispose it.
/// </summary>
public sealed class ImageClassifier : IDisposable
{
    readonly ClassifierModel model;
    readonly ImageClassifierTransformer byPath;
    readonly ImageClassifierTransformer byBytes;
    readonly MLContext ml = new(seed: 0);

    ImageClassifier(ClassifierModel model)
    {
        this.model = model;
        byPath = new ImageClassifierTransformer(model, owns: false, Columns(nameof(PathRow.Path)), ml.Data.LoadFromEnumerable(Array.Empty<PathRow>()).Schema);
        byBytes = new ImageClassifierTransformer(model, owns: false, Columns(nameof(BytesRow.Bytes)), ml.Data.LoadFromEnumerable(Array.Empty<BytesRow>()).Schema);
    }

    static ImageClassifierTransformer.Columns Columns(string input) => new(input, MlPipelineCatalog.DefaultScoreColumnName, MlPipelineCatalog.DefaultPredictedLabelColumnName, MlPipelineCatalog.DefaultErrorColumnName, null);

    /// <summary>Where the model came from (a path, or "built-in mnist-cnn").</summary>
    public string ModelSource => model.Source;

    /// <summary>The model file's SHA-256 (<c>sha256:</c> and 64 hex digits), read when it was loaded: it identifies the model whatever its path, so that a replaced file is told apart.</summary>
    public string ModelSha256 => model.Sha256;

    /// <summary>The model's own MlPipeline metadata, or null for a foreign model.</summary>
    public ClassifierMetadata? Metadata => model.Metadata;

    /// <summary>The preprocessing in force (metadata, model shape and options combined).</summary>
    public ImagePreprocessing Preprocessing => model.Preprocessing;

    /// <summary>Class labels, one per model output.</summary>
    public IReadOnlyList<string> Labels => model.Labels;

    /// <summary>The options this classifier was loaded with (batch size, top-k, threads, limits and overrides).</summary>
    public ImageClassifierOptions Options => model.Options;

    /// <summary>Name of the model's input tensor.</summary>
    public string InputName => model.InputName;

    /// <summary>Input channels of the model.</summary>
    public int Channels => model.Channels;

    internal ClassifierModel Model => model;

    /// <summary>Loads a classifier from an ONNX file and checks the whole schema before any image is read.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a usable image-classifier model; the message names the mismatch.</exception>
    public static ImageClassifier Load(string modelPath, ImageClassifierOptions? options = null) =>
        Wrap(ClassifierModel.Load(modelPath, options));

    /// <summary>Loads the built-in MNIST digit classifier (<c>onnx/mnist-cnn.onnx</c>, 99.25 % test accuracy).</summary>
    public static ImageClassifier LoadBuiltInMnist(ImageClassifierOptions? options = null) =>
        Wrap(ClassifierModel.LoadBuiltInMnist(options));

    /// <summary>The bytes of the built-in model embedded in this assembly.</summary>
    internal static byte[] BuiltInMnistModel() => ClassifierModel.BuiltInMnistModel();

    static ImageClassifier Wrap(ClassifierModel model)
    {
        try
        {
            return new ImageClassifier(model);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Classifies one image file.</summary>
    /// <exception cref="InvalidDataException">The file is not a readable image; the message says why.</exception>
    public Prediction Predict(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var result = ScoreFiles(Path.GetDirectoryName(Path.GetFullPath(path))!, [path], model.Options.IncludeProbabilities, default).Single();
        return result.Prediction is { } prediction
            ? prediction with { Path = path }
            : throw new InvalidDataException($"Image '{path}' cannot be scored: {result.Error}.");
    }

    /// <summary>Classifies one image from a stream.</summary>
    public Prediction Predict(Stream image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var memory = new MemoryStream();
        image.CopyTo(memory);
        return Predict(memory.ToArray());
    }

    /// <summary>Classifies one encoded image (PNG, JPEG, BMP, GIF or WebP bytes).</summary>
    public Prediction Predict(byte[] image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = ScoreImages([("<bytes>", image)]).Single();
        return result.Prediction is { } prediction
            ? prediction with { Path = null }
            : throw new InvalidDataException($"Image '<bytes>' cannot be scored: {result.Error}.");
    }

    /// <summary>
    /// Scores files in order, <see cref="ImageClassifierOptions.BatchSize"/> at a time, yielding each result as soon as
    /// its batch is done (nothing is collected). A file that cannot be read or decoded yields a result with the reason.
    /// </summary>
    /// <param name="root">Folder the result paths are made relative to.</param>
    /// <param name="files">Files to score.</param>
    /// <param name="cancellationToken">Stops between images.</param>
    public IEnumerable<ScoreResult> ScoreFiles(string root, IEnumerable<string> files, CancellationToken cancellationToken = default) =>
        ScoreFiles(root, files, model.Options.IncludeProbabilities, cancellationToken);

    /// <summary><see cref="ScoreFiles(string, IEnumerable{string}, CancellationToken)"/>, choosing whether every class probability is kept.</summary>
    internal IEnumerable<ScoreResult> ScoreFiles(string root, IEnumerable<string> files, bool probabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(files);
        string fullRoot = Path.GetFullPath(root);
        // The transform's lead cursor enumerates the files a batch or two ahead of the results; the names wait here.
        var names = new Queue<string>();
        var rows = files.Select(f =>
        {
            string full = Path.GetFullPath(f);
            names.Enqueue(ImageFolder.Relative(fullRoot, full));
            return new PathRow { Path = full };
        });
        return Results(byPath, ml.Data.LoadFromEnumerable(rows), names, probabilities, cancellationToken);
    }

    /// <summary>
    /// Scores an in-memory batch of encoded images, <see cref="ImageClassifierOptions.BatchSize"/> per model call, and
    /// returns one result per image in the same order; each result's path is the name given with the image. An image
    /// that does not decode gets a result with the reason instead of a prediction.
    /// </summary>
    public IReadOnlyList<ScoreResult> ScoreImages(IEnumerable<(string Name, byte[] Image)> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var names = new Queue<string>();
        var rows = images.Select(i =>
        {
            ArgumentNullException.ThrowIfNull(i.Image, i.Name);
            names.Enqueue(i.Name);
            return new BytesRow { Bytes = i.Image };
        });
        return [.. Results(byBytes, ml.Data.LoadFromEnumerable(rows), names, model.Options.IncludeProbabilities, default)];
    }

    IEnumerable<ScoreResult> Results(ImageClassifierTransformer transformer, IDataView rows, Queue<string> names, bool probabilities, CancellationToken cancellationToken)
    {
        var scored = transformer.Transform(rows);
        var score = scored.Schema[MlPipelineCatalog.DefaultScoreColumnName];
        var error = scored.Schema[MlPipelineCatalog.DefaultErrorColumnName];
        using var cursor = scored.GetRowCursor([score, error]);
        var getScore = cursor.GetGetter<VBuffer<float>>(score);
        var getError = cursor.GetGetter<ReadOnlyMemory<char>>(error);
        VBuffer<float> values = default;
        ReadOnlyMemory<char> reason = default;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!cursor.MoveNext()) { yield break; }
            string name = names.Dequeue();
            getError(ref reason);
            if (!reason.IsEmpty)
            {
                yield return new ScoreResult(name, null, reason.ToString());
                continue;
            }
            getScore(ref values);
            yield return new ScoreResult(name, ToPrediction(name, values.GetValues().ToArray(), probabilities), null);
        }
    }

    Prediction ToPrediction(string path, float[] probabilities, bool includeAll)
    {
        // The k most probable by selection (k is small): the highest first, the lower index first on ties.
        int k = Math.Min(model.Options.TopK, probabilities.Length);
        var top = new List<ClassProbability>(k);
        Span<bool> taken = probabilities.Length <= 1024 ? stackalloc bool[probabilities.Length] : new bool[probabilities.Length];
        for (int n = 0; n < k; n++)
        {
            int best = -1;
            for (int i = 0; i < probabilities.Length; i++)
            {
                if (!taken[i] && (best < 0 || probabilities[i] > probabilities[best])) { best = i; }
            }
            taken[best] = true;
            top.Add(new ClassProbability(Labels[best], probabilities[best]));
        }
        return new Prediction(path, top[0].Label, top[0].Probability, top, includeAll ? probabilities : null);
    }

    sealed class PathRow
    {
        public string Path { get; set; } = "";
    }

    sealed class BytesRow
    {
        public byte[] Bytes { get; set; } = [];
    }

    /// <summary>Scores every image in a folder (see <see cref="ListFolder"/>), streaming the results in a deterministic order.</summary>
    public IEnumerable<ScoreResult> ScoreFolder(string folder, bool recursive = false, CancellationToken cancellationToken = default) =>
        ScoreFiles(folder, ListFolder(folder, recursive).Images, cancellationToken);

    /// <summary>
    /// The regular image files of a folder (png, jpg, jpeg, bmp, gif, webp; case-insensitive) sorted by relative path,
    /// and what was skipped: other files, special files (FIFOs, devices) and symbolic-link loops. With
    /// <paramref name="recursive"/> subfolders are included; a link to a folder is followed once, a loop is cut.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="IOException">The path is not a folder.</exception>
    public static FolderListing ListFolder(string folder, bool recursive = false) =>
        ImageFolder.List(folder, recursive);

    /// <summary>The exact tensor the pipeline feeds the model for one encoded image: [C, H, W] floats.</summary>
    public float[] Preprocess(byte[] image)
    {
        ArgumentNullException.ThrowIfNull(image);
        float[] pixels = new float[model.ImageSize];
        model.Preprocessor.Fill(image, model.Options.MaxImagePixels, pixels, model.Decode.ReducedScale, model.Decode.Budget);
        return pixels;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => model.Dispose();

}
