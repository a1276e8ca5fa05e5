using Google.Protobuf;
using Onnx;

namespace MlPipeline.TestSupport;

/// <summary>Small ONNX models written in code, whose outputs a test can compute independently, and edits of real ones.</summary>
public static class OnnxModels
{
    /// <summary>
    /// Input <c>input</c> [N, C, H, W] (H and W symbolic when null) → GlobalAveragePool → Flatten → Softmax → output
    /// <c>probabilities</c> [N, C]: each image's probabilities are the softmax of its per-channel mean input values.
    /// </summary>
    public static byte[] ChannelMeans(int channels, int? height = null, int? width = null)
    {
        var graph = new GraphProto { Name = "channel-means" };
        graph.Node.Add(Node("GlobalAveragePool", ["input"], ["pooled"]));
        graph.Node.Add(Node("Flatten", ["pooled"], ["flat"], ("axis", 1)));
        graph.Node.Add(Node("Softmax", ["flat"], ["probabilities"], ("axis", 1)));
        graph.Input.Add(Tensor("input", Dim("batch"), Dim(channels), height is { } h ? Dim(h) : Dim("height"), width is { } w ? Dim(w) : Dim("width")));
        graph.Output.Add(Tensor("probabilities", Dim("batch"), Dim(channels)));
        var model = new ModelProto { IrVersion = 8, ProducerName = "MlPipeline.TestSupport", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    /// <summary>
    /// <see cref="ChannelMeans"/> for a channels-last input <c>input</c> [N, H, W, C] (a Keras-style export): Transpose
    /// to [N, C, H, W] first.
    /// </summary>
    public static byte[] ChannelMeansNhwc(int channels, int height, int width)
    {
        var graph = new GraphProto { Name = "channel-means-nhwc" };
        var transpose = Node("Transpose", ["input"], ["nchw"]);
        var perm = new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints };
        perm.Ints.AddRange([0, 3, 1, 2]);
        transpose.Attribute.Add(perm);
        graph.Node.Add(transpose);
        graph.Node.Add(Node("GlobalAveragePool", ["nchw"], ["pooled"]));
        graph.Node.Add(Node("Flatten", ["pooled"], ["flat"], ("axis", 1)));
        graph.Node.Add(Node("Softmax", ["flat"], ["probabilities"], ("axis", 1)));
        graph.Input.Add(Tensor("input", Dim("batch"), Dim(height), Dim(width), Dim(channels)));
        graph.Output.Add(Tensor("probabilities", Dim("batch"), Dim(channels)));
        var model = new ModelProto { IrVersion = 8, ProducerName = "MlPipeline.TestSupport", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    /// <summary>The softmax of <paramref name="values"/>, computed in double.</summary>
    public static float[] Softmax(IReadOnlyList<double> values)
    {
        double max = values.Max();
        double[] e = [.. values.Select(v => Math.Exp(v - max))];
        return [.. e.Select(v => (float)(v / e.Sum()))];
    }

    /// <summary>A copy of a model with its metadata removed and <paramref name="change"/> applied to it.</summary>
    public static byte[] Edit(byte[] model, Action<ModelProto>? change = null)
    {
        var proto = ModelProto.Parser.ParseFrom(model);
        proto.MetadataProps.Clear();
        change?.Invoke(proto);
        return proto.ToByteArray();
    }

    /// <summary>Makes the height and width of the first input symbolic (the model itself still needs its own size).</summary>
    public static void SymbolicImageSize(ModelProto model)
    {
        var dims = model.Graph.Input[0].Type.TensorType.Shape.Dim;
        dims[2] = Dim("height");
        dims[3] = Dim("width");
    }

    static NodeProto Node(string op, string[] inputs, string[] outputs, params (string Name, long Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = op + "_" + outputs[0] };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes) { node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value }); }
        return node;
    }

    static ValueInfoProto Tensor(string name, params TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims);
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }

    static TensorShapeProto.Types.Dimension Dim(long value) => new() { DimValue = value };

    static TensorShapeProto.Types.Dimension Dim(string name) => new() { DimParam = name };
}
