using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

using MlPipeline.Internals;

namespace MlPipeline.Scoring;

/// <summary>
/// An ONNX image classifier as MlPipeline reads it: the session, its one image input and its class-score output, checked
/// before any image is read, the preprocessing and labels resolved from metadata, shape and options, and one batched
/// <see cref="Run"/> that turns pixel tensors into class probabilities. Owns the session.
/// </summary>
internal sealed class ClassifierModel : IDisposable
{
    const string BuiltInResource = "MlPipeline.mnist-cnn.onnx";

    /// <summary>The output read when a model has it, and taken to hold probabilities when its metadata does not say.</summary>
    const string ProbabilitiesOutput = "probabilities";
    readonly InferenceSession session;
    readonly string outputName;

    ClassifierModel(InferenceSession session, string source, ImageClassifierOptions options, byte[]? bytes, string? path, string sha256)
    {
        this.session = session;
        Source = source;
        Sha256 = sha256;
        Options = options;
        ModelBytes = bytes;
        ModelPath = path;
        Metadata = ClassifierMetadata.FromProperties(session.ModelMetadata.CustomMetadataMap, source);
        (InputName, Channels, int? modelHeight, int? modelWidth, var layout) = ReadInput(session, source, options.Layout ?? Metadata?.Preprocessing.Layout);
        (outputName, int? classes) = ReadOutput(session, source);
        // The guess from the name is for foreign models and files written before the metadata said.
        OutputIsProbabilities = Metadata?.Output is { } kind ? kind == OutputKind.Probabilities : outputName == ProbabilitiesOutput;
        Preprocessing = ResolvePreprocessing(options, Metadata, Channels, modelHeight, modelWidth, source) with { Layout = layout };
        Labels = ResolveLabels(options, Metadata, classes, source);
        ImageSize = Channels * Preprocessing.Height * Preprocessing.Width;
        Preprocessor = new ImagePreprocessor(Preprocessing);
        Decode = new DecodeSettings(options.MaxImagePixels, options.ReducedScaleDecoding, new PixelBudget(options.DecodedPixelBudget), options.Threads);
    }

    /// <summary>How images are decoded for this model (limits, reduced scale, the budget of pixels in flight).</summary>
    public DecodeSettings Decode { get; }

    /// <summary>Where the model came from (a path, or "built-in mnist-cnn").</summary>
    public string Source { get; }

    /// <summary>The model file's SHA-256 (<c>sha256:</c> and 64 lowercase hex digits), read when it was loaded: what identifies the model, whatever its path.</summary>
    public string Sha256 { get; }

    /// <summary>The options the model was loaded with.</summary>
    public ImageClassifierOptions Options { get; }

    /// <summary>The model file's bytes when it was loaded from memory (the built-in model); null for a file.</summary>
    public byte[]? ModelBytes { get; }

    /// <summary>The model file when it was loaded from one; null for bytes.</summary>
    public string? ModelPath { get; }

    /// <summary>The model's own MlPipeline metadata, or null for a foreign model.</summary>
    public ClassifierMetadata? Metadata { get; }

    /// <summary>The preprocessing in force (metadata, model shape and options combined).</summary>
    public ImagePreprocessing Preprocessing { get; }

    /// <summary>Turns encoded images into this model's input.</summary>
    public ImagePreprocessor Preprocessor { get; }

    /// <summary>Class labels, one per model output.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Name of the model's input tensor.</summary>
    public string InputName { get; }

    /// <summary>Name of the output read as class scores: <c>probabilities</c> when the model has it, else its first output.</summary>
    public string OutputName => outputName;

    /// <summary>
    /// Whether <see cref="OutputName"/> holds probabilities already (no softmax applied): what the metadata's
    /// <see cref="OnnxMetadataKeys.Output"/> says, else whether the output is named <c>probabilities</c>.
    /// </summary>
    public bool OutputIsProbabilities { get; }

    /// <summary>Input channels of the model.</summary>
    public int Channels { get; }

    /// <summary>Values in one image's input tensor (C × H × W).</summary>
    public int ImageSize { get; }

