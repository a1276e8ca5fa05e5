using System.Globalization;
using Google.Protobuf;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using MlPipeline.Training.Models;
using Onnx;
using static MlPipeline.Training.Export.OnnxGraphs;

namespace MlPipeline.Training.Export;

/// <summary>
/// Writes a trained model as ONNX by walking the same layer description that built the TorchSharp module. Input
/// <c>input</c> is float32 [batch, C, H, W] with a symbolic batch; outputs are <c>logits</c> and <c>probabilities</c>
/// (a softmax inside the graph), both [batch, classes]. The model describes itself in <c>metadata_props</c>.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Name of the input tensor.</summary>
    public const string InputName = "input";

    /// <summary>Name of the logits output.</summary>
    public const string LogitsName = "logits";

    /// <summary>Name of the probabilities output.</summary>
    public const string ProbabilitiesName = "probabilities";

    /// <summary>ONNX IR version written (ONNX 1.8+, read by every current runtime).</summary>
    public const long IrVersion = 8;

    /// <summary>Exports <paramref name="model"/> to <paramref name="path"/> atomically: an existing file is replaced only by a complete one.</summary>
    /// <exception cref="NotSupportedException">A layer or parameter has no ONNX equivalent here; nothing is written.</exception>
    public static void Export(TrainedModel model, string path, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var proto = Build(model.Info, model.Weights(), (options ?? new OnnxExportOptions()).Validate());
        using var writer = AtomicFile.Begin(path);
        proto.WriteTo(writer.Stream);
        writer.Commit();
    }

    internal static ModelProto Build(RunInfo info, IReadOnlyDictionary<string, float[]> weights, OnnxExportOptions options)
    {
        var spec = info.Architecture;
        int classes = spec.ClassCount;
        var graph = new GraphProto { Name = spec.Name };
        string current = InputName;
        if (info.Backbone is { } transfer)
        {
            // One file: the backbone's normalisation and network, then the head, on the image as scoring reads it.
            var backbone = Transfer.Backbone.Locate(transfer.Name, options.BackboneDirectory);
            string checksum = backbone.ModelChecksum();
            if (checksum != transfer.ModelChecksum)
            {
                throw new InvalidOperationException($"The {transfer.Name} backbone at '{backbone.ModelPath}' ({checksum}) is not the file the head was trained on ({transfer.ModelChecksum}, from {transfer.Package} {transfer.PackageVersion}); export with that package version.");
            }
            graph.Input.Add(TensorInfo(InputName, "batch", 3, backbone.InputSize, backbone.InputSize));
            current = backbone.AppendTo(graph, InputName, options.Opset, backbone.Cut(transfer.FineTunedBlocks));
        }
        else
        {
            graph.Input.Add(TensorInfo(InputName, "batch", spec.InputChannels, spec.InputHeight, spec.InputWidth));
        }

        for (int i = 0; i < spec.Layers.Count; i++)
        {
            current = AddLayer(graph, spec.Layers[i], i, current, weights);
        }
        graph.Node.Add(Node("Identity", "logits_identity", [current], [LogitsName]));
        graph.Node.Add(Node("Softmax", "softmax", [LogitsName], [ProbabilitiesName], Int("axis", 1)));
        graph.Output.Add(TensorInfo(LogitsName, "batch", classes));
        graph.Output.Add(TensorInfo(ProbabilitiesName, "batch", classes));

        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "MlPipeline",
            ProducerVersion = info.Version,
            ModelVersion = 1,
            DocString = string.Create(CultureInfo.InvariantCulture,
                $"{spec.Name} image classifier trained by MlPipeline {info.Version} ({info.Epochs} epochs, seed {info.Seed}, test accuracy {info.TestAccuracy:P2}). Input '{InputName}' float32 [batch, {info.Preprocessing.Channels}, {info.Preprocessing.Height}, {info.Preprocessing.Width}], pixels as (p - offset) * scale with {info.Preprocessing.DescribeNormalization()}{(info.Backbone is { } b ? $", then {b.Name}'s own normalisation inside the graph ({b.Package} {b.PackageVersion}, frozen) and a {b.Head.ToString().ToLowerInvariant()} head" : "")}; outputs '{LogitsName}' and '{ProbabilitiesName}' [batch, {classes}]."),
            Graph = graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        // Scoring reads the probabilities output (the softmax above); the entry says so rather than leaving it to the name.
        var metadata = new ClassifierMetadata(info.Labels, info.Preprocessing, spec.Name, info.DataChecksums, info.Epochs, info.TestAccuracy, info.Version)
        {
            Output = OutputKind.Probabilities,
            Backbone = info.Backbone is { } t
                ? new BackboneMetadata(t.Name, $"{t.Package} {t.PackageVersion}", t.Head.ToString().ToLowerInvariant(), t.FineTunedBlocks)
                : null,
        };
        var properties = metadata.ToProperties();
        foreach (var (key, value) in properties.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
        return proto;
    }

    static string AddLayer(GraphProto graph, LayerSpec layer, int index, string input, IReadOnlyDictionary<string, float[]> weights)
    {
        var at = new LayerNodes(graph, layer, index, weights);
        string name = at.Name, output = at.Output;
        switch (layer)
        {
            case Conv2dLayer c:
                AddConv(at, c, input);
                return output;
            case MaxPool2dLayer p:
                graph.Node.Add(Node("MaxPool", $"maxpool{name}", [input], [output],
                    Ints("kernel_shape", p.KernelSize, p.KernelSize), Ints("strides", p.EffectiveStride, p.EffectiveStride),
                    Ints("pads", p.Padding, p.Padding, p.Padding, p.Padding)));
                return output;
            case AvgPool2dLayer p:
                // PyTorch counts zero padding in the average by default; ONNX does not unless asked.
                graph.Node.Add(Node("AveragePool", $"avgpool{name}", [input], [output],
                    Ints("kernel_shape", p.KernelSize, p.KernelSize), Ints("strides", p.EffectiveStride, p.EffectiveStride),
                    Ints("pads", p.Padding, p.Padding, p.Padding, p.Padding), Int("count_include_pad", 1)));
                return output;
            case BatchNorm2dLayer b:
                graph.Node.Add(Node("BatchNormalization", $"batchnorm{name}", [input, at.Weight("weight", b.Features), at.Weight("bias", b.Features),
                    at.Weight("running_mean", b.Features), at.Weight("running_var", b.Features)], [output], Float("epsilon", (float)b.Epsilon)));
                return output;
            case ActivationLayer { Function: Activation.Relu }:
                graph.Node.Add(Node("Relu", $"relu{name}", [input], [output]));
                return output;
            case ActivationLayer { Function: Activation.Sigmoid }:
                graph.Node.Add(Node("Sigmoid", $"sigmoid{name}", [input], [output]));
                return output;
            case ActivationLayer { Function: Activation.Tanh }:
                graph.Node.Add(Node("Tanh", $"tanh{name}", [input], [output]));
                return output;
            case ActivationLayer { Function: Activation.Softmax }:
                graph.Node.Add(Node("Softmax", $"softmax{name}", [input], [output], Int("axis", -1)));
                return output;
            case FlattenLayer:
                graph.Node.Add(Node("Flatten", $"flatten{name}", [input], [output], Int("axis", 1)));
                return output;
            case LinearLayer l:
                AddLinear(at, l, input);
                return output;
            case DropoutLayer:
                return input; // the identity at inference
            case GlobalAvgPoolLayer:
                graph.Node.Add(Node("GlobalAveragePool", $"globalavgpool{name}", [input], [output]));
                return output;
            case ResidualBlockLayer r:
                AddResidualBlock(at, r, input);
                return output;
            default:
                throw new NotSupportedException($"Layer {index} ({layer.GetType().Name}: {layer}) is not supported by the ONNX exporter; supported: Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d, ReLU, Sigmoid, Tanh, Softmax, Flatten, Linear, Dropout, ResidualBlock, GlobalAvgPool.");
        }
    }

    static void AddConv(LayerNodes at, Conv2dLayer c, string input)
    {
        var inputs = new List<string> { input, at.Weight("weight", c.OutChannels, c.InChannels / c.Groups, c.KernelSize, c.KernelSize) };
        if (c.Bias) { inputs.Add(at.Weight("bias", c.OutChannels)); }
        at.Graph.Node.Add(Node("Conv", $"conv{at.Name}", inputs, [at.Output],
            Ints("kernel_shape", c.KernelSize, c.KernelSize), Ints("strides", c.Stride, c.Stride),
            Ints("pads", c.Padding, c.Padding, c.Padding, c.Padding), Ints("dilations", c.Dilation, c.Dilation), Int("group", c.Groups)));
    }

    static void AddLinear(LayerNodes at, LinearLayer l, string input)
    {
        var inputs = new List<string> { input, at.Weight("weight", l.OutFeatures, l.InFeatures) };
        if (l.Bias) { inputs.Add(at.Weight("bias", l.OutFeatures)); }
        at.Graph.Node.Add(Node("Gemm", $"linear{at.Name}", inputs, [at.Output], Int("transB", 1)));
    }

    static void AddResidualBlock(LayerNodes at, ResidualBlockLayer r, string input)
    {
        // Convolutions without bias, then batch normalisation in inference mode (running statistics).
        var graph = at.Graph;
        string name = at.Name, output = at.Output;
        string Conv(Conv2dLayer c, string part, string from)
        {
            string to = $"{output}_{part}";
            graph.Node.Add(Node("Conv", $"{part}{name}", [from, at.Weight($"{part}.weight", c.OutChannels, c.InChannels, c.KernelSize, c.KernelSize)], [to],
                Ints("kernel_shape", c.KernelSize, c.KernelSize), Ints("strides", c.Stride, c.Stride),
                Ints("pads", c.Padding, c.Padding, c.Padding, c.Padding)));
            return to;
        }
        string Norm(string part, string from)
        {
            string to = $"{output}_{part.Replace('.', '_')}";
            graph.Node.Add(Node("BatchNormalization", $"{part.Replace('.', '_')}{name}", [from, at.Weight($"{part}.weight", r.OutChannels), at.Weight($"{part}.bias", r.OutChannels),
                at.Weight($"{part}.running_mean", r.OutChannels), at.Weight($"{part}.running_var", r.OutChannels)], [to], Float("epsilon", 1e-5f)));
            return to;
        }
        string first = Norm("bn1", Conv(r.Conv1, "conv1", input));
        graph.Node.Add(Node("Relu", $"relu1_{name}", [first], [$"{output}_relu1"]));
        string main = Norm("bn2", Conv(r.Conv2, "conv2", $"{output}_relu1"));
        string shortcut = r.Projects ? Norm("shortcut.1", Conv(r.Projection, "shortcut.0", input)) : input;
        graph.Node.Add(Node("Add", $"add{name}", [main, shortcut], [$"{output}_sum"]));
        graph.Node.Add(Node("Relu", $"relu2_{name}", [$"{output}_sum"], [output]));
    }

    /// <summary>One layer's place in the graph: its node names (from the layer's index) and its initializers.</summary>
    sealed class LayerNodes(GraphProto graph, LayerSpec layer, int index, IReadOnlyDictionary<string, float[]> weights)
    {
        public GraphProto Graph => graph;

        public string Name { get; } = index.ToString(CultureInfo.InvariantCulture);

        public string Output => $"layer{Name}";

        /// <summary>Adds the trained weights <c>{index}.{suffix}</c> as an initializer and returns its name.</summary>
        public string Weight(string suffix, params long[] dims)
        {
            string key = $"{Name}.{suffix}";
            if (!weights.TryGetValue(key, out var values))
            {
                throw new NotSupportedException($"Layer {index} ({layer}) has no '{key}' weights in the trained model.");
            }
            graph.Initializer.Add(Initializer(key, values, dims));
            return key;
        }
    }
}
