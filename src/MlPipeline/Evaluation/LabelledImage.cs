namespace MlPipeline.Evaluation;

/// <summary>One image file and its true label.</summary>
public sealed record LabelledImage(string Path, string Label);
