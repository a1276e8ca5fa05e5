namespace MlPipeline.Training.Models;

/// <summary>2-D max pooling over square windows (PyTorch's <c>nn.MaxPool2d</c>).</summary>
/// <param name="KernelSize">Window height and width.</param>
/// <param name="Stride">Step between windows; null means the kernel size (PyTorch's default).</param>
/// <param name="Padding">Implicit negative-infinity padding on each side. Default 0.</param>
public sealed record MaxPool2dLayer(int KernelSize, int? Stride = null, int Padding = 0) : LayerSpec
{
    /// <summary>The effective stride.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int EffectiveStride => Stride ?? KernelSize;

    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input) => PoolShape(input, $"MaxPool2d({KernelSize})", KernelSize, EffectiveStride, Padding);

    internal static IReadOnlyList<int> PoolShape(IReadOnlyList<int> input, string name, int kernel, int stride, int padding)
    {
        RequirePositive(kernel, "kernel_size", name);
        RequirePositive(stride, "stride", name);
        if (padding < 0 || padding * 2 > kernel)
        {
            throw new ArgumentException($"{name}: padding must be between 0 and half the kernel size but is {padding}.");
        }
        var (c, h, w) = RequireImage(input, name);
        return [c, Windowed(h, kernel, stride, padding, 1, name), Windowed(w, kernel, stride, padding, 1, name)];
    }
}
