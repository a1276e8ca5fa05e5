using MlPipeline.Evaluation;

namespace MlPipeline.Training;

/// <summary>A progress report: after every step, and once more when an epoch finishes (then <see cref="CompletedEpoch"/> is set).</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Step">Steps done in this epoch.</param>
/// <param name="Steps">Steps in an epoch.</param>
/// <param name="Loss">Mean training loss so far in this epoch.</param>
/// <param name="Accuracy">Training accuracy so far in this epoch.</param>
/// <param name="ImagesPerSecond">Training throughput so far in this epoch.</param>
/// <param name="Elapsed">Time spent in this epoch's steps so far.</param>
/// <param name="CompletedEpoch">The epoch's figures, on the report that ends it; null otherwise.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, double Accuracy, double ImagesPerSecond, TimeSpan Elapsed, EpochMetrics? CompletedEpoch = null)
{
    /// <summary>The optimiser's learning rate now.</summary>
    public double LearningRate { get; init; }

    /// <summary>With early stopping, on the report that ends an epoch: the best epoch so far.</summary>
    public int? BestEpoch { get; init; }

    /// <summary>On the report that ends an epoch: early stopping ends the run here, keeping <see cref="BestEpoch"/>'s weights.</summary>
    public bool StoppingEarly { get; init; }

    /// <summary>Before the epochs of a run on a backbone: how far computing the features is (then <see cref="Epoch"/> is 0).</summary>
    public FeatureProgress? Features { get; init; }
}

/// <summary>Progress of computing a backbone's features.</summary>
/// <param name="Images">Which images: <c>training</c>, <c>training copy 2/4</c>, <c>validation</c> or <c>test</c>.</param>
/// <param name="Done">Images of that set done.</param>
/// <param name="Total">Images in that set.</param>
/// <param name="Cached">Images found in the cache so far, over all sets.</param>
/// <param name="Computed">Images computed so far, over all sets.</param>
public sealed record FeatureProgress(string Images, int Done, int Total, int Cached, int Computed);
