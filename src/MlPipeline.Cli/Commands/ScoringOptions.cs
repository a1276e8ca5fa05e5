using System.CommandLine;
using System.Globalization;
using MlPipeline.Scoring;

namespace MlPipeline.Cli.Commands;

/// <summary>The model and preprocessing options shared by <c>score</c> and <c>evaluate</c>.</summary>
internal sealed class ScoringOptions
{
    public Option<string?> Model { get; } = new("--model") { Description = "ONNX model (default: the built-in MNIST model)" };
    public Option<string?> Size { get; } = new("--size") { Description = "Input size WxH (overrides the model's)" };
    public Option<string?> Color { get; } = CreateColor();
    public Option<float?> Offset { get; } = new("--offset") { Description = "ExtractPixels offset: input = (pixel - offset) * scale" };
    public Option<float?> Scale { get; } = new("--scale") { Description = "ExtractPixels scale" };
    public Option<float?> Mean { get; } = new("--mean") { Description = "Mean of pixels in [0,1] (with --std, instead of --offset/--scale)" };
    public Option<float?> Std { get; } = new("--std") { Description = "Standard deviation of pixels in [0,1] (with --mean)" };
    /// <param name="labelsOption">Name of the option giving the model's class labels (evaluate uses --labels for its labelled-images CSV).</param>
    public ScoringOptions(string labelsOption = "--labels")
    {
        Labels = new(labelsOption) { Description = "The model's class labels, one per line, in output order (overrides the model's)" };
    }

    public Option<string?> Labels { get; }
    public Option<int?> Threads { get; } = CliOptions.OptionalPositive("--threads", "ONNX Runtime threads (default: ONNX Runtime's choice)");
    public Option<int> BatchSize { get; } = CliOptions.Positive("--batch-size", "Images per model call", 128);

    public IEnumerable<Option> All => [Model, Size, Color, Offset, Scale, Mean, Std, Labels, Threads, BatchSize];

    static Option<string?> CreateColor()
    {
        var option = new Option<string?>("--color") { Description = "Colour mode: gray, rgb, bgr (overrides the model's)" };
        option.AcceptOnlyFromAmong("gray", "rgb", "bgr");
        return option;
    }

    public ImageClassifier Load(ParseResult parse, int topK = 3, bool probabilities = false)
    {
        int? width = null, height = null;
        if (parse.GetValue(Size) is { } size)
        {
            var parts = size.Split('x', 'X');
            if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int w) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int h) || w < 1 || h < 1)
            {
                throw new ArgumentException($"--size must be WIDTHxHEIGHT with positive numbers (for example 28x28), but was '{size}'.");
            }
            (width, height) = (w, h);
        }
        var options = new ImageClassifierOptions
        {
            Width = width,
            Height = height,
            ColorMode = parse.GetValue(Color) is { } c ? Enum.Parse<ColorMode>(c, ignoreCase: true) : null,
            Offset = parse.GetValue(Offset),
            Scale = parse.GetValue(Scale),
            Mean = parse.GetValue(Mean),
            Std = parse.GetValue(Std),
            Labels = parse.GetValue(Labels) is { } labels ? ImageClassifierOptions.ReadLabels(labels) : null,
            Threads = parse.GetValue(Threads),
            BatchSize = parse.GetValue(BatchSize),
            TopK = topK,
            IncludeProbabilities = probabilities,
        };
        return parse.GetValue(Model) is { } model ? ImageClassifier.Load(model, options) : ImageClassifier.LoadBuiltInMnist(options);
    }
}
