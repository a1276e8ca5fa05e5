using MlPipeline.Evaluation;

namespace MlPipeline.Training;

/// <summary>What a training run produced.</summary>
/// <param name="RunDirectory">The run folder (checkpoint, history.json, model.json).</param>
/// <param name="History">Every finished epoch, including those of earlier sessions of a resumed run.</param>
/// <param name="Completed">False when cancellation stopped the run early; the checkpoint then resumes it.</param>
/// <param name="TestMetrics">The finished model's test-set metrics through ML.NET's evaluator (also in the run folder's
/// metrics.json); null when the run stopped early.</param>
public sealed record TrainingResult(string RunDirectory, IReadOnlyList<EpochMetrics> History, bool Completed, ClassificationMetrics? TestMetrics = null)
{
    /// <summary>With early stopping, the epoch whose weights the finished model has; null otherwise.</summary>
    public int? BestEpoch { get; init; }

    /// <summary>With a backbone: how many images' features were computed or found in the run folder's cache, and how long computing took.</summary>
    public FeatureStatistics? Features { get; init; }

    /// <summary>
    /// The finished model's test accuracy (<see cref="TestMetrics"/>); for a run stopped early, the held-out accuracy
    /// of its last finished epoch; null when none finished.
    /// </summary>
    public double? TestAccuracy => TestMetrics?.MicroAccuracy ?? (History.Count > 0 ? History[^1].TestAccuracy : null);
}

/// <summary>The backbone features of a run.</summary>
/// <param name="Computed">Images (and augmented copies) whose features the backbone computed in this call.</param>
/// <param name="Cached">Images whose features came from the run folder's cache.</param>
/// <param name="Seconds">Time spent computing features (not reading the cache).</param>
public sealed record FeatureStatistics(int Computed, int Cached, double Seconds)
{
    /// <summary>Images computed per second.</summary>
    public double ImagesPerSecond => Computed / Math.Max(Seconds, 1e-9);

    /// <summary>Why cached features were not used and were computed again (damaged records, a cache of another version); null when all were usable.</summary>
    public string? Discarded { get; init; }
}
