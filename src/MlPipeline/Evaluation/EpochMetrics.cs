namespace MlPipeline.Evaluation;

/// <summary>The figures of one finished epoch, as stored in <c>history.json</c>.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainLoss">Mean cross-entropy over the epoch's training steps.</param>
/// <param name="TrainAccuracy">Fraction of training images classified right during the epoch.</param>
/// <param name="TestLoss">Mean cross-entropy after the epoch on the held-out images: the validation set when there is one, else the test set.</param>
/// <param name="TestAccuracy">Fraction of the held-out images (validation set when there is one, else test set) classified right after the epoch.</param>
/// <param name="Seconds">Wall-clock seconds of the epoch's training steps (test pass excluded).</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy, double Seconds)
{
    /// <summary>The learning rate at the end of the epoch (0 in histories written before it was recorded).</summary>
    public double LearningRate { get; init; }

    /// <summary>With early stopping, whether this is the best epoch so far, whose weights the run keeps.</summary>
    public bool Best { get; init; }
}
