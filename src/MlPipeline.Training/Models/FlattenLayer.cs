namespace MlPipeline.Training.Models;

/// <summary>Flattens everything but the batch dimension.</summary>
public sealed record FlattenLayer : LayerSpec
{
    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input) => [input.Aggregate(1, (a, b) => a * b)];
}
