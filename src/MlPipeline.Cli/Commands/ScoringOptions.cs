using System.CommandLine;
using System.Globalization;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Cli.Commands;

/// <summary>The model and preprocessing options shared by <c>score</c> and <c>evaluate</c>.</summary>
internal sealed class ScoringOptions
{
    public Option<string?> Model { get; } = new("--model") { Description = "ONNX model [default: the built-in MNIST model]" };
    public Option<string?> Size { get; } = new("--size") { Description = "Input size WxH (overrides the model's)" };
    public Option<ColorMode?> Color { get; } = CliOptions.OptionalChoice<ColorMode>("--color", "Colour mode: gray, rgb, bgr (overrides the model's)");
    public Option<float[]?> Offset { get; } = CliOptions.OptionalChannelValues("--offset", "ExtractPixels offset: input = (pixel - offset) * scale; one value or one per channel (r,g,b)");
    public Option<float[]?> Scale { get; } = CliOptions.OptionalChannelValues("--scale", "ExtractPixels scale; one value or one per channel", v => v != 0, "a finite, non-zero number");
    public Option<ResizeMode?> Resize { get; } = CliOptions.OptionalChoice<ResizeMode>("--resize", "How images of another size are resized: stretch (ML.NET's Fill), pad (IsoPad: aspect kept, black borders), crop (IsoCrop: aspect kept, centre cut) (overrides the model's)");
    public Option<int?> ResizeShorter { get; } = CliOptions.OptionalRange("--resize-shorter", $"torchvision's Resize(N) + CenterCrop: the shorter side to N pixels (Pillow's bilinear), then the centre --size cut out; N from the crop's larger side to {ImagePreprocessing.MaxResizeShorter}", 1, ImagePreprocessing.MaxResizeShorter);
    public Option<TensorLayout?> Layout { get; } = CliOptions.OptionalChoice<TensorLayout>("--layout", "Input layout: nchw or nhwc (Keras/TensorFlow exports) [default: the model's metadata, else detected from its input shape]");
    public Option<BackgroundColor?> Background { get; } = CliOptions.OptionalChoice<BackgroundColor>("--background", "Lay transparent pixels on black or white before scaling [default: colour values as stored, alpha ignored, as ML.NET]");
    public Option<bool> IgnoreExif { get; } = new("--ignore-exif") { Description = "Take pixels as stored, ignoring JPEG EXIF orientation tags, as ML.NET's LoadImages does [default: the model's metadata, else images turned upright as tagged]" };
    public Option<bool> FullDecode { get; } = new("--full-decode") { Description = "Decode every JPEG at full size; by default one at least twice the input size is decoded at 1/2, 1/4 or 1/8 scale (far faster on photos; turn off to decode exactly as ML.NET's LoadImages)" };
    public Option<float[]?> Mean { get; } = Means();
    public Option<float[]?> Std { get; } = Stds();

    /// <summary>--mean: per-channel means of pixels in [0, 1] (shared by score, evaluate and train).</summary>
    public static Option<float[]?> Means() =>
        CliOptions.OptionalChannelValues("--mean", "Mean of pixels in [0,1], one value or one per channel, e.g. 0.485,0.456,0.406 (with --std)");

    /// <summary>--std: per-channel standard deviations of pixels in [0, 1].</summary>
    public static Option<float[]?> Stds() =>
        CliOptions.OptionalChannelValues("--std", "Standard deviation of pixels in [0,1], one value or one per channel, e.g. 0.229,0.224,0.225 (with --mean)", v => v > 0, "a positive, finite number");

    /// <summary>
    /// Checks that <paramref name="means"/> and <paramref name="stds"/> come together and keep every pixel finite;
    /// throws <see cref="ArgumentException"/> naming the options.
    /// </summary>
    public static void CheckMeanStd(float[]? means, float[]? stds)
    {
        if ((means is null) != (stds is null)) { throw new ArgumentException("--mean and --std go together; give both or neither."); }
        if (means is null || stds is null) { return; }
        var color = Math.Max(means.Length, stds.Length) == 1 ? ColorMode.Gray : ColorMode.Rgb;
        if (!ImagePreprocessing.Standardized(1, 1, color, means, stds).KeepsPixelsFinite)
        {
            throw new ArgumentException($"--mean {ImagePreprocessing.Join(means)} and --std {ImagePreprocessing.Join(stds)} turn pixels 0 to 255 into values beyond float's range; expected the mean and standard deviation of pixels in [0, 1], such as 0.13 and 0.31.");
        }
    }

