namespace MlPipeline.Training.Models;

/// <summary>A fully connected layer (PyTorch's <c>nn.Linear</c>).</summary>
/// <param name="InFeatures">Input features.</param>
/// <param name="OutFeatures">Output features.</param>
/// <param name="Bias">Whether the layer adds a learned bias. Default true.</param>
public sealed record LinearLayer(int InFeatures, int OutFeatures, bool Bias = true) : LayerSpec
{
    /// <inheritdoc />
    public override double ParameterCount => ((double)InFeatures * OutFeatures) + (Bias ? OutFeatures : 0);

    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input)
    {
        string name = $"Linear({InFeatures}, {OutFeatures})";
        RequirePositive(InFeatures, "in_features", name);
        RequirePositive(OutFeatures, "out_features", name);
        if (input.Count != 1 || input[0] != InFeatures)
        {
            throw new ArgumentException($"{name} expects [{InFeatures}] features but gets [{string.Join(", ", input)}]; add a Flatten layer or fix in_features.");
        }
        return [OutFeatures];
    }
}
