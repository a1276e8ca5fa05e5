using MlPipeline.Evaluation;

namespace MlPipeline.Training;

/// <summary>What early stopping watches after every epoch, on the validation set.</summary>
public enum EarlyStoppingMonitor
{
    /// <summary>The validation loss; lower is better.</summary>
    ValLoss,

    /// <summary>The validation accuracy; higher is better.</summary>
    ValAccuracy,
}

/// <summary>
/// Stops training when <see cref="Monitor"/> has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs, and keeps the best epoch's weights (Keras' <c>EarlyStopping(restore_best_weights=True)</c>).
/// </summary>
/// <param name="Patience">Epochs without improvement before stopping (at least 1).</param>
/// <param name="Monitor">The figure watched.</param>
/// <param name="MinDelta">The smallest change that counts as an improvement (0 or more).</param>
public sealed record EarlyStopping(int Patience, EarlyStoppingMonitor Monitor = EarlyStoppingMonitor.ValLoss, double MinDelta = 0)
{
    /// <summary>The monitored figure of an epoch.</summary>
    public double Value(EpochMetrics epoch) => Monitor == EarlyStoppingMonitor.ValLoss ? epoch.TestLoss : epoch.TestAccuracy;

    /// <summary>Whether <paramref name="candidate"/> beats <paramref name="best"/> by more than <see cref="MinDelta"/>.</summary>
    public bool Improves(double candidate, double best) =>
        Monitor == EarlyStoppingMonitor.ValLoss ? candidate < best - MinDelta : candidate > best + MinDelta;

    /// <summary>
    /// The best epoch so far and whether training stops after the last epoch of <paramref name="history"/>, worked out
    /// from the history alone, so that a resumed run decides exactly as an uninterrupted one.
    /// </summary>
    public (int BestEpoch, bool Stop) Decide(IReadOnlyList<EpochMetrics> history)
    {
        if (history.Count == 0) { return (0, false); }
        int best = 0;
        for (int i = 1; i < history.Count; i++)
        {
            if (Improves(Value(history[i]), Value(history[best]))) { best = i; }
        }
        return (history[best].Epoch, history.Count - 1 - best >= Patience);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public EarlyStopping Validate()
    {
        if (Patience < 1) { throw new ArgumentException($"Early stopping patience must be at least 1 epoch, but was {Patience}."); }
        if (!Enum.IsDefined(Monitor)) { throw new ArgumentException($"Early stopping monitor {(int)Monitor} is unknown; expected val_loss or val_accuracy."); }
        if (!(MinDelta >= 0) || !double.IsFinite(MinDelta)) { throw new ArgumentException($"Early stopping min delta must be 0 or more, but was {MinDelta}."); }
        return this;
    }
}

/// <summary>How the learning rate changes over a run (TorchSharp's schedulers).</summary>
public enum LearningRateSchedule
{
    /// <summary>The learning rate throughout.</summary>
    Constant,

    /// <summary>One cycle per run, stepped every batch: up to the learning rate over the first 30 % of steps, then down to 1/25,000 of it (fastai's 1cycle).</summary>
    OneCycle,

    /// <summary>Cosine annealing to 0 over the run, stepped every epoch.</summary>
    Cosine,

    /// <summary>Halved when the validation loss has not improved for 2 epochs.</summary>
    Plateau,
}

/// <summary>How classes weigh in the loss.</summary>
public enum ClassWeighting
{
    /// <summary>Every image counts the same.</summary>
    None,

    /// <summary>Each class weighs N / (K · n_class), so every class counts the same in total (scikit-learn's "balanced").</summary>
    Balanced,
}
