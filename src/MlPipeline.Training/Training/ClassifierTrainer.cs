using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using MlPipeline.Data;
using MlPipeline.Evaluation;
using MlPipeline.Scoring;
using MlPipeline.Training.Internals;
using MlPipeline.Training.Models;
using MlPipeline.Training.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>
/// Trains a sequential image classifier with Adam and cross-entropy, reshuffling every epoch from the seed, and keeps
/// a run folder that a later call with <see cref="TrainingOptions.Resume"/> continues bit-for-bit.
/// </summary>
public static class ClassifierTrainer
{
    /// <summary>File name of the per-epoch history in a run folder.</summary>
    public const string HistoryFileName = RunFolder.HistoryFile;

    /// <summary>File name of the model description in a run folder.</summary>
    public const string ModelInfoFileName = RunFolder.ModelFile;

    /// <summary>File in the run folder holding the finished model's test metrics (same keys as <c>evaluate</c>'s metrics.json).</summary>
    public const string MetricsFileName = RunFolder.MetricsFile;

    /// <summary>
    /// Trains on <paramref name="data"/>. Cancellation stops after the current step, saves a checkpoint and returns with
    /// <see cref="TrainingResult.Completed"/> false. Reports progress after every step and every epoch.
    /// </summary>
    /// <exception cref="ArgumentException">An option or the data is invalid (the message names it).</exception>
    /// <exception cref="InvalidOperationException">The run folder holds a different run, or TorchSharp cannot load.</exception>
    public static TrainingResult Train(TrainingData data, TrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var train = options.Limit is { } limit ? data.Train.Take(limit) : data.Train;
        // Per-epoch figures on the validation set when there is one; the finished model is measured on the test set.
        var test = data.Validation ?? data.Test;
        RequireSameShape(train, test);
        RequireSameShape(train, data.Test);
        var spec = options.ResolveArchitecture(train.ClassNames.Count, train.Channels, train.Height, train.Width);
        RequireFits(spec, train);
        var preprocessing = options.Normalize
            ? Standardize(train)
            : ImagePreprocessing.UnitRange(train.Width, train.Height, train.Channels == 1 ? ColorMode.Gray : ColorMode.Rgb);

        var fresh = new CheckpointState(JsonSerializer.Serialize(spec, Json.Options), options.BatchSize, options.LearningRate, options.Seed,
            train.Count, options.Normalize, 0, 0, 0, 0, 0, 0, []);
        using var folder = RunFolder.Open(options.OutputDirectory);
        try
        {
            return Train(folder, data.Checksums, train, test, data.Test, spec, preprocessing, fresh, options, progress, cancellationToken);
        }
        catch
        {
            folder.Abandon();
            throw;
        }
    }

