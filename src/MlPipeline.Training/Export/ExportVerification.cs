namespace MlPipeline.Training.Export;

/// <summary>How closely an exported ONNX file reproduces the trained model.</summary>
/// <param name="Images">Images compared.</param>
/// <param name="BatchSize">Images per ONNX Runtime call.</param>
/// <param name="MaxAbsDifference">Largest absolute difference between any TorchSharp and ONNX Runtime logit.</param>
/// <param name="ArgmaxAgreement">Fraction of images where both predict the same class.</param>
/// <param name="MaxProbabilityDifference">Largest absolute difference between the graph's softmax and TorchSharp's.</param>
public sealed record ExportVerification(int Images, int BatchSize, double MaxAbsDifference, double ArgmaxAgreement, double MaxProbabilityDifference)
{
    /// <summary>The tolerance MlPipeline holds every export to.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>True when the logits agree within <see cref="Tolerance"/> and every prediction agrees.</summary>
    public bool Passed => MaxAbsDifference <= Tolerance && ArgmaxAgreement >= 1.0;
}
