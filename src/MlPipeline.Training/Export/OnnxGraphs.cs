using Google.Protobuf;
using Onnx;

namespace MlPipeline.Training.Export;

/// <summary>Small builders for ONNX graph parts, shared by the exporter and the backbone composer.</summary>
internal static class OnnxGraphs
{
    public static NodeProto Node(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    /// <summary>A float32 tensor's description with a symbolic first dimension named <paramref name="batch"/>.</summary>
    public static ValueInfoProto TensorInfo(string name, string batch, params int[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (int d in dims) { shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d }); }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>Ops whose meaning is the same from opset 8 to 17 for float tensors (their later versions only add types or attributes whose defaults keep the old meaning).</summary>
    static readonly HashSet<string> Unchanged = new(StringComparer.Ordinal) { "Conv", "Relu", "MaxPool", "AveragePool", "Add", "Sub", "Mul", "Concat", "Identity", "GlobalAveragePool" };

    /// <summary>
    /// Rewrites <paramref name="node"/>, written for opset <paramref name="from"/>, for opset <paramref name="to"/>:
    /// BatchNormalization loses <c>spatial</c> (removed in opset 9; only its default, 1, is accepted), Split's
    /// <c>split</c> attribute becomes an int64 input (opset 13). Any other op must be one whose meaning is unchanged.
    /// </summary>
    /// <exception cref="NotSupportedException">The op, or an attribute value, has no equal in the target opset.</exception>
    public static void Upgrade(NodeProto node, long from, long to, GraphProto graph, string prefix)
    {
        if (from >= to) { return; }
        switch (node.OpType)
        {
            case "BatchNormalization":
                if (node.Attribute.FirstOrDefault(a => a.Name == "spatial") is { } spatial)
                {
                    if (spatial.I != 1) { throw new NotSupportedException($"Node '{node.Name}': BatchNormalization with spatial={spatial.I} has no equal after opset 8."); }
                    node.Attribute.Remove(spatial);
                }
                if (node.Output.Count != 1) { throw new NotSupportedException($"Node '{node.Name}': BatchNormalization with training outputs is not supported."); }
                return;
            case "Split" when to >= 13:
                if (node.Attribute.FirstOrDefault(a => a.Name == "split") is { } split)
                {
                    var sizes = new TensorProto { Name = $"{prefix}{node.Name}/split", DataType = (int)TensorProto.Types.DataType.Int64 };
                    sizes.Dims.Add(split.Ints.Count);
                    sizes.Int64Data.AddRange(split.Ints);
                    graph.Initializer.Add(sizes);
                    node.Attribute.Remove(split);
                    node.Input.Add(sizes.Name);
                }
                return;
            default:
                if (!Unchanged.Contains(node.OpType))
                {
                    throw new NotSupportedException($"Node '{node.Name}': op {node.OpType} of opset {from} is not known to mean the same in opset {to}.");
                }
                return;
        }
    }

    /// <summary>A float32 initializer holding <paramref name="values"/> in <paramref name="dims"/>.</summary>
    public static TensorProto Initializer(string name, float[] values, long[] dims)
    {
        long expected = dims.Aggregate(1L, (a, b) => a * b);
        if (values.LongLength != expected)
        {
            throw new NotSupportedException($"Weights '{name}' hold {values.LongLength} values; the layer description expects [{string.Join(", ", dims)}] ({expected}).");
        }
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        byte[] raw = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length); // ONNX raw_data is little-endian, as is every platform .NET runs on here
        tensor.RawData = ByteString.CopyFrom(raw);
        return tensor;
    }
}
