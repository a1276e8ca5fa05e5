using Google.Protobuf;
using Onnx;

namespace MlPipeline.Scoring;

internal static partial class PortableModel
{
    /// <summary>A one-node ONNX graph, Identity from a vector of any length to one of <paramref name="size"/>.</summary>
    internal static byte[] IdentityModel(string input, string output, int size)
    {
        static ValueInfoProto Vector(string name, TensorShapeProto.Types.Dimension length)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
            shape.Dim.Add(length);
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            };
        }
        var node = new NodeProto { Name = "identity", OpType = "Identity" };
        node.Input.Add(input);
        node.Output.Add(output);
        var graph = new GraphProto { Name = "mlpipeline_fixed_size" };
        graph.Node.Add(node);
        graph.Input.Add(Vector(input, new TensorShapeProto.Types.Dimension { DimParam = "n" }));
        graph.Output.Add(Vector(output, new TensorShapeProto.Types.Dimension { DimValue = size }));
        var model = new ModelProto { IrVersion = 7, ProducerName = "MlPipeline", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }
}
