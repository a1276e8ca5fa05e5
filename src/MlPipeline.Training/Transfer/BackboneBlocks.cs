using System.Runtime.InteropServices;
using MlPipeline.Training.Models;
using Onnx;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// Where a backbone is cut for fine-tuning: the frozen part ends at <see cref="TensorName"/> (its output, the features,
/// of <see cref="Channels"/>×<see cref="Height"/>×<see cref="Width"/>), and <see cref="Blocks"/> — the network's last
/// residual blocks — are rebuilt as MlPipeline layers with the pretrained <see cref="Weights"/> (state-dict names as
/// the head's first layers) and trained with the head. With no blocks the cut is the network's pooled output.
/// </summary>
internal sealed record BackboneCut(string TensorName, int Channels, int Height, int Width, IReadOnlyList<ResidualBlockLayer> Blocks, IReadOnlyDictionary<string, float[]> Weights)
{
    /// <summary>Values per image at the cut.</summary>
    public int FeatureSize => Channels * Height * Width;
}

/// <summary>Reads a ResNet's residual blocks out of its ONNX graph: each Add of a Conv-BN-ReLU-Conv-BN branch and an identity or Conv1x1-BN shortcut, followed by a ReLU.</summary>
internal static class BackboneBlocks
{
    sealed record Block(string Input, string Output, NodeProto Conv1, NodeProto Bn1, NodeProto Conv2, NodeProto Bn2, NodeProto? ProjectionConv, NodeProto? ProjectionBn);

