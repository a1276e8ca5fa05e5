using System.Buffers;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transforms.Image;
using MlPipeline.Internals;

namespace MlPipeline.Scoring;

/// <summary>
/// An ONNX image classifier behind an ML.NET preprocessing pipeline (ResizeImages → ConvertToGrayscale for 1-channel
/// models → ExtractPixels with offset and scale) feeding ONNX Runtime in batches. Images are decoded strictly first, so
/// one bad file is reported and skipped instead of aborting the batch. Safe for concurrent callers; dispose it.
/// </summary>
public sealed class ImageClassifier : IDisposable
{
    const string BuiltInResource = "MlPipeline.mnist-cnn.onnx";
    readonly InferenceSession session;
    readonly ImagePreprocessor preprocessor;
    readonly ImageClassifierOptions options;
    readonly string outputName;
    readonly int imageSize;

    ImageClassifier(InferenceSession session, string source, ImageClassifierOptions options)
    {
        this.session = session;
        this.options = options;
        ModelSource = source;
        Metadata = ClassifierMetadata.FromProperties(session.ModelMetadata.CustomMetadataMap, source);
        (InputName, Channels, int? modelHeight, int? modelWidth) = ReadInput(session, source);
        (outputName, int? classes) = ReadOutput(session, source);
        Preprocessing = ResolvePreprocessing(options, Metadata, Channels, modelHeight, modelWidth, source);
        Labels = ResolveLabels(options, Metadata, classes, source);
        imageSize = Channels * Preprocessing.Height * Preprocessing.Width;
        preprocessor = new ImagePreprocessor(Preprocessing, InputName);
    }

    /// <summary>Where the model came from (a path, or "built-in mnist-cnn").</summary>
    public string ModelSource { get; }

    /// <summary>The model's own MlPipeline metadata, or null for a foreign model.</summary>
    public ClassifierMetadata? Metadata { get; }

    /// <summary>The preprocessing in force (metadata, model shape and options combined).</summary>
    public ImagePreprocessing Preprocessing { get; }

    /// <summary>Class labels, one per model output.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The options this classifier was loaded with (batch size, top-k, threads, limits and overrides).</summary>
    public ImageClassifierOptions Options => options;

    /// <summary>Name of the model's input tensor (also the ML.NET pixel column).</summary>
    public string InputName { get; }

    /// <summary>Input channels of the model.</summary>
    public int Channels { get; }

    /// <summary>Loads a classifier from an ONNX file and checks the whole schema before any image is read.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a usable image-classifier model; the message names the mismatch.</exception>
    public static ImageClassifier Load(string modelPath, ImageClassifierOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        if (!File.Exists(modelPath)) { throw new FileNotFoundException($"Model file '{modelPath}' does not exist.", modelPath); }
        return Create(() => new InferenceSession(modelPath, SessionOptions(options)), modelPath, options);
    }

    /// <summary>Loads the built-in MNIST digit classifier (<c>onnx/mnist-cnn.onnx</c>, 99.25 % test accuracy).</summary>
    public static ImageClassifier LoadBuiltInMnist(ImageClassifierOptions? options = null)
    {
        byte[] model = BuiltInMnistModel();
        return Create(() => new InferenceSession(model, SessionOptions(options)), "built-in mnist-cnn", options);
    }

