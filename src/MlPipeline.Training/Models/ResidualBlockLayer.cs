namespace MlPipeline.Training.Models;

/// <summary>
/// A basic residual block (He et al., ResNet-18's): Conv3x3(stride)-BatchNorm-ReLU-Conv3x3-BatchNorm, plus a shortcut
/// that is the identity, or a Conv1x1(stride)-BatchNorm projection when the channels or the stride change; the sum goes
/// through a ReLU. One composite layer spec: its parts are named <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c> and
/// <c>shortcut.0</c>/<c>shortcut.1</c> in the state dict, and the exporter writes the same graph with an Add.
/// </summary>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Stride">Stride of the first convolution and of the projection (1 or 2, typically).</param>
public sealed record ResidualBlockLayer(int InChannels, int OutChannels, int Stride = 1) : LayerSpec
{
    /// <summary>Whether the shortcut is a projection (the channels or the stride change) rather than the identity.</summary>
    public bool Projects => InChannels != OutChannels || Stride != 1;

    /// <summary>The first convolution (3x3, padding 1, no bias: the batch normalisation has one).</summary>
    public Conv2dLayer Conv1 => new(InChannels, OutChannels, 3, Stride, 1, Bias: false);

    /// <summary>The second convolution.</summary>
    public Conv2dLayer Conv2 => new(OutChannels, OutChannels, 3, 1, 1, Bias: false);

    /// <summary>The projection's convolution (1x1), when <see cref="Projects"/>.</summary>
    public Conv2dLayer Projection => new(InChannels, OutChannels, 1, Stride, 0, Bias: false);

    /// <inheritdoc />
    public override double ParameterCount =>
        Conv1.ParameterCount + Conv2.ParameterCount + (2 * 4.0 * OutChannels) + (Projects ? Projection.ParameterCount + (4.0 * OutChannels) : 0);

    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input)
    {
        string name = $"ResidualBlock({InChannels}, {OutChannels}, stride {Stride})";
        RequirePositive(InChannels, "in_channels", name);
        RequirePositive(OutChannels, "out_channels", name);
        RequirePositive(Stride, "stride", name);
        RequireImage(input, name, InChannels);
        return Conv2.OutputShape(Conv1.OutputShape(input));
    }
}

/// <summary>Average over each channel's whole plane (PyTorch's <c>nn.AdaptiveAvgPool2d(1)</c>, ONNX GlobalAveragePool): [C, H, W] → [C, 1, 1].</summary>
public sealed record GlobalAvgPoolLayer : LayerSpec
{
    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input)
    {
        var (c, _, _) = RequireImage(input, "GlobalAvgPool");
        return [c, 1, 1];
    }
}