    /// <summary>Loads a model file and checks its schema.</summary>
    public static ClassifierModel Load(string modelPath, ImageClassifierOptions? options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        if (!File.Exists(modelPath)) { throw new FileNotFoundException($"Model file '{modelPath}' does not exist.", modelPath); }
        string sha256;
        using (var stream = FileSystem.OpenRead(modelPath, "Model file"))
        {
            sha256 = HashText(System.Security.Cryptography.SHA256.HashData(stream));
        }
        return Create(o => new InferenceSession(modelPath, o), modelPath, options, null, Path.GetFullPath(modelPath), sha256);
    }

    /// <summary>Loads the built-in MNIST digit classifier.</summary>
    public static ClassifierModel LoadBuiltInMnist(ImageClassifierOptions? options)
    {
        byte[] model = BuiltInMnistModel();
        return Create(o => new InferenceSession(model, o), "built-in mnist-cnn", options, model, null, HashText(System.Security.Cryptography.SHA256.HashData(model)));
    }

    static string HashText(byte[] digest) => "sha256:" + Convert.ToHexStringLower(digest);

    /// <summary>The bytes of the built-in model embedded in this assembly.</summary>
    public static byte[] BuiltInMnistModel()
    {
        using var stream = typeof(ClassifierModel).Assembly.GetManifestResourceStream(BuiltInResource)
            ?? throw new InvalidOperationException($"The built-in model resource '{BuiltInResource}' is missing from the MlPipeline assembly.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    static ClassifierModel Create(Func<SessionOptions, InferenceSession> open, string source, ImageClassifierOptions? options, byte[]? bytes, string? path, string sha256)
    {
        options = (options ?? new ImageClassifierOptions()).Validate();
        InferenceSession session;
        using (var sessionOptions = SessionOptions(options))
        {
            try
            {
                session = open(sessionOptions);
            }
            catch (OnnxRuntimeException e)
            {
                throw new InvalidDataException($"Model '{source}' is not a valid ONNX model: {e.Message}", e);
            }
        }
        try
        {
            return new ClassifierModel(session, source, options, bytes, path, sha256);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    static SessionOptions SessionOptions(ImageClassifierOptions options)
    {
        var sessionOptions = new SessionOptions();
        // ONNX Runtime's pool spins after each call by default; between batches the cores belong to decoding and
        // preprocessing, which the spinning threads would otherwise slow down.
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (options.Threads is { } threads) { sessionOptions.IntraOpNumThreads = threads; }
        return sessionOptions;
    }

    /// <summary>
    /// The one rule for a model output that is NaN or infinite, in the live transform and in its saved chain alike: an
    /// error, never a row of scores. It is the model or the preprocessing that is wrong (pixels scaled out of the
    /// range the model was trained on, or a broken model), not the image, so nothing it scores can be trusted.
    /// </summary>
    internal static InvalidDataException NonFiniteScores(string source, string outputName, float value, string where, string inputs) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Model '{source}' output '{outputName}' is {value} for {where}: the model produced non-finite scores. {inputs}; check ImageClassifierOptions.Offsets/Scales or Means/Stds."));

    /// <summary>The scores of an image are not one per label: the wrong model for these labels.</summary>
    internal static InvalidDataException WrongScoreCount(string source, string outputName, int values, int classes) =>
        new($"Model '{source}' output '{outputName}' gave {values} values per image; expected {classes} (one per label).");

    /// <summary>What the model's inputs range over, for <see cref="NonFiniteScores"/>.</summary>
    internal static string DescribeInputs(ImagePreprocessing p) =>
        string.Create(CultureInfo.InvariantCulture, $"With preprocessing {p.DescribeNormalization()} its inputs range from {p.InputRange().Min} to {p.InputRange().Max}");

    /// <summary>
    /// Runs the model on <paramref name="count"/> input tensors stacked at the start of <paramref name="pixels"/> and
    /// writes each image's class probabilities (softmax of the scores unless the output already holds probabilities)
    /// to <paramref name="probabilities"/>, <see cref="Labels"/>.Count values per image.
    /// </summary>
    /// <exception cref="InvalidDataException">The model rejects the batch or gives non-finite or wrongly sized scores.</exception>
    public void Run(float[] pixels, int count, Span<float> probabilities)
    {
        var p = Preprocessing;
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, count * ImageSize), p.Layout == TensorLayout.Nhwc ? [count, p.Height, p.Width, Channels] : [count, Channels, p.Height, p.Width]);
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
                $"Model '{Source}' failed on a batch of {count} image(s) of {Channels}x{p.Height}x{p.Width}: {e.Message.Trim()}. Check the input size and colour mode it expects (ImageClassifierOptions.Width/Height, ColorMode)."), e);
        }
        using (outputs)
        {
            var values = outputs[0].GetTensorDataAsSpan<float>();
            int classes = Labels.Count;
            if (values.Length != count * classes)
            {
                throw WrongScoreCount(Source, outputName, values.Length / Math.Max(count, 1), classes);
            }
            int bad = ScoreMath.IndexOfNonFinite(values);
            if (bad >= 0)
            {
                throw NonFiniteScores(Source, outputName, values[bad], string.Create(CultureInfo.InvariantCulture, $"image {(bad / classes) + 1} of a batch of {count}"), DescribeInputs(p));
            }
            for (int row = 0; row < count; row++)
            {
                var scores = values.Slice(row * classes, classes);
                var destination = probabilities.Slice(row * classes, classes);
                ScoreMath.ToProbabilities(scores, OutputIsProbabilities, destination);
            }
        }
    }

    /// <summary>
    /// The one float input of rank 4 and its layout: the given one, else NCHW when dimension 1 is 1 or 3 channels, else
    /// NHWC when the last is (a Keras or TensorFlow export).
    /// </summary>
    static (string Name, int Channels, int? Height, int? Width, TensorLayout Layout) ReadInput(InferenceSession session, string source, TensorLayout? given)
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
            throw new InvalidDataException($"Model '{source}' input '{name}' has shape [{string.Join(", ", dims)}]; expected rank 4 [batch, channels, height, width] or [batch, height, width, channels].");
        }
        var layout = given ?? (dims[1] is 1 or 3 ? TensorLayout.Nchw : dims[3] is 1 or 3 ? TensorLayout.Nhwc : TensorLayout.Nchw);
        var (channels, height, width) = layout == TensorLayout.Nhwc ? (dims[3], dims[1], dims[2]) : (dims[1], dims[2], dims[3]);
        if (channels is not (1 or 3))
        {
            throw new InvalidDataException($"Model '{source}' input '{name}' has shape [{string.Join(", ", dims)}]: {(channels > 0 ? channels.ToString(CultureInfo.InvariantCulture) : "a symbolic number of")} channels in {layout.ToString().ToUpperInvariant()} layout; expected 1 (gray) or 3 (RGB/BGR){(given is null ? " as dimension 1 (NCHW) or the last (NHWC)" : "; check ImageClassifierOptions.Layout")}.");
        }
        return (name, channels, height > 0 ? height : null, width > 0 ? width : null, layout);
    }

    static (string Name, int? Classes) ReadOutput(InferenceSession session, string source)
    {
        var outputs = session.OutputMetadata;
        var (name, meta) = outputs.ContainsKey(ProbabilitiesOutput) ? outputs.First(o => o.Key == ProbabilitiesOutput) : outputs.First();
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
            ?? throw new InvalidDataException($"Model '{source}' has a symbolic input width and no metadata; give the size (ImageClassifierOptions.Width and Height).");
        int height = o.Height ?? baseline?.Height ?? modelHeight
            ?? throw new InvalidDataException($"Model '{source}' has a symbolic input height and no metadata; give the size (ImageClassifierOptions.Width and Height).");
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
                : new ImagePreprocessing(width, height, color, offsets, scales)) with
            {
                Resize = o.Resize ?? baseline?.Resize ?? ResizeMode.Stretch,
                ResizeShorter = o.ResizeShorter ?? baseline?.ResizeShorter,
                Background = o.Background ?? baseline?.Background,
                IgnoreExifOrientation = o.IgnoreExifOrientation ?? baseline?.IgnoreExifOrientation ?? false,
            };
            p.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Model '{source}': {e.Message}", e);
        }
        if (p.Channels != channels)
        {
            throw new InvalidDataException($"Model '{source}' takes {channels} channel(s) but colour mode {p.ColorMode.ToString().ToLowerInvariant()} gives {p.Channels}; use ImageClassifierOptions.ColorMode = {(channels == 1 ? "ColorMode.Gray" : "ColorMode.Rgb or ColorMode.Bgr")}.");
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
                : throw new InvalidDataException($"Model '{source}' has a symbolic number of classes and no metadata; give the labels (ImageClassifierOptions.Labels).");
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
