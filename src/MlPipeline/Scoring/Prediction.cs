namespace MlPipeline.Scoring;

/// <summary>What the classifier says about one image.</summary>
/// <param name="Path">The image's path (relative to the scored folder when scoring a folder), or null for streams and bytes.</param>
/// <param name="Label">The most probable class.</param>
/// <param name="Confidence">Its probability.</param>
/// <param name="TopK">The most probable classes, most probable first.</param>
/// <param name="Probabilities">Every class probability in label order, when requested; otherwise null.</param>
public sealed record Prediction(string? Path, string Label, float Confidence, IReadOnlyList<ClassProbability> TopK, IReadOnlyList<float>? Probabilities);
