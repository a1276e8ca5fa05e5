namespace MlPipeline.Evaluation;

/// <summary>How one class fared: precision and recall of its predictions, their harmonic mean F1, how many images
/// truly belong to it (support), and the log loss over those images.</summary>
public sealed record ClassMetrics(string Label, double Precision, double Recall, double F1, int Support, double LogLoss);
