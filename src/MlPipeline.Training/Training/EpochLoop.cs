using System.Diagnostics;
using System.Globalization;
using MlPipeline.Training.Internals;
using TorchSharp;
using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>
/// The epochs of one run: shuffled mini-batches of Adam steps on the training tensors, the validation figures after
/// each epoch, a checkpoint and the history written after each epoch and on cancellation. Owns its tensors.
/// </summary>
internal sealed class EpochLoop : IDisposable
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly optim.Optimizer optimizer;
    readonly TrainingOptions options;
    readonly RunFolder folder;
    readonly Tensor trainX, trainY, validationX, validationY;

    public EpochLoop(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, TrainingPlan plan, TrainingOptions options, RunFolder folder)
    {
        this.model = model;
        this.optimizer = optimizer;
        this.options = options;
        this.folder = folder;
        trainX = TrainingTensors.Images(plan.Train, plan.Preprocessing);
        trainY = TrainingTensors.Labels(plan.Train);
        validationX = TrainingTensors.Images(plan.Validation, plan.Preprocessing);
        validationY = TrainingTensors.Labels(plan.Validation);
    }

    /// <summary>The validation images as model inputs (reused for the final figures when the test set is the validation set).</summary>
    public Tensor ValidationImages => validationX;

    /// <summary>
    /// Runs the epochs after <paramref name="state"/> up to <see cref="TrainingOptions.Epochs"/>. Returns the history, and
    /// false when cancellation stopped it (after saving a checkpoint at the current step).
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite; the last checkpoint is left as it was.</exception>
    public (IReadOnlyList<EpochMetrics> History, bool Completed) Run(CheckpointState state, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        int count = (int)trainX.shape[0];
        int steps = (count + options.BatchSize - 1) / options.BatchSize;
        var history = state.History.ToList();
        for (int epoch = state.EpochsDone + 1; epoch <= options.Epochs; epoch++)
        {
            long[] order = Permutation(options.Seed, epoch, count);
            model.train();
            double lossSum = state.LossSum, seconds = state.Seconds;
            long correct = state.Correct, seen = state.Seen;
            var clock = Stopwatch.StartNew();
            for (int step = state.StepsDone; step < steps; step++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    Save(state with { EpochsDone = epoch - 1, StepsDone = step, LossSum = lossSum, Correct = correct, Seen = seen, Seconds = seconds + clock.Elapsed.TotalSeconds, History = history });
                    return (history, false);
                }
                int start = step * options.BatchSize;
                int size = Math.Min(options.BatchSize, count - start);
                var (lossValue, right) = Step(order.AsSpan(start, size).ToArray());
                // A non-finite loss means the weights diverged: the step was not taken, and the last checkpoint (a
                // good one) stays as it is.
                if (!float.IsFinite(lossValue)) { throw Diverged("loss", lossValue, epoch, step + 1); }
                lossSum += lossValue * size;
                correct += right;
                seen += size;
                double elapsed = seconds + clock.Elapsed.TotalSeconds;
                progress?.Report(new TrainingProgress(epoch, options.Epochs, step + 1, steps, lossSum / seen, (double)correct / seen,
                    seen / Math.Max(elapsed, 1e-9), TimeSpan.FromSeconds(elapsed)));
            }
            double epochSeconds = seconds + clock.Elapsed.TotalSeconds;
            var (validationLoss, validationAccuracy) = TrainingTensors.Evaluate(model, validationX, validationY);
            if (!double.IsFinite(validationLoss)) { throw Diverged("test loss", validationLoss, epoch, steps); }
            var metrics = new EpochMetrics(epoch, lossSum / seen, (double)correct / seen, validationLoss, validationAccuracy, epochSeconds);
            history.Add(metrics);
            state = state with { EpochsDone = epoch, StepsDone = 0, LossSum = 0, Correct = 0, Seen = 0, Seconds = 0, History = history };
            Save(state);
            progress?.Report(new TrainingProgress(epoch, options.Epochs, steps, steps, metrics.TrainLoss, metrics.TrainAccuracy,
                seen / Math.Max(epochSeconds, 1e-9), TimeSpan.FromSeconds(epochSeconds), metrics));
        }
        Json.Write(folder[RunFolder.HistoryFile], history);
        return (history, true);
    }

    void Save(CheckpointState state)
    {
        Checkpoint.Save(folder[RunFolder.CheckpointFile], state, model, optimizer);
        Json.Write(folder[RunFolder.HistoryFile], state.History);
    }

    /// <summary>One optimisation step on the images at <paramref name="batch"/>; returns the mean loss and how many it got right. A non-finite loss takes no step.</summary>
    (float Loss, long Correct) Step(long[] batch)
    {
        // Every tensor of the step (the batch, activations, gradients' temporaries) is freed when it ends.
        using var scope = torch.NewDisposeScope();
        var index = tensor(batch);
        var x = trainX.index_select(0, index);
        var y = trainY.index_select(0, index);
        optimizer.zero_grad();
        var logits = model.forward(x);
        var loss = nn.functional.cross_entropy(logits, y);
        float value = loss.item<float>();
        if (!float.IsFinite(value)) { return (value, 0); }
        loss.backward();
        optimizer.step();
        return (value, logits.argmax(1).eq(y).sum().item<long>());
    }

    InvalidOperationException Diverged(string what, double value, int epoch, int step) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged: the {what} became {value} at epoch {epoch}, step {step}. Lower --lr (it was {options.LearningRate}); the run folder keeps the last good checkpoint, from before epoch {epoch}, if there was one."));

    /// <summary>The epoch's visiting order: a Fisher–Yates shuffle seeded from the run seed and the epoch, so a resumed run sees the same order.</summary>
    internal static long[] Permutation(int seed, int epoch, int count)
    {
        // Not HashCode.Combine: it is randomised per process, and the order must be the same in every process.
        var random = new Random(unchecked((seed * 1_000_003) + epoch));
        long[] order = new long[count];
        for (int i = 0; i < count; i++) { order[i] = i; }
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    public void Dispose()
    {
        trainX.Dispose();
        trainY.Dispose();
        validationX.Dispose();
        validationY.Dispose();
    }
}
