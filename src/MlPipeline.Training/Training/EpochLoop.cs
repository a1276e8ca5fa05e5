using System.Diagnostics;
using System.Globalization;
using MlPipeline.Evaluation;
using MlPipeline.Training.Internals;
using MlPipeline.Training.Models;
using MlPipeline.Training.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>What <see cref="EpochLoop.Run"/> ended with.</summary>
/// <param name="History">Every finished epoch.</param>
/// <param name="Completed">False when cancellation stopped the run.</param>
/// <param name="BestEpoch">With early stopping, the epoch whose weights are kept.</param>
internal sealed record LoopResult(IReadOnlyList<EpochMetrics> History, bool Completed, int? BestEpoch);

/// <summary>
/// The epochs of one run: shuffled mini-batches of optimiser steps on the (augmented) training tensors with the
/// scheduled learning rate, the validation figures after each epoch, early stopping, and a checkpoint and the history
/// written after each epoch and on cancellation (plus the best epoch's weights when stopping early). Owns its tensors.
/// Everything that changes over the run (the schedule, the early-stopping decision) is replayed from the history on
/// resume, so a resumed run takes the same steps as an uninterrupted one.
/// </summary>
internal sealed class EpochLoop : IDisposable
{
    readonly nn.Module<Tensor, Tensor> model;
    readonly optim.Optimizer optimizer;
    readonly TrainingOptions options;
    readonly RunFolder folder;
    readonly ModelInputs trainX, validationX;
    readonly Tensor trainY, validationY;
    readonly Tensor? classWeights;
    readonly Augmenter augmenter;
    readonly int steps;
    readonly long chunk;
    optim.lr_scheduler.LRScheduler? scheduler;
    readonly bool trimHeap;

    /// <param name="inputs">The model inputs of an image set; for the training set (second argument true) they may
    /// hold several rows per image (a backbone's features of augmented copies, after the originals).</param>
    public EpochLoop(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, TrainingPlan plan, TrainingOptions options, RunFolder folder, Func<MlPipeline.Data.ImageSet, bool, ModelInputs> inputs)
    {
        this.model = model;
        this.optimizer = optimizer;
        this.options = options;
        this.folder = folder;
        trainX = inputs(plan.Train, true);
        using (var labels = TrainingTensors.Labels(plan.Train)) { trainY = labels.repeat(trainX.Count / plan.Train.Count); }
        validationX = inputs(plan.Validation, false);
        validationY = TrainingTensors.Labels(plan.Validation);
        classWeights = options.ClassWeights == ClassWeighting.Balanced ? tensor(BalancedWeights(plan.Train)) : null;
        // A backbone's features are augmented through their copies, not per epoch.
        augmenter = new Augmenter(plan.Backbone is null ? options.Augmentation : Augmentation.None, plan.Preprocessing, options.Seed);
        steps = (int)((trainX.Count + options.BatchSize - 1) / options.BatchSize);
        chunk = TrainingTensors.Chunk(plan.Spec);
        // Convolution-heavy training fragments glibc's heap (channels-last or not); handing free pages back every 20 steps keeps RSS flat.
        trimHeap = plan.Spec.Layers.Any(l => l is Models.Conv2dLayer or Models.ResidualBlockLayer);
    }

    /// <summary>N / (K · n_c) for each class c (0 for a class with no training images).</summary>
    internal static float[] BalancedWeights(MlPipeline.Data.ImageSet train)
    {
        var counts = new int[train.ClassNames.Count];
        foreach (int label in train.Labels.Span) { counts[label]++; }
        return [.. counts.Select(c => c == 0 ? 0f : (float)((double)train.Count / (counts.Length * c)))];
    }

    /// <summary>The optimiser's learning rate now.</summary>
    double LearningRate => optimizer.ParamGroups.First().LearningRate;

