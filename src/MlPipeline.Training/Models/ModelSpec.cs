namespace MlPipeline.Training.Models;

/// <summary>A sequential image classifier described as data: its input shape and its layers in order.</summary>
/// <param name="Name">Architecture name recorded with the model (for example <c>cnn</c>).</param>
/// <param name="InputChannels">Channels of the input image.</param>
/// <param name="InputHeight">Input height in pixels.</param>
/// <param name="InputWidth">Input width in pixels.</param>
/// <param name="Layers">The layers, first to last; the last produces one score (logit) per class.</param>
public sealed record ModelSpec(string Name, int InputChannels, int InputHeight, int InputWidth, IReadOnlyList<LayerSpec> Layers)
{
    /// <summary>The built-in architectures by name.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = ["cnn", "mlp", "resnet"];

    /// <summary>
    /// The Keras MNIST CNN: Conv(32,3)-ReLU-MaxPool(2), Conv(64,3)-ReLU-MaxPool(2), Conv(64,3)-ReLU, Flatten, Linear(64)-ReLU, Linear(classes).
    /// </summary>
    public static ModelSpec Cnn(int classes = 10, int channels = 1, int height = 28, int width = 28)
    {
        var convolutions = new LayerSpec[]
        {
            new Conv2dLayer(channels, 32, 3), new ActivationLayer(Activation.Relu), new MaxPool2dLayer(2),
            new Conv2dLayer(32, 64, 3), new ActivationLayer(Activation.Relu), new MaxPool2dLayer(2),
            new Conv2dLayer(64, 64, 3), new ActivationLayer(Activation.Relu), new FlattenLayer(),
        };
        var features = Shape(channels, height, width, convolutions);
        return new ModelSpec("cnn", channels, height, width,
        [
            .. convolutions,
            new LinearLayer(features[0], 64), new ActivationLayer(Activation.Relu), new LinearLayer(64, classes),
        ]);
    }

    /// <summary>The tutorial's small network: Flatten, Linear(10)-Sigmoid, Linear(10)-Sigmoid, Linear(classes).</summary>
    public static ModelSpec Mlp(int classes = 10, int channels = 1, int height = 28, int width = 28) =>
        new("mlp", channels, height, width,
        [
            new FlattenLayer(),
            new LinearLayer(channels * height * width, 10), new ActivationLayer(Activation.Sigmoid),
            new LinearLayer(10, 10), new ActivationLayer(Activation.Sigmoid),
            new LinearLayer(10, classes),
        ]);

    /// <summary>
    /// What trains on a backbone's features ([<paramref name="channels"/>, <paramref name="height"/>, <paramref name="width"/>]
    /// per image): the backbone's last residual <paramref name="blocks"/> when fine-tuned, then global average pooling
    /// (when there is a map to pool), then the head: <see cref="HeadKind.Linear"/> is Flatten and Linear(features,
    /// classes), as Keras' and fastai's transfer-learning examples start; <see cref="HeadKind.Mlp"/> adds a hidden
    /// Linear(features, 256)-ReLU-Dropout(0.3). Named <c>&lt;backbone&gt;-&lt;head&gt;</c> (for example
    /// <c>resnet18-linear</c>), or <c>&lt;backbone&gt;-ft&lt;N&gt;-&lt;head&gt;</c> with N fine-tuned blocks.
    /// </summary>
    public static ModelSpec Head(string backbone, HeadKind head, int channels, int height, int width, IReadOnlyList<ResidualBlockLayer> blocks, int classes)
    {
        var layers = new List<LayerSpec>(blocks);
        if (blocks.Count > 0 || height * width > 1) { layers.Add(new GlobalAvgPoolLayer()); }
        int features = blocks.Count > 0 ? blocks[^1].OutChannels : channels;
        layers.Add(new FlattenLayer());
        layers.AddRange(head switch
        {
            HeadKind.Linear => [new LinearLayer(features, classes)],
            HeadKind.Mlp => [new LinearLayer(features, 256), new ActivationLayer(Activation.Relu), new DropoutLayer(0.3), new LinearLayer(256, classes)],
            _ => throw new ArgumentException($"Head {(int)head} is unknown; expected linear or mlp.", nameof(head)),
        });
        string kind = head.ToString().ToLowerInvariant();
        return new(blocks.Count == 0 ? $"{backbone}-{kind}" : $"{backbone}-ft{blocks.Count}-{kind}", channels, height, width, layers);
    }

    /// <summary>
    /// A small residual network for any C×H×W: a Conv3x3(32)-BatchNorm-ReLU stem, residual blocks 32→32, 32→64 (stride
    /// 2) and 64→128 (stride 2), global average pooling, Dropout(0.2) and Linear(128, classes). Images of at least
    /// <see cref="LargeInputSide"/> pixels on their shorter side get a MaxPool(2) after the stem and a fourth block
    /// 128→256 (stride 2), so a 64×64 image ends on a 4×4 map as a 28×28 one ends on 7×7.
    /// </summary>
    public static ModelSpec ResNet(int classes = 10, int channels = 1, int height = 28, int width = 28)
    {
        bool large = Math.Min(height, width) >= LargeInputSide;
        var layers = new List<LayerSpec> { new Conv2dLayer(channels, 32, 3, Padding: 1, Bias: false), new BatchNorm2dLayer(32), new ActivationLayer(Activation.Relu) };
        if (large) { layers.Add(new MaxPool2dLayer(2)); }
        layers.AddRange([new ResidualBlockLayer(32, 32), new ResidualBlockLayer(32, 64, 2), new ResidualBlockLayer(64, 128, 2)]);
        if (large) { layers.Add(new ResidualBlockLayer(128, 256, 2)); }
        int features = ((ResidualBlockLayer)layers[^1]).OutChannels;
        layers.AddRange([new GlobalAvgPoolLayer(), new FlattenLayer(), new DropoutLayer(0.2), new LinearLayer(features, classes)]);
        return new ModelSpec("resnet", channels, height, width, layers);
    }

