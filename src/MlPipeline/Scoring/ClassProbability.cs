namespace MlPipeline.Scoring;

/// <summary>One class and the probability the model gives it.</summary>
/// <param name="Label">Class label.</param>
/// <param name="Probability">Probability in [0, 1].</param>
public sealed record ClassProbability(string Label, float Probability);
