namespace MlPipeline.Training.Models;

/// <summary>Batch normalisation over the channels of an image (PyTorch's <c>nn.BatchNorm2d</c>).</summary>
/// <param name="Features">Number of channels.</param>
/// <param name="Epsilon">Added to the variance for stability. Default 1e-5.</param>
/// <param name="Momentum">Weight of each batch in the running statistics. Default 0.1.</param>
public sealed record BatchNorm2dLayer(int Features, double Epsilon = 1e-5, double Momentum = 0.1) : LayerSpec
{
    /// <inheritdoc />
    public override double ParameterCount => 4.0 * Features;

    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input)
    {
        string name = $"BatchNorm2d({Features})";
        RequirePositive(Features, "num_features", name);
        var (c, h, w) = RequireImage(input, name, Features);
        return [c, h, w];
    }
}