    /// <summary>The shorter image side from which <see cref="ResNet"/> pools after its stem and adds a fourth block.</summary>
    public const int LargeInputSide = 48;

    /// <summary>A built-in architecture by name (see <see cref="BuiltInNames"/>).</summary>
    /// <exception cref="ArgumentException">The name is not a built-in architecture.</exception>
    public static ModelSpec FromName(string name, int classes = 10, int channels = 1, int height = 28, int width = 28) => name switch
    {
        "cnn" => Cnn(classes, channels, height, width),
        "mlp" => Mlp(classes, channels, height, width),
        "resnet" => ResNet(classes, channels, height, width),
        _ => throw new ArgumentException($"Unknown model '{name}'; expected one of {string.Join(", ", BuiltInNames)}.", nameof(name)),
    };

    /// <summary>The largest model accepted: 250 million learned values (1 GB of float32 weights, about 4 GB while Adam trains it).</summary>
    public const double MaxParameters = 250e6;

    /// <summary>The largest activations accepted for one image: 50 million values over all layers (200 MB per image, before the batch multiplies it).</summary>
    public const double MaxActivationsPerImage = 50e6;

    /// <summary>
    /// Activation values one image produces over all layers (a residual block counts its five inner maps), the
    /// measure <see cref="MaxActivationsPerImage"/> limits. Validates the layer chain.
    /// </summary>
    public double ActivationsPerImage =>
        OutputShapes().Zip(Layers).Sum(p => p.First.Aggregate(1.0, (product, d) => product * d) * (p.Second is ResidualBlockLayer ? 5 : 1));

    /// <summary>Number of learned values over all layers.</summary>
    public double ParameterCount => Layers.Sum(l => l.ParameterCount);

    /// <summary>
    /// Checks the whole layer chain and the model's size before anything is allocated: a description with an absurd
    /// layer (say a Linear with two billion outputs) is an error naming it instead of an allocation failure in libtorch.
    /// </summary>
    /// <exception cref="ArgumentException">A layer does not fit its input, the output is not one score per class, or the model is too large.</exception>
    public ModelSpec Validate()
    {
        if (InputChannels <= 0 || InputHeight <= 0 || InputWidth <= 0)
        {
            throw new ArgumentException($"Model '{Name}' has input shape {InputChannels}x{InputHeight}x{InputWidth}; expected positive channels, height and width.");
        }
        var shapes = OutputShapes();
        _ = ClassCount;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (ParameterCount > MaxParameters)
        {
            int largest = Enumerable.Range(0, Layers.Count).MaxBy(i => Layers[i].ParameterCount);
            throw new ArgumentException(string.Create(inv, $"Model '{Name}' has {ParameterCount:N0} parameters, over the limit of {MaxParameters:N0}; the largest layer is {largest} ({Layers[largest]}) with {Layers[largest].ParameterCount:N0}."));
        }
        double activations = ActivationsPerImage;
        if (activations > MaxActivationsPerImage)
        {
            throw new ArgumentException(string.Create(inv, $"Model '{Name}' produces {activations:N0} activation values per image, over the limit of {MaxActivationsPerImage:N0}; reduce the input size or the layer widths."));
        }
        return this;
    }

    /// <summary>Number of classes: the width of the last layer's output. Validates the whole layer chain.</summary>
    public int ClassCount
    {
        get
        {
            var shape = OutputShapes()[^1];
            if (shape.Count != 1) { throw new ArgumentException($"Model '{Name}' ends in shape [{string.Join(", ", shape)}]; expected one score per class."); }
            return shape[0];
        }
    }

    /// <summary>The output shape of every layer in turn (batch excluded); throws naming the first layer that does not fit.</summary>
    public IReadOnlyList<IReadOnlyList<int>> OutputShapes()
    {
        if (Layers.Count == 0) { throw new ArgumentException($"Model '{Name}' has no layers."); }
        var shapes = new List<IReadOnlyList<int>>();
        IReadOnlyList<int> shape = [InputChannels, InputHeight, InputWidth];
        for (int i = 0; i < Layers.Count; i++)
        {
            try
            {
                shape = Layers[i].OutputShape(shape);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Model '{Name}', layer {i}: {e.Message}", e);
            }
            shapes.Add(shape);
        }
        return shapes;
    }

    static IReadOnlyList<int> Shape(int channels, int height, int width, IEnumerable<LayerSpec> layers) =>
        layers.Aggregate((IReadOnlyList<int>)[channels, height, width], (shape, layer) => layer.OutputShape(shape));
}