    /// <summary>The cut that leaves the last <paramref name="trainable"/> residual blocks of <paramref name="network"/> to train.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The network has fewer blocks than asked for.</exception>
    /// <exception cref="NotSupportedException">A block, or what follows the last one, is not what MlPipeline's layers can rebuild exactly.</exception>
    public static BackboneCut Cut(ModelProto network, int trainable, int inputSize, string prefix)
    {
        var graph = network.Graph;
        var producer = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node) { foreach (string output in node.Output) { producer[output] = node; } }
        var consumers = graph.Node.SelectMany(n => n.Input.Select(i => (i, n))).ToLookup(p => p.i, p => p.n, StringComparer.Ordinal);
        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var blocks = graph.Node.Where(n => n.OpType == "Add").Select(add => Parse(add, producer, consumers)).ToList();
        if (trainable < 0 || trainable > blocks.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(trainable), trainable, $"The backbone has {blocks.Count} residual blocks; fine-tune from 0 to {blocks.Count} of them.");
        }
        var shapes = Shapes(graph, inputSize, producer, initializers);
        if (trainable == 0)
        {
            string output = graph.Output[0].Name;
            var (c, h, w) = shapes[output];
            return new BackboneCut(prefix + output, c, h, w, [], new Dictionary<string, float[]>());
        }
        var chosen = blocks.Skip(blocks.Count - trainable).ToList();
        RequireGlobalPool(chosen[^1].Output, graph, consumers, shapes);
        var layers = new List<ResidualBlockLayer>();
        var weights = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int i = 0; i < chosen.Count; i++)
        {
            var b = chosen[i];
            var (inChannels, inHeight, inWidth) = shapes[b.Input];
            long[] kernel = Dims(initializers, b.Conv1.Input[1]);
            int outChannels = (int)kernel[0];
            int stride = (int)Ints(b.Conv1, "strides", 1)[0];
            var layer = new ResidualBlockLayer(inChannels, outChannels, stride);
            RequireSame(layer.Conv1, b.Conv1, inHeight, inWidth, initializers);
            var (_, midHeight, midWidth) = shapes[b.Conv1.Output[0]];
            RequireSame(layer.Conv2, b.Conv2, midHeight, midWidth, initializers);
            if (layer.Projects != (b.ProjectionConv is not null)) { throw new NotSupportedException($"The residual block ending at '{b.Output}' has {(b.ProjectionConv is null ? "an identity" : "a projection")} shortcut, which does not fit its change of channels or stride."); }
            if (b.ProjectionConv is { } projection) { RequireSame(layer.Projection, projection, inHeight, inWidth, initializers); }
            layers.Add(layer);
            string name = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            weights[$"{name}.conv1.weight"] = Floats(initializers, b.Conv1.Input[1]);
            weights[$"{name}.conv2.weight"] = Floats(initializers, b.Conv2.Input[1]);
            AddNorm(weights, $"{name}.bn1", b.Bn1, initializers);
            AddNorm(weights, $"{name}.bn2", b.Bn2, initializers);
            if (b.ProjectionConv is { } p)
            {
                weights[$"{name}.shortcut.0.weight"] = Floats(initializers, p.Input[1]);
                AddNorm(weights, $"{name}.shortcut.1", b.ProjectionBn!, initializers);
            }
        }
        var (channels, height, width) = shapes[chosen[0].Input];
        return new BackboneCut(prefix + chosen[0].Input, channels, height, width, layers, weights);
    }

    static Block Parse(NodeProto add, Dictionary<string, NodeProto> producer, ILookup<string, NodeProto> consumers)
    {
        NodeProto? Producer(string tensor, string op) => producer.TryGetValue(tensor, out var n) && n.OpType == op ? n : null;
        foreach (var (main, other) in new[] { (add.Input[0], add.Input[1]), (add.Input[1], add.Input[0]) })
        {
            if (Producer(main, "BatchNormalization") is not { } bn2 || Producer(bn2.Input[0], "Conv") is not { } conv2
                || Producer(conv2.Input[0], "Relu") is not { } relu || Producer(relu.Input[0], "BatchNormalization") is not { } bn1
                || Producer(bn1.Input[0], "Conv") is not { } conv1)
            {
                continue;
            }
            string input = conv1.Input[0];
            NodeProto? projectionBn = null, projectionConv = null;
            if (other != input)
            {
                projectionBn = Producer(other, "BatchNormalization");
                projectionConv = projectionBn is null ? null : Producer(projectionBn.Input[0], "Conv");
                if (projectionConv is null || projectionConv.Input[0] != input) { continue; }
            }
            var after = consumers[add.Output[0]].ToList();
            if (after is not [{ OpType: "Relu" } outRelu]) { continue; }
            return new Block(input, outRelu.Output[0], conv1, bn1, conv2, bn2, projectionConv, projectionBn);
        }
        throw new NotSupportedException($"Node '{add.Name}' (Add) is not the end of a basic residual block (Conv-BatchNormalization-Relu-Conv-BatchNormalization plus an identity or Conv-BatchNormalization shortcut, then Relu).");
    }

    /// <summary>Every tensor's [C, H, W] for one image, worked out from the input size through the ops a ResNet uses.</summary>
    static Dictionary<string, (int C, int H, int W)> Shapes(GraphProto graph, int inputSize, Dictionary<string, NodeProto> producer, Dictionary<string, TensorProto> initializers)
    {
        var shapes = new Dictionary<string, (int C, int H, int W)>(StringComparer.Ordinal) { [graph.Input.First(i => !initializers.ContainsKey(i.Name)).Name] = (3, inputSize, inputSize) };
        foreach (var node in graph.Node)
        {
            var (c, h, w) = shapes[node.Input[0]];
            shapes[node.Output[0]] = node.OpType switch
            {
                "Conv" => ((int)Dims(initializers, node.Input[1])[0], Pooled(node, h, 0, Dims(initializers, node.Input[1])[2]), Pooled(node, w, 1, Dims(initializers, node.Input[1])[3])),
                "MaxPool" or "AveragePool" => (c, Pooled(node, h, 0, Ints(node, "kernel_shape", 1)[0]), Pooled(node, w, 1, Ints(node, "kernel_shape", 1)[1])),
                "GlobalAveragePool" => (c, 1, 1),
                _ => (c, h, w),
            };
        }
        return shapes;
    }

    static int Pooled(NodeProto node, int size, int axis, long kernel)
    {
        long[] pads = Ints(node, "pads", 0, 0, 0, 0);
        long stride = Ints(node, "strides", 1, 1)[axis];
        return (int)(((size + pads[axis] + pads[axis + 2] - kernel) / stride) + 1);
    }

    /// <summary>The ONNX convolution computes what MlPipeline's (symmetric padding) does: the same kernel, stride and begin padding, and the same output size.</summary>
    static void RequireSame(Conv2dLayer ours, NodeProto conv, int height, int width, Dictionary<string, TensorProto> initializers)
    {
        long[] kernel = Dims(initializers, conv.Input[1]);
        long[] pads = Ints(conv, "pads", 0, 0, 0, 0);
        long[] strides = Ints(conv, "strides", 1, 1);
        bool same = kernel[1] == ours.InChannels && kernel[0] == ours.OutChannels && kernel[2] == ours.KernelSize && kernel[3] == ours.KernelSize
            && strides.All(s => s == ours.Stride) && pads[0] == ours.Padding && pads[1] == ours.Padding && conv.Input.Count == 2
            && Ints(conv, "group", 1)[0] == 1 && Ints(conv, "dilations", 1, 1).All(d => d == 1)
            && Pooled(conv, height, 0, kernel[2]) == ours.OutputShape([ours.InChannels, height, width])[1]
            && Pooled(conv, width, 1, kernel[3]) == ours.OutputShape([ours.InChannels, height, width])[2];
        if (!same) { throw new NotSupportedException($"Convolution '{conv.Name}' (kernel [{string.Join(",", kernel)}], pads [{string.Join(",", pads)}], strides [{string.Join(",", strides)}]) is not one MlPipeline's residual block computes alike."); }
    }

    static void RequireGlobalPool(string output, GraphProto graph, ILookup<string, NodeProto> consumers, Dictionary<string, (int C, int H, int W)> shapes)
    {
        var (_, h, w) = shapes[output];
        var next = consumers[output].ToList();
        bool global = next is [{ OpType: "GlobalAveragePool" }]
            || (next is [{ OpType: "AveragePool" } pool] && Ints(pool, "kernel_shape", 0, 0).SequenceEqual(new long[] { h, w }) && Ints(pool, "pads", 0, 0, 0, 0).All(p => p == 0));
        if (!global || next[0].Output[0] != graph.Output[0].Name)
        {
            throw new NotSupportedException($"The last residual block's output '{output}' is not followed by a global average pool that ends the network.");
        }
    }

    static void AddNorm(Dictionary<string, float[]> weights, string name, NodeProto bn, Dictionary<string, TensorProto> initializers)
    {
        float epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
        if (Math.Abs(epsilon - 1e-5f) > 1e-9f) { throw new NotSupportedException($"BatchNormalization '{bn.Name}' has epsilon {epsilon}; MlPipeline's residual blocks use 1e-5."); }
        weights[$"{name}.weight"] = Floats(initializers, bn.Input[1]);
        weights[$"{name}.bias"] = Floats(initializers, bn.Input[2]);
        weights[$"{name}.running_mean"] = Floats(initializers, bn.Input[3]);
        weights[$"{name}.running_var"] = Floats(initializers, bn.Input[4]);
    }

    static long[] Dims(Dictionary<string, TensorProto> initializers, string name) =>
        initializers.TryGetValue(name, out var t) ? [.. t.Dims] : throw new NotSupportedException($"'{name}' is not a constant of the backbone.");

    static float[] Floats(Dictionary<string, TensorProto> initializers, string name)
    {
        var t = initializers[name];
        if (t.DataType != (int)TensorProto.Types.DataType.Float) { throw new NotSupportedException($"Constant '{name}' is not float32."); }
        return t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : [.. t.FloatData];
    }

    static long[] Ints(NodeProto node, string name, params long[] defaults) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? (a.Ints.Count > 0 ? [.. a.Ints] : [a.I]) : defaults;
}