    /// <summary>Creates the scheduler and steps it through everything <paramref name="state"/> has done.</summary>
    void StartSchedule(CheckpointState state)
    {
        // A restored optimiser holds the scheduled rate it stopped at; schedulers start from the base rate.
        foreach (var group in optimizer.ParamGroups) { group.LearningRate = options.LearningRate; }
        scheduler = options.Schedule switch
        {
            LearningRateSchedule.OneCycle => optim.lr_scheduler.OneCycleLR(optimizer, options.LearningRate, total_steps: options.Epochs * steps),
            LearningRateSchedule.Cosine => optim.lr_scheduler.CosineAnnealingLR(optimizer, options.Epochs),
            LearningRateSchedule.Plateau => optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor: 0.5, patience: 2),
            _ => null,
        };
        foreach (var epoch in state.History)
        {
            for (int i = 0; i < steps; i++) { AfterStep(); }
            EndEpoch(epoch.TestLoss);
        }
        for (int i = 0; i < state.StepsDone; i++) { AfterStep(); }
    }

    /// <summary>After every optimiser step: one-cycle moves on.</summary>
    void AfterStep()
    {
        if (options.Schedule == LearningRateSchedule.OneCycle) { scheduler!.step(); }
    }

    /// <summary>After every epoch's validation: cosine moves on, plateau looks at the validation loss.</summary>
    void EndEpoch(double validationLoss)
    {
        if (options.Schedule == LearningRateSchedule.Cosine) { scheduler!.step(); }
        else if (options.Schedule == LearningRateSchedule.Plateau) { scheduler!.step(validationLoss); }
    }

    /// <summary>The validation images as model inputs (reused for the final figures when the test set is the validation set).</summary>
    public ModelInputs ValidationInputs => validationX;

    /// <summary>
    /// Runs the epochs after <paramref name="state"/> up to <see cref="TrainingOptions.Epochs"/>, or until early stopping
    /// ends the run. <see cref="LoopResult.Completed"/> is false when cancellation stopped it (after saving a checkpoint
    /// at the current step).
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss became NaN or infinite; the last checkpoint is left as it was.</exception>
    public LoopResult Run(CheckpointState state, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        StartSchedule(state);
        var history = state.History.ToList();
        var stopping = options.EarlyStopping;
        // A run interrupted right after the epoch that ended it must not train on when resumed.
        if (stopping?.Decide(history) is { Stop: true } decided) { return new LoopResult(history, true, decided.BestEpoch); }
        for (int epoch = state.EpochsDone + 1; epoch <= options.Epochs; epoch++)
        {
            if (TrainEpoch(state, history, epoch, progress, cancellationToken) is not { } totals) { return new LoopResult(history, false, null); }
            (state, history, int? bestEpoch, bool stop) = ValidateEpoch(state, history, epoch, totals, stopping, progress);
            if (stop) { return new LoopResult(history, true, bestEpoch); }
        }
        TrainingHistory.Write(folder[RunFolder.HistoryFile], history);
        int? finalBest = stopping?.Decide(history).BestEpoch;
        return new LoopResult(history, true, finalBest);
    }

    /// <summary>What an epoch's optimiser steps add up to: the summed loss, the images right and seen, and the time taken.</summary>
    readonly record struct EpochTotals(double LossSum, long Correct, long Seen, double Seconds);

    /// <summary>
    /// The optimiser steps of <paramref name="epoch"/> from where <paramref name="state"/> left it, reporting after each;
    /// null when cancellation stopped it (after saving a checkpoint at the current step).
    /// </summary>
    EpochTotals? TrainEpoch(CheckpointState state, List<EpochMetrics> history, int epoch, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        int count = (int)trainX.Count;
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
                return null;
            }
            int start = step * options.BatchSize;
            int size = Math.Min(options.BatchSize, count - start);
            var (lossValue, right) = Step(order.AsSpan(start, size).ToArray(), epoch, step);
            // A non-finite loss means the weights diverged: the step was not taken, and the last checkpoint (a
            // good one) stays as it is.
            if (!float.IsFinite(lossValue)) { throw Diverged("loss", lossValue, epoch, step + 1); }
            AfterStep();
            if (trimHeap && step % 20 == 19) { NativeHeap.Trim(); }
            lossSum += lossValue * size;
            correct += right;
            seen += size;
            double elapsed = seconds + clock.Elapsed.TotalSeconds;
            progress?.Report(new TrainingProgress(epoch, options.Epochs, step + 1, steps, lossSum / seen, (double)correct / seen,
                seen / Math.Max(elapsed, 1e-9), TimeSpan.FromSeconds(elapsed))
            { LearningRate = LearningRate });
        }
        return new EpochTotals(lossSum, correct, seen, seconds + clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// After <paramref name="epoch"/>'s steps: the validation figures, the history, the scheduler, the early-stopping
    /// decision (and the best weights so far), the checkpoint and the epoch's progress report.
    /// </summary>
    (CheckpointState State, List<EpochMetrics> History, int? BestEpoch, bool Stop) ValidateEpoch(CheckpointState state, List<EpochMetrics> history, int epoch,
        EpochTotals totals, EarlyStopping? stopping, IProgress<TrainingProgress>? progress)
    {
        var (lossSum, correct, seen, epochSeconds) = totals;
        double rate = LearningRate;
        var (validationLoss, validationAccuracy) = TrainingTensors.Evaluate(model, validationX, validationY, chunk);
        if (trimHeap) { NativeHeap.Trim(); }
        if (!double.IsFinite(validationLoss)) { throw Diverged("test loss", validationLoss, epoch, steps); }
        var metrics = new EpochMetrics(epoch, lossSum / seen, (double)correct / seen, validationLoss, validationAccuracy, epochSeconds) { LearningRate = rate };
        history.Add(metrics);
        EndEpoch(validationLoss);
        int? bestEpoch = null;
        bool stop = false;
        if (stopping is not null)
        {
            (int best, stop) = stopping.Decide(history);
            bestEpoch = best;
            history = [.. history.Select(h => h with { Best = h.Epoch == best })];
            // The best weights so far, for the finished model.
            if (best == epoch) { Checkpoint.Save(folder[RunFolder.BestCheckpointFile], state, model, optimizer); }
        }
        state = state with { EpochsDone = epoch, StepsDone = 0, LossSum = 0, Correct = 0, Seen = 0, Seconds = 0, History = history };
        Save(state);
        progress?.Report(new TrainingProgress(epoch, options.Epochs, steps, steps, metrics.TrainLoss, metrics.TrainAccuracy,
            seen / Math.Max(epochSeconds, 1e-9), TimeSpan.FromSeconds(epochSeconds), history[^1])
        { LearningRate = rate, BestEpoch = bestEpoch, StoppingEarly = stop });
        return (state, history, bestEpoch, stop);
    }

    void Save(CheckpointState state)
    {
        Checkpoint.Save(folder[RunFolder.CheckpointFile], state, model, optimizer);
        TrainingHistory.Write(folder[RunFolder.HistoryFile], state.History);
    }

    /// <summary>One optimisation step on the images at <paramref name="batch"/>; returns the mean loss and how many it got right. A non-finite loss takes no step.</summary>
    (float Loss, long Correct) Step(long[] batch, int epoch, int step)
    {
        // Every tensor of the step (the batch, activations, gradients' temporaries) is freed when it ends.
        using var scope = torch.NewDisposeScope();
        var index = tensor(batch);
        var x = augmenter.Apply(trainX.Rows(batch), epoch, step);
        var y = trainY.index_select(0, index);
        optimizer.zero_grad();
        var logits = model.forward(x);
        var loss = nn.functional.cross_entropy(logits, y, classWeights, label_smoothing: options.LabelSmoothing);
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
        classWeights?.Dispose();
    }
}
