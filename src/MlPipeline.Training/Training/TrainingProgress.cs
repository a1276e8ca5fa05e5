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
}
