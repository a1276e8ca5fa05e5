namespace MlPipeline.Evaluation;

/// <summary>An image the model got wrong: its path, true and predicted labels, the confidence of the wrong prediction,
/// the probability the model gave the true label, and (when kept) all class probabilities.</summary>
public sealed record Misclassification(string Path, string Actual, string Predicted, float Confidence, float ActualProbability, IReadOnlyList<float> Probabilities);
