namespace MlPipeline.Scoring;

/// <summary>The outcome for one file of a batch: a prediction, or the reason the file could not be scored.</summary>
/// <param name="Path">Path relative to the scored folder, with forward slashes.</param>
/// <param name="Prediction">The prediction, or null when the file failed.</param>
/// <param name="Error">Why the file could not be scored, or null when it was.</param>
public sealed record ScoreResult(string Path, Prediction? Prediction, string? Error)
{
    /// <summary>True when the file was scored.</summary>
    public bool Succeeded => Prediction is not null;
}