    /// <param name="labelsOption">Name of the option giving the model's class labels (evaluate uses --labels for its labelled-images CSV).</param>
    public ScoringOptions(string labelsOption = "--labels")
    {
        Labels = new(labelsOption) { Description = "The model's class labels, one per line, in output order (overrides the model's)" };
    }

    public Option<string?> Labels { get; }
    public Option<int?> Threads { get; } = CliOptions.OptionalRange("--threads", $"ONNX Runtime threads, 1 to {ImageClassifierOptions.MaxThreads} [default: ONNX Runtime's choice]", 1, ImageClassifierOptions.MaxThreads);
    public Option<int> BatchSize { get; } = CliOptions.Range("--batch-size", "Images per model call", 128, 1, ImageClassifierOptions.MaxBatchSize);

    public IEnumerable<Option> All => [Model, Size, Color, Resize, ResizeShorter, Layout, Background, IgnoreExif, FullDecode, Offset, Scale, Mean, Std, Labels, Threads, BatchSize];

    /// <summary>
    /// Loads the classifier the options describe. <paramref name="outputs"/> are the files the command will write:
    /// none may be the model or the labels file.
    /// </summary>
    public ImageClassifier Load(ParseResult parse, int topK = 3, bool probabilities = false, IReadOnlyList<string>? outputs = null, bool topKGiven = true)
    {
        var size = CliOptions.ParseSize(parse.GetValue(Size), "--size");
        int? width = size?.Width, height = size?.Height;
        float[]? mean = CliOptions.ChannelValues(parse, Mean), std = CliOptions.ChannelValues(parse, Std), offset = CliOptions.ChannelValues(parse, Offset), scale = CliOptions.ChannelValues(parse, Scale);
        CheckMeanStd(mean, std);
        if (mean is not null && (offset is not null || scale is not null)) { throw new ArgumentException("Give either --mean and --std or --offset and --scale, not both."); }
        if (scale is not null)
        {
            float[] offsets = offset ?? [0f];
            var color = Math.Max(offsets.Length, scale.Length) == 1 ? ColorMode.Gray : ColorMode.Rgb;
            if (!new ImagePreprocessing(1, 1, color, offsets, scale).KeepsPixelsFinite)
            {
                throw new ArgumentException($"--offset {ImagePreprocessing.Join(offsets)} and --scale {ImagePreprocessing.Join(scale)} turn pixels 0 to 255 into values beyond float's range; expected (pixel - offset) * scale to stay finite.");
            }
        }
        string? model = parse.GetValue(Model);
        string? labels = parse.GetValue(Labels);
        if (model is not null) { FileSystem.RequireFile(model, "Model"); }
        if (labels is not null) { FileSystem.RequireFile(labels, "Labels file"); }
        foreach (string output in outputs ?? [])
        {
            foreach (var (input, name) in new[] { (model, "--model"), (labels, Labels.Name) })
            {
                if (input is not null && FileSystem.SameFile(input, output)) { throw new ArgumentException($"The output '{output}' is the {name} file; choose another output so the input is not overwritten."); }
            }
        }
        var options = new ImageClassifierOptions
        {
            Width = width,
            Height = height,
            ColorMode = parse.GetValue(Color),
            Resize = parse.GetValue(Resize),
            ResizeShorter = parse.GetValue(ResizeShorter),
            Layout = parse.GetValue(Layout),
            Background = parse.GetValue(Background),
            IgnoreExifOrientation = parse.GetValue(IgnoreExif) ? true : null,
            Offsets = offset,
            Scales = scale,
            Means = mean,
            Stds = std,
            Labels = labels is not null ? ImageClassifierOptions.ReadLabels(labels) : null,
            ReducedScaleDecoding = !parse.GetValue(FullDecode),
            Threads = parse.GetValue(Threads),
            BatchSize = parse.GetValue(BatchSize),
            TopK = topK,
            IncludeProbabilities = probabilities,
        };
        var classifier = model is not null ? ImageClassifier.Load(model, options) : ImageClassifier.LoadBuiltInMnist(options);
        if (topK > classifier.Labels.Count)
        {
            int classes = classifier.Labels.Count;
            classifier.Dispose();
            if (topKGiven) { throw new ArgumentException($"--top-k must be at most the model's {classes} classes, but was {topK}."); }
            // The default asks for more classes than a two-class model has: as many as it has.
            options = options with { TopK = classes };
            classifier = model is not null ? ImageClassifier.Load(model, options) : ImageClassifier.LoadBuiltInMnist(options);
        }
        return classifier;
    }
}
