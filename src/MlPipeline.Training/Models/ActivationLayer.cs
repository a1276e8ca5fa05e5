namespace MlPipeline.Training.Models;

/// <summary>An activation applied to its input without changing the shape.</summary>
/// <param name="Function">Which activation.</param>
public sealed record ActivationLayer(Activation Function) : LayerSpec
{
    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input)
    {
        if (!Enum.IsDefined(Function)) { throw new ArgumentException($"Activation {(int)Function} is not supported; expected one of {string.Join(", ", Enum.GetNames<Activation>())}."); }
        if (Function == Activation.Softmax && input.Count != 1)
        {
            throw new ArgumentException($"Softmax is supported over class scores only, but its input is [{string.Join(", ", input)}].");
        }
        return input;
    }
}
