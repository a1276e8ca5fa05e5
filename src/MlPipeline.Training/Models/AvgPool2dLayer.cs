namespace MlPipeline.Training.Models;

/// <summary>2-D average pooling over square windows (PyTorch's <c>nn.AvgPool2d</c>, padding counted in the average).</summary>
/// <param name="KernelSize">Window height and width.</param>
/// <param name="Stride">Step between windows; null means the kernel size.</param>
/// <param name="Padding">Zero padding on each side. Default 0.</param>
public sealed record AvgPool2dLayer(int KernelSize, int? Stride = null, int Padding = 0) : LayerSpec
{
    /// <summary>The effective stride.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectiveStride => Stride ?? KernelSize;

    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input) =>
        MaxPool2dLayer.PoolShape(input, $"AvgPool2d({KernelSize})", KernelSize, EffectiveStride, Padding);
}