    static TrainingResult Train(RunFolder folder, IReadOnlyDictionary<string, string> checksums, ImageSet train, ImageSet test, ImageSet final, ModelSpec spec, ImagePreprocessing preprocessing,
        CheckpointState fresh, TrainingOptions options, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        string run = folder.Path;
        string checkpointPath = folder[RunFolder.CheckpointFile];
        bool resuming = folder.HasCheckpoint;
        if (resuming && !options.Resume)
        {
            throw new InvalidOperationException($"Run folder '{run}' already holds a checkpoint; pass --resume (Resume = true) to continue it, or choose another output folder.");
        }
        if (!resuming && options.Resume)
        {
            throw new InvalidOperationException($"Run folder '{run}' holds no checkpoint to resume; leave out --resume (Resume = false) to start a new run there.");
        }

        TorchNative.EnsureLoaded();
        if (options.Threads is { } threads) { torch.set_num_threads(threads); }
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(options.Seed);
        var model = ModuleFactory.Build(spec);
        if (options.Initialization == WeightInitialization.Glorot) { ModuleFactory.InitializeGlorot(model); }
        var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        var state = fresh;
        if (resuming)
        {
            state = Checkpoint.Load(checkpointPath, model, optimizer);
            RequireSameRun(checkpointPath, state, fresh);
        }

        var trainX = ToTensor(train, preprocessing);
        var trainY = LabelTensor(train);
        var testX = ToTensor(test, preprocessing);
        var testY = LabelTensor(test);
        int steps = (train.Count + options.BatchSize - 1) / options.BatchSize;
        var history = state.History.ToList();

        for (int epoch = state.EpochsDone + 1; epoch <= options.Epochs; epoch++)
        {
            long[] order = Permutation(options.Seed, epoch, train.Count);
            model.train();
            double lossSum = state.LossSum, seconds = state.Seconds;
            long correct = state.Correct, seen = state.Seen;
            var clock = Stopwatch.StartNew();
            for (int step = state.StepsDone; step < steps; step++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    state = state with { EpochsDone = epoch - 1, StepsDone = step, LossSum = lossSum, Correct = correct, Seen = seen, Seconds = seconds + clock.Elapsed.TotalSeconds, History = history };
                    Checkpoint.Save(checkpointPath, state, model, optimizer);
                    Json.Write(Path.Combine(run, HistoryFileName), history);
                    return new TrainingResult(run, history, Completed: false);
                }
                int start = step * options.BatchSize;
                int count = Math.Min(options.BatchSize, train.Count - start);
                var (lossValue, right) = Step(model, optimizer, trainX, trainY, order.AsSpan(start, count).ToArray());
                // A non-finite loss means the weights diverged: the step was not taken, and the last checkpoint (a
                // good one) stays as it is.
                if (!float.IsFinite(lossValue)) { throw Diverged("loss", lossValue, epoch, step + 1, options.LearningRate); }
                lossSum += lossValue * count;
                correct += right;
                seen += count;
                double elapsed = seconds + clock.Elapsed.TotalSeconds;
                progress?.Report(new TrainingProgress(epoch, options.Epochs, step + 1, steps, lossSum / seen, (double)correct / seen,
                    seen / Math.Max(elapsed, 1e-9), TimeSpan.FromSeconds(elapsed)));
            }
            double epochSeconds = seconds + clock.Elapsed.TotalSeconds;
            var (testLoss, testAccuracy) = Evaluate(model, testX, testY);
            if (!double.IsFinite(testLoss)) { throw Diverged("test loss", testLoss, epoch, steps, options.LearningRate); }
            var metrics = new EpochMetrics(epoch, lossSum / seen, (double)correct / seen, testLoss, testAccuracy, epochSeconds);
            history.Add(metrics);
            state = state with { EpochsDone = epoch, StepsDone = 0, LossSum = 0, Correct = 0, Seen = 0, Seconds = 0, History = history };
            Checkpoint.Save(checkpointPath, state, model, optimizer);
            Json.Write(Path.Combine(run, HistoryFileName), history);
            progress?.Report(new TrainingProgress(epoch, options.Epochs, steps, steps, metrics.TrainLoss, metrics.TrainAccuracy,
                seen / Math.Max(epochSeconds, 1e-9), TimeSpan.FromSeconds(epochSeconds), metrics));
        }

