using System.Text.Json.Serialization;

namespace MlPipeline.Training.Models;

/// <summary>
/// One layer of a sequential model, described as data: the same description builds the TorchSharp module and
/// drives the ONNX exporter, so the two cannot disagree about the architecture.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(Conv2dLayer), "conv2d")]
[JsonDerivedType(typeof(MaxPool2dLayer), "maxpool2d")]
[JsonDerivedType(typeof(AvgPool2dLayer), "avgpool2d")]
[JsonDerivedType(typeof(BatchNorm2dLayer), "batchnorm2d")]
[JsonDerivedType(typeof(ActivationLayer), "activation")]
[JsonDerivedType(typeof(FlattenLayer), "flatten")]
[JsonDerivedType(typeof(LinearLayer), "linear")]
[JsonDerivedType(typeof(DropoutLayer), "dropout")]
[JsonDerivedType(typeof(ResidualBlockLayer), "residual")]
[JsonDerivedType(typeof(GlobalAvgPoolLayer), "globalavgpool")]
public abstract record LayerSpec
{
    /// <summary>The shape this layer produces from <paramref name="input"/> (batch dimension excluded); throws when the input does not fit.</summary>
    public abstract IReadOnlyList<int> OutputShape(IReadOnlyList<int> input);

    /// <summary>Number of learned values (weights, biases; for batch normalisation also its running statistics), as a double so absurd sizes cannot overflow.</summary>
    public virtual double ParameterCount => 0;

    /// <summary>Requires a [C, H, W] input with <paramref name="channels"/> channels (any, when null).</summary>
    private protected static (int C, int H, int W) RequireImage(IReadOnlyList<int> input, string layer, int? channels = null)
    {
        if (input.Count != 3)
        {
            throw new ArgumentException($"{layer} expects a [channels, height, width] input but gets [{string.Join(", ", input)}].");
        }
        if (channels is { } c && input[0] != c)
        {
            throw new ArgumentException($"{layer} expects {c} input channels but gets {input[0]}.");
        }
        return (input[0], input[1], input[2]);
    }

    /// <summary>Output size of a sliding window (PyTorch's floor formula).</summary>
    private protected static int Windowed(int size, int kernel, int stride, int padding, int dilation, string layer)
    {
        int output = ((size + (2 * padding) - (dilation * (kernel - 1)) - 1) / stride) + 1;
        if (output <= 0)
        {
            throw new ArgumentException($"{layer} leaves no output from an input of size {size} (kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}).");
        }
        return output;
    }

    private protected static void RequirePositive(int value, string name, string layer)
    {
        if (value <= 0) { throw new ArgumentException($"{layer}: {name} must be positive but is {value}."); }
    }
}
