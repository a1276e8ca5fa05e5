namespace MlPipeline.Training.Models;

/// <summary>Dropout while training; the identity at inference (and so absent from exported ONNX).</summary>
/// <param name="Probability">Probability of zeroing each element, in [0, 1).</param>
public sealed record DropoutLayer(double Probability) : LayerSpec
{
    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input)
    {
        if (!(Probability >= 0 && Probability < 1))
        {
            throw new ArgumentException($"Dropout probability must be in [0, 1) but is {Probability}.");
        }
        return input;
    }
}