        Json.Write(Path.Combine(run, HistoryFileName), history);
        // The final figures go through the same ML.NET evaluation as `evaluate`, so the two report alike.
        using var finalX = ReferenceEquals(final, test) ? testX.alias() : ToTensor(final, preprocessing);
        var testMetrics = ClassificationMetrics.Compute(train.ClassNames, [.. final.Labels.ToArray()], Probabilities(model, finalX));
        var info = new RunInfo(spec, preprocessing, train.ClassNames, options.Seed, history.Count, options.BatchSize, options.LearningRate,
            train.Count, checksums, testMetrics.MicroAccuracy, Version);
        Json.Write(Path.Combine(run, ModelInfoFileName), info);
        MlPipeline.Internals.AtomicFile.WriteAllText(Path.Combine(run, MetricsFileName), testMetrics.ToJson() + "\n");
        return new TrainingResult(run, history, Completed: true, testMetrics);
    }

    /// <summary>One optimisation step on the images at <paramref name="batch"/>; returns the mean loss and how many it got right. A non-finite loss takes no step.</summary>
    static (float Loss, long Correct) Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor images, Tensor labels, long[] batch)
    {
        // Every tensor of the step (the batch, activations, gradients' temporaries) is freed when it ends.
        using var scope = torch.NewDisposeScope();
        var index = tensor(batch);
        var x = images.index_select(0, index);
        var y = labels.index_select(0, index);
        optimizer.zero_grad();
        var logits = model.forward(x);
        var loss = nn.functional.cross_entropy(logits, y);
        float value = loss.item<float>();
        if (!float.IsFinite(value)) { return (value, 0); }
        loss.backward();
        optimizer.step();
        return (value, logits.argmax(1).eq(y).sum().item<long>());
    }

    static InvalidOperationException Diverged(string what, double value, int epoch, int step, double learningRate) =>
        new(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Training diverged: the {what} became {value} at epoch {epoch}, step {step}. Lower --lr (it was {learningRate}); the run folder keeps the last good checkpoint, from before epoch {epoch}, if there was one."));

    /// <summary>MlPipeline's version, recorded in every model.</summary>
    public static string Version { get; } =
        typeof(ClassifierTrainer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Softmax probabilities of <paramref name="model"/> for every image of <paramref name="x"/>, in inference mode.</summary>
    internal static float[][] Probabilities(nn.Module<Tensor, Tensor> model, Tensor x)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        long n = x.shape[0];
        var rows = new float[n][];
        for (long start = 0; start < n; start += 1000)
        {
            using var scope = torch.NewDisposeScope();
            long count = Math.Min(1000, n - start);
            var p = nn.functional.softmax(model.forward(x.narrow(0, start, count)), 1);
            float[] flat = p.data<float>().ToArray();
            int k = (int)p.shape[1];
            for (int i = 0; i < count; i++) { rows[start + i] = flat.AsSpan(i * k, k).ToArray(); }
        }
        return rows;
    }

    /// <summary>Test loss and accuracy of <paramref name="model"/> in inference mode.</summary>
    internal static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        long n = x.shape[0];
        double lossSum = 0;
        long correct = 0;
        for (long start = 0; start < n; start += 1000)
        {
            using var scope = torch.NewDisposeScope();
            long count = Math.Min(1000, n - start);
            var logits = model.forward(x.narrow(0, start, count));
            var target = y.narrow(0, start, count);
            lossSum += nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(target).sum().item<long>();
        }
        return (lossSum / n, (double)correct / n);
    }

    /// <summary>The images as a float tensor [N, C, H, W] with <paramref name="preprocessing"/> applied, exactly as ExtractPixels computes it.</summary>
    internal static Tensor ToTensor(ImageSet images, ImagePreprocessing preprocessing)
    {
        TorchNative.EnsureLoaded();
        var bytes = tensor(images.Pixels.ToArray(), [images.Count, images.Channels, images.Height, images.Width]);
        using var floats = bytes.to_type(ScalarType.Float32);
        bytes.Dispose();
        return floats.sub(preprocessing.Offset).mul_(preprocessing.Scale);
    }

    static Tensor LabelTensor(ImageSet images) => tensor(images.Labels.ToArray().Select(l => (long)l).ToArray());

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

    static ImagePreprocessing Standardize(ImageSet train)
    {
        var pixels = train.Pixels.Span;
        double sum = 0, sumSquares = 0;
        foreach (byte p in pixels) { sum += p; sumSquares += (double)p * p; }
        double mean = sum / pixels.Length / 255.0;
        double std = Math.Sqrt(Math.Max(sumSquares / pixels.Length / (255.0 * 255.0) - (mean * mean), 1e-12));
        return ImagePreprocessing.Standardized(train.Width, train.Height, train.Channels == 1 ? ColorMode.Gray : ColorMode.Rgb, (float)mean, (float)std);
    }

    static void RequireSameShape(ImageSet train, ImageSet test)
    {
        if (train.Count == 0 || test.Count == 0) { throw new ArgumentException($"Training needs images in both sets; got {train.Count} training and {test.Count} test images."); }
        if (train.Channels != test.Channels || train.Height != test.Height || train.Width != test.Width || !train.ClassNames.SequenceEqual(test.ClassNames))
        {
            throw new ArgumentException($"Training images are {train.Channels}x{train.Height}x{train.Width} with classes [{string.Join(",", train.ClassNames)}] but test images are {test.Channels}x{test.Height}x{test.Width} with [{string.Join(",", test.ClassNames)}]; expected the same shape and classes.");
        }
    }

    static void RequireFits(ModelSpec spec, ImageSet train)
    {
        if (spec.InputChannels != train.Channels || spec.InputHeight != train.Height || spec.InputWidth != train.Width)
        {
            throw new ArgumentException($"Model '{spec.Name}' takes {spec.InputChannels}x{spec.InputHeight}x{spec.InputWidth} images but the data is {train.Channels}x{train.Height}x{train.Width}.");
        }
        if (spec.ClassCount != train.ClassNames.Count)
        {
            throw new ArgumentException($"Model '{spec.Name}' has {spec.ClassCount} outputs but the data has {train.ClassNames.Count} classes.");
        }
    }

    static void RequireSameRun(string path, CheckpointState saved, CheckpointState requested)
    {
        var differences = new List<string>();
        if (saved.ArchitectureJson != requested.ArchitectureJson) { differences.Add("the architecture"); }
        if (saved.BatchSize != requested.BatchSize) { differences.Add($"batch size {saved.BatchSize} (now {requested.BatchSize})"); }
        if (saved.LearningRate != requested.LearningRate) { differences.Add($"learning rate {saved.LearningRate} (now {requested.LearningRate})"); }
        if (saved.Seed != requested.Seed) { differences.Add($"seed {saved.Seed} (now {requested.Seed})"); }
        if (saved.TrainingImages != requested.TrainingImages) { differences.Add($"{saved.TrainingImages} training images (now {requested.TrainingImages})"); }
        if (saved.Normalize != requested.Normalize) { differences.Add($"normalize {saved.Normalize} (now {requested.Normalize})"); }
        if (differences.Count > 0)
        {
            throw new InvalidOperationException($"Cannot resume '{path}': it was trained with {string.Join(", ", differences)}. Resume with the same settings, or train into another folder.");
        }
    }
}