    /// <summary>The bytes of the built-in model embedded in this assembly.</summary>
    internal static byte[] BuiltInMnistModel()
    {
        using var stream = typeof(ImageClassifier).Assembly.GetManifestResourceStream(BuiltInResource)
            ?? throw new InvalidOperationException($"The built-in model resource '{BuiltInResource}' is missing from the MlPipeline assembly.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    static ImageClassifier Create(Func<InferenceSession> open, string source, ImageClassifierOptions? options)
    {
        options = (options ?? new ImageClassifierOptions()).Validate();
        InferenceSession session;
        try
        {
            session = open();
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"Model '{source}' is not a valid ONNX model: {e.Message}", e);
        }
        try
        {
            return new ImageClassifier(session, source, options);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    static SessionOptions SessionOptions(ImageClassifierOptions? options)
    {
        var sessionOptions = new SessionOptions();
        // ONNX Runtime's pool spins after each call by default; between batches the cores belong to decoding and
        // ML.NET preprocessing, which the spinning threads would otherwise slow down.
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (options?.Threads is { } threads) { sessionOptions.IntraOpNumThreads = threads; }
        return sessionOptions;
    }

    /// <summary>Classifies one image file.</summary>
    /// <exception cref="InvalidDataException">The file is not a readable image; the message says why.</exception>
    public Prediction Predict(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Single(ImageDecoder.ReadFile(path), path);
    }

    /// <summary>Classifies one image from a stream.</summary>
    public Prediction Predict(Stream image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var memory = new MemoryStream();
        image.CopyTo(memory);
        return Single(memory.ToArray(), null);
    }

    /// <summary>Classifies one encoded image (PNG, JPEG, BMP, GIF or WebP bytes).</summary>
    public Prediction Predict(byte[] image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Single(image, null);
    }

    Prediction Single(byte[] bytes, string? path)
    {
        var result = ScoreBatch([(path ?? "<image>", () => bytes)]).Single();
        return result.Prediction is { } prediction
            ? prediction with { Path = path }
            : throw new InvalidDataException($"Image '{path ?? "<bytes>"}' cannot be scored: {result.Error}.");
    }

    /// <summary>
    /// Scores files in order, <see cref="ImageClassifierOptions.BatchSize"/> at a time, yielding each result as soon as
    /// its batch is done (nothing is collected). A file that cannot be read or decoded yields a result with the reason.
    /// </summary>
    /// <param name="root">Folder the result paths are made relative to.</param>
    /// <param name="files">Files to score.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public IEnumerable<ScoreResult> ScoreFiles(string root, IEnumerable<string> files, CancellationToken cancellationToken = default) =>
        ScoreFiles(root, files, options.IncludeProbabilities, cancellationToken);

    /// <summary><see cref="ScoreFiles(string, IEnumerable{string}, CancellationToken)"/>, choosing whether every class probability is kept.</summary>
    internal IEnumerable<ScoreResult> ScoreFiles(string root, IEnumerable<string> files, bool probabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(files);
        string fullRoot = Path.GetFullPath(root);
        // While ONNX Runtime runs one batch, the next is read, decoded and preprocessed on the thread pool.
        Task<PreparedBatch>? ahead = null;
        foreach (var chunk in files.Chunk(options.BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = chunk.Select(f => (ImageFolder.Relative(fullRoot, Path.GetFullPath(f)), (Func<byte[]>)(() => ImageDecoder.ReadFile(f)))).ToList();
            var prepared = Task.Run(() => Prepare(batch), cancellationToken);
            if (ahead is not null)
            {
                foreach (var result in Finish(ahead.GetAwaiter().GetResult(), probabilities)) { yield return result; }
            }
            ahead = prepared;
        }
        if (ahead is not null)
        {
            foreach (var result in Finish(ahead.GetAwaiter().GetResult(), probabilities)) { yield return result; }
        }
    }

    /// <summary>
    /// Scores an in-memory batch of encoded images, <see cref="ImageClassifierOptions.BatchSize"/> per model call, and
    /// returns one result per image in the same order; each result's path is the name given with the image. An image
    /// that does not decode gets a result with the reason instead of a prediction.
    /// </summary>
    public IReadOnlyList<ScoreResult> ScoreImages(IEnumerable<(string Name, byte[] Image)> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var results = new List<ScoreResult>();
        foreach (var chunk in images.Chunk(options.BatchSize))
        {
            foreach (var (name, image) in chunk) { ArgumentNullException.ThrowIfNull(image, name); }
            results.AddRange(ScoreBatch([.. chunk.Select(c => (c.Name, (Func<byte[]>)(() => c.Image)))]));
        }
        return results;
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
        float[] pixels = new float[imageSize];
        preprocessor.Fill(image, options.MaxImagePixels, pixels);
        return pixels;
    }

    IEnumerable<ScoreResult> ScoreBatch(IReadOnlyList<(string Path, Func<byte[]> Read)> batch) => Finish(Prepare(batch), options.IncludeProbabilities);

    /// <summary>A batch read, decoded and preprocessed: the model input for the files that decoded, and why the others did not.</summary>
    sealed record PreparedBatch(IReadOnlyList<string> Paths, string?[] Errors, IReadOnlyList<int> Slots, float[] Pixels);

    PreparedBatch Prepare(IReadOnlyList<(string Path, Func<byte[]> Read)> batch)
    {
        var errors = new string?[batch.Count];
        // A batch of pixels is over the large-object threshold; renting it keeps the heap flat over long folders.
        float[] pixels = ArrayPool<float>.Shared.Rent(batch.Count * imageSize);
        try
        {
            // Reading, decoding and preprocessing are independent per file: spread them over the cores, each image
            // into its own slot.
            Parallel.For(0, batch.Count, Parallelism, i =>
            {
                try
                {
                    preprocessor.Fill(batch[i].Read(), options.MaxImagePixels, pixels.AsSpan(i * imageSize, imageSize));
                }
                catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
                {
                    errors[i] = e.Message;
                }
            });
            var slots = Enumerable.Range(0, batch.Count).Where(i => errors[i] is null).ToList();
            // The images that decoded move up to form one contiguous model input.
            for (int k = 0; k < slots.Count; k++)
            {
                if (slots[k] != k) { Array.Copy(pixels, slots[k] * imageSize, pixels, k * imageSize, imageSize); }
            }
            return new PreparedBatch([.. batch.Select(b => b.Path)], errors, slots, pixels);
        }
        catch
        {
            ArrayPool<float>.Shared.Return(pixels);
            throw;
        }
    }

    ScoreResult[] Finish(PreparedBatch batch, bool probabilities)
    {
        List<Prediction> predictions = [];
        try
        {
            if (batch.Slots.Count > 0) { predictions = Run(batch.Pixels, batch.Slots.Count, probabilities); }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(batch.Pixels);
        }
        var results = new ScoreResult[batch.Paths.Count];
        for (int i = 0; i < results.Length; i++) { results[i] = new ScoreResult(batch.Paths[i], null, batch.Errors[i]); }
        for (int k = 0; k < batch.Slots.Count; k++)
        {
            int slot = batch.Slots[k];
            results[slot] = new ScoreResult(batch.Paths[slot], predictions[k] with { Path = batch.Paths[slot] }, null);
        }
        return results;
    }

    ParallelOptions Parallelism => new() { MaxDegreeOfParallelism = options.Threads ?? Environment.ProcessorCount };


    List<Prediction> Run(float[] pixels, int count, bool probabilities)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, count * imageSize), [count, Channels, Preprocessing.Height, Preprocessing.Width]);
        using var runOptions = new RunOptions();
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = session.Run(runOptions, [InputName], [input], [outputName]);
        }
        catch (OnnxRuntimeException e)
        {
            // A model can pass every schema check and still reject the data at run time (for example a symbolic
            // height and width that its layers do not accept at the configured size).
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"Model '{ModelSource}' failed on a batch of {count} image(s) of {Channels}x{Preprocessing.Height}x{Preprocessing.Width}: {e.Message.Trim()}. Check the input size and colour mode it expects (--size, --color)."), e);
        }
        using (outputs)
        {
            var values = outputs[0].GetTensorDataAsSpan<float>();
            int classes = Labels.Count;
            if (values.Length != count * classes)
            {
                throw new InvalidDataException($"Model '{ModelSource}' output '{outputName}' gave {values.Length / Math.Max(count, 1)} values per image; expected {classes} (one per label).");
            }
            int bad = IndexOfNonFinite(values);
            if (bad >= 0)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"Model '{ModelSource}' output '{outputName}' is {values[bad]} for image {(bad / classes) + 1} of a batch of {count}: the model produced non-finite scores. With preprocessing {Preprocessing.DescribeNormalization()} its inputs range from {Preprocessing.InputRange().Min} to {Preprocessing.InputRange().Max}; check --offset/--scale or --mean/--std."));
            }
            var predictions = new List<Prediction>(count);
            for (int row = 0; row < count; row++)
            {
                predictions.Add(ToPrediction(values.Slice(row * classes, classes), probabilities));
            }
            return predictions;
        }
    }

    static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) { return i; }
        }
        return -1;
    }

    Prediction ToPrediction(ReadOnlySpan<float> scores, bool includeAll)
    {
        float[] probabilities = LooksLikeProbabilities(scores) ? scores.ToArray() : Softmax(scores);
        var order = Enumerable.Range(0, probabilities.Length).OrderByDescending(i => probabilities[i]).ThenBy(i => i).ToList();
        var top = order.Take(options.TopK).Select(i => new ClassProbability(Labels[i], probabilities[i])).ToList();
        return new Prediction(null, top[0].Label, top[0].Probability, top, includeAll ? probabilities : null);
    }

    bool LooksLikeProbabilities(ReadOnlySpan<float> scores)
    {
        if (outputName == "probabilities") { return true; }
        double sum = 0;
        foreach (float s in scores)
        {
            if (s is < 0 or > 1) { return false; }
            sum += s;
        }
        return Math.Abs(sum - 1) < 1e-3;
    }

    static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits) { max = Math.Max(max, l); }
        var result = new float[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) { result[i] = MathF.Exp(logits[i] - max); sum += result[i]; }
        for (int i = 0; i < result.Length; i++) { result[i] = (float)(result[i] / sum); }
        return result;
    }

    /// <summary>
    /// The stock ML.NET pipeline for the same model: LoadImages → ResizeImages → ConvertToGrayscale → ExtractPixels →
    /// ApplyOnnxModel (one row per model call). The reference for equality tests and the benchmark; it aborts on a bad file.
    /// </summary>
    internal (MLContext Context, IEstimator<ITransformer> Pipeline, string Output) StockPipeline(string imageFolder, string modelPath)
    {
        if (!Preprocessing.IsUniform)
        {
            throw new NotSupportedException($"ML.NET's stock ExtractPixels has one offset and scale for all channels; this model's are per channel ({Preprocessing.DescribeNormalization()}).");
        }
        var ml = new MLContext(seed: 0);
        var chain = ml.Transforms.LoadImages(ImagePreprocessor.ImageColumn, imageFolder, "path")
            .Append(ImagePreprocessor.Chain(ml, Preprocessing, InputName))
            .Append(ml.Transforms.ApplyOnnxModel([outputName], [InputName], modelPath));
        return (ml, chain, outputName);
    }

    /// <summary>The preprocessed pixel vectors of decoded images, stacked [N, C, H, W] (for the benchmark's stage timings).</summary>
    internal float[] Pixels(IReadOnlyList<SkiaSharp.SKBitmap> images)
    {
        float[] pixels = new float[images.Count * imageSize];
        Parallel.For(0, images.Count, Parallelism, i => preprocessor.Fill(images[i], pixels.AsSpan(i * imageSize, imageSize)));
        return pixels;
    }

    /// <summary>The stock ML.NET chain's pixel vectors for decoded images (the reference the fused path is tested against).</summary>
    internal float[] StockPixels(IReadOnlyList<MLImage> images) => preprocessor.StockPixels(images);

    static (string Name, int Channels, int? Height, int? Width) ReadInput(InferenceSession session, string source)
    {
        if (session.InputMetadata.Count != 1)
        {
            throw new InvalidDataException($"Model '{source}' has {session.InputMetadata.Count} inputs ({string.Join(", ", session.InputMetadata.Keys)}); expected one image input.");
        }
        var (name, meta) = session.InputMetadata.First();
        if (meta.ElementDataType != TensorElementType.Float)
        {
            throw new InvalidDataException($"Model '{source}' input '{name}' is {meta.ElementDataType}; expected float32.");
        }
        int[] dims = meta.Dimensions;
        if (dims.Length != 4)
        {
            throw new InvalidDataException($"Model '{source}' input '{name}' has shape [{string.Join(", ", dims)}]; expected rank 4 [batch, channels, height, width].");
        }
        if (dims[1] is not (1 or 3))
        {
            throw new InvalidDataException($"Model '{source}' input '{name}' has {dims[1]} channels; expected 1 (gray) or 3 (RGB/BGR) in NCHW layout.");
        }
        return (name, dims[1], dims[2] > 0 ? dims[2] : null, dims[3] > 0 ? dims[3] : null);
    }

    static (string Name, int? Classes) ReadOutput(InferenceSession session, string source)
    {
        var outputs = session.OutputMetadata;
        var (name, meta) = outputs.ContainsKey("probabilities") ? outputs.First(o => o.Key == "probabilities") : outputs.First();
        if (meta.ElementDataType != TensorElementType.Float)
        {
            throw new InvalidDataException($"Model '{source}' output '{name}' is {meta.ElementDataType}; expected float32 class scores.");
        }
        int[] dims = meta.Dimensions;
        if (dims.Length != 2)
        {
            throw new InvalidDataException($"Model '{source}' output '{name}' has shape [{string.Join(", ", dims)}]; expected [batch, classes].");
        }
        return (name, dims[1] > 0 ? dims[1] : null);
    }

    static ImagePreprocessing ResolvePreprocessing(ImageClassifierOptions o, ClassifierMetadata? metadata, int channels, int? modelHeight, int? modelWidth, string source)
    {
        var baseline = metadata?.Preprocessing;
        int width = o.Width ?? baseline?.Width ?? modelWidth
            ?? throw new InvalidDataException($"Model '{source}' has a symbolic input width and no metadata; give the size (--size WxH).");
        int height = o.Height ?? baseline?.Height ?? modelHeight
            ?? throw new InvalidDataException($"Model '{source}' has a symbolic input height and no metadata; give the size (--size WxH).");
        var color = o.ColorMode ?? baseline?.ColorMode ?? (channels == 1 ? ColorMode.Gray : ColorMode.Rgb);
        int colorChannels = color == ColorMode.Gray ? 1 : 3;
        foreach (var (name, values) in new[] { ("offsets", o.Offsets), ("scales", o.Scales), ("means", o.Means), ("standard deviations", o.Stds) })
        {
            if (values is not null && values.Count != 1 && values.Count != colorChannels)
            {
                throw new ArgumentException($"Model '{source}' is scored as {color.ToString().ToLowerInvariant()} ({colorChannels} channel{(colorChannels == 1 ? "" : "s")}) but {values.Count} {name} ({ImagePreprocessing.Join(values)}) were given; expected one value{(colorChannels == 1 ? "" : $" or {colorChannels}")}.");
            }
        }
        // Metadata offsets and scales belong to the metadata's colour mode; they carry over only while it stands.
        bool sameChannels = baseline is not null && baseline.Channels == colorChannels;
        IReadOnlyList<float> offsets = o.Offsets ?? (sameChannels ? baseline!.Offsets : null) ?? [0f];
        IReadOnlyList<float> scales = o.Scales ?? (sameChannels ? baseline!.Scales : null) ?? [1f / 255f];
        ImagePreprocessing p;
        try
        {
            p = (o.Means is { } means && o.Stds is { } stds
                ? ImagePreprocessing.Standardized(width, height, color, means, stds)
                : new ImagePreprocessing(width, height, color, offsets, scales)).Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Model '{source}': {e.Message}", e);
        }
        if (p.Channels != channels)
        {
            throw new InvalidDataException($"Model '{source}' takes {channels} channel(s) but colour mode {p.ColorMode.ToString().ToLowerInvariant()} gives {p.Channels}; use --color {(channels == 1 ? "gray" : "rgb or bgr")}.");
        }
        if ((modelWidth is { } mw && mw != p.Width) || (modelHeight is { } mh && mh != p.Height))
        {
            throw new InvalidDataException($"Model '{source}' takes {modelWidth}x{modelHeight} images but the preprocessing size is {p.Width}x{p.Height}.");
        }
        return p;
    }

    static IReadOnlyList<string> ResolveLabels(ImageClassifierOptions o, ClassifierMetadata? metadata, int? classes, string source)
    {
        var labels = o.Labels ?? metadata?.Labels;
        if (labels is null)
        {
            return classes is { } k
                ? [.. Enumerable.Range(0, k).Select(i => i.ToString(CultureInfo.InvariantCulture))]
                : throw new InvalidDataException($"Model '{source}' has a symbolic number of classes and no metadata; give the labels (--labels FILE).");
        }
        if (classes is { } count && count != labels.Count)
        {
            throw new InvalidDataException($"Model '{source}' outputs {count} classes but {labels.Count} labels were given; expected one label per output.");
        }
        return labels;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => session.Dispose();

}
