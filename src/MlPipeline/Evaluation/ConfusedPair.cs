namespace MlPipeline.Evaluation;

/// <summary>An off-diagonal cell of the confusion matrix: <see cref="Count"/> images of class <see cref="Actual"/> were predicted as <see cref="Predicted"/>.</summary>
public sealed record ConfusedPair(string Actual, string Predicted, int Count);
