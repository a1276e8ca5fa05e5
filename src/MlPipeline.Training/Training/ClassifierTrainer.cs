using System.Reflection;
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
/// a run folder that a later call with <see cref="RunFolderOptions.Resume"/> continues bit-for-bit.
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
        var plan = TrainingPlan.Create(data, options);
        using var folder = RunFolder.Open(options.Run.OutputDirectory);
        try
        {
            return Train(folder, data, plan, options, progress, cancellationToken);
        }
        catch
        {
            folder.Abandon();
            throw;
        }
    }

    /// <summary>
    /// Trains on <paramref name="data"/> into <paramref name="folder"/>, a run folder the caller opened (and locked)
    /// before reading the data, for example to keep decoded-image cache files there
    /// (<see cref="ImageFolderOptions.CacheDirectory"/>). The caller disposes it. Otherwise as the overload that opens
    /// <see cref="RunFolderOptions.OutputDirectory"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An option or the data is invalid, or <paramref name="folder"/> is not <see cref="RunFolderOptions.OutputDirectory"/>.</exception>
    /// <exception cref="InvalidOperationException">The run folder holds a different run, or TorchSharp cannot load.</exception>
    public static TrainingResult Train(TrainingData data, TrainingOptions options, RunFolder folder, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(folder);
        options.Validate();
        if (Path.GetFullPath(options.Run.OutputDirectory) != folder.Path)
        {
            throw new ArgumentException($"The run folder '{folder.Path}' is not the options' OutputDirectory '{Path.GetFullPath(options.Run.OutputDirectory)}'; give the folder opened for that path.", nameof(folder));
        }
        return Train(folder, data, TrainingPlan.Create(data, options), options, progress, cancellationToken);
    }

    static TrainingResult Train(RunFolder folder, TrainingData data, TrainingPlan plan, TrainingOptions options,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        RequireResumable(folder, options);

        TorchNative.EnsureLoaded();
        if (options.Execution.Threads is { } threads) { torch.set_num_threads(threads); }
        using var scope = torch.NewDisposeScope();
        var (model, optimizer) = BuildModel(plan, options);
        var state = StartState(folder[RunFolder.CheckpointFile], data, plan, options, model, optimizer);

        // Only once the run is known to go ahead, so a refused run changes nothing in the folder; the image caches
        // replaced by this run's (kept in case it was refused) are no longer needed.
        WriteDataErrors(folder, data.Failed);
        MlPipeline.Data.ImageCache.RemovePrevious(folder.Path);
        using var transfer = plan.Backbone is { } backbone ? new Transfer.TransferInputs(backbone, plan, options, folder, progress, cancellationToken) : null;
        // Images are converted to floats a batch at a time; a backbone's features are computed once, before the epochs,
        // into the run folder's cache, and read from it a batch at a time.
        Func<ImageSet, bool, ModelInputs> inputs = transfer is null
            ? (set, _) => new ImageInputs(set, plan.Preprocessing)
            : transfer.Inputs;
        EpochLoop loop;
        try
        {
            transfer?.Prepare();
            loop = new EpochLoop(model, optimizer, plan, options, folder, inputs);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && transfer is not null)
        {
            // Stopped while computing features: those computed are in the cache; the same call starts again from there.
            return new TrainingResult(folder.Path, [], Completed: false) { Features = transfer.Statistics };
        }
        using var loopScope = loop;
        var outcome = loop.Run(state, progress, cancellationToken);
        if (!outcome.Completed) { return new TrainingResult(folder.Path, outcome.History, Completed: false) { Features = transfer?.Statistics }; }
        // With early stopping the finished model is the best epoch's.
        if (outcome.BestEpoch is not null) { Checkpoint.Load(folder[RunFolder.BestCheckpointFile], model, optimizer: null); }
        return Finish(folder, data, plan, options, model, loop, inputs, transfer, outcome);
    }

    /// <summary>The plan's model, seeded and initialised, and its optimizer (Adam, or AdamW with weight decay).</summary>
    static (Sequential Model, optim.Optimizer Optimizer) BuildModel(TrainingPlan plan, TrainingOptions options)
    {
        torch.manual_seed(options.Seed);
        var model = ModuleFactory.Build(plan.Spec);
        if (options.Initialization == WeightInitialization.Glorot) { ModuleFactory.InitializeGlorot(model); }
        // Fine-tuned backbone blocks start from their pretrained weights (a resumed run then loads its checkpoint over them).
        if (plan.Cut?.Weights is { Count: > 0 } pretrained) { ModuleFactory.Load(model, pretrained, requireAll: false); }
        optim.Optimizer optimizer = options.WeightDecay > 0
            ? optim.AdamW(model.parameters(), options.LearningRate, weight_decay: options.WeightDecay)
            : optim.Adam(model.parameters(), options.LearningRate);
        return (model, optimizer);
    }

    /// <summary>The state the epochs start from: a fresh one, or with a resume the checkpoint's, loaded into the model once it is known to fit.</summary>
    static CheckpointState StartState(string checkpointPath, TrainingData data, TrainingPlan plan, TrainingOptions options, Sequential model, optim.Optimizer optimizer)
    {
        var state = plan.FreshState(options) with { DataChecksums = data.Checksums, DataClasses = data.ClassChecksums };
        if (!options.Run.Resume) { return state; }
        // The settings and the data are compared before any weight is loaded, so that a change is named (another
        // class, size or model) instead of surfacing as a tensor that does not fit.
        var recorded = Checkpoint.ReadState(checkpointPath);
        if (!options.Run.ResumeChangedData) { DataChanges.RequireSame(checkpointPath, recorded, state); }
        RequireSameRun(checkpointPath, recorded, state, ResumeSettings.Of(options), options.Run.ResumeChangedData);
        var saved = Checkpoint.Load(checkpointPath, model, optimizer);
        // From here on the run records the data it now trains on.
        return saved with { DataChecksums = state.DataChecksums, DataClasses = state.DataClasses };
    }

    /// <summary>Evaluates the finished model on the test set and writes its description and metrics into the run folder.</summary>
    static TrainingResult Finish(RunFolder folder, TrainingData data, TrainingPlan plan, TrainingOptions options, Sequential model, EpochLoop loop,
        Func<ImageSet, bool, ModelInputs> inputs, Transfer.TransferInputs? transfer, LoopResult outcome)
    {
        var history = outcome.History;
        // The final figures go through the same ML.NET evaluation as `evaluate`, so the two report alike.
        using var testInputs = ReferenceEquals(plan.Test, plan.Validation) ? null : inputs(plan.Test, false);
        var testMetrics = ClassificationMetrics.Compute(plan.Train.ClassNames, [.. plan.Test.Labels.ToArray()], TrainingTensors.Probabilities(model, testInputs ?? loop.ValidationInputs, TrainingTensors.Chunk(plan.Spec)));
        var info = new RunInfo(plan.Spec, plan.Preprocessing, plan.Train.ClassNames, options.Seed, history.Count, options.BatchSize, options.LearningRate,
            plan.Train.Count, data.Checksums, testMetrics.MicroAccuracy, Version)
        {
            Training = new TrainingSettings(options.Augmentation.ToString(), options.Schedule, options.WeightDecay, options.LabelSmoothing, options.ClassWeights, options.EarlyStopping),
            BestEpoch = outcome.BestEpoch,
            Backbone = plan.Backbone is { } b ? new TransferSettings(b.Name, b.Package, b.PackageVersion, transfer!.BackboneChecksum, options.Head, options.AugmentCopies, options.FineTuneBlocks) : null,
        };
        Json.Write(folder[RunFolder.ModelFile], info);
        MlPipeline.Internals.AtomicFile.WriteAllText(folder[RunFolder.MetricsFile], testMetrics.ToJson() + "\n");
        return new TrainingResult(folder.Path, history, Completed: true, testMetrics) { BestEpoch = outcome.BestEpoch, Features = transfer?.Statistics };
    }

    /// <summary>Lists the files the data loader could not read in the run folder, or removes a stale list when there are none.</summary>
    static void WriteDataErrors(RunFolder folder, IReadOnlyList<ScoreResult> failed)
    {
        string path = folder[RunFolder.DataErrorsFile];
        if (failed.Count == 0)
        {
            if (File.Exists(path)) { File.Delete(path); }
            return;
        }
        MlPipeline.Internals.AtomicFile.WriteAllText(path, MlPipeline.Internals.Csv.Format(
            [["path", "error"], .. failed.Select(f => (IReadOnlyList<string>)[f.Path, f.Error ?? ""])]));
    }

    /// <summary>MlPipeline's version, recorded in every model.</summary>
    public static string Version { get; } =
        typeof(ClassifierTrainer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>The two models in words: name and input, else that their layers differ.</summary>
    static string DescribeArchitectures(string savedJson, string requestedJson)
    {
        static string Describe(string json)
        {
            try
            {
                var spec = System.Text.Json.JsonSerializer.Deserialize<ModelSpec>(json, Json.Options);
                return spec is null ? "an unreadable architecture" : $"model '{spec.Name}' on {spec.InputChannels}x{spec.InputHeight}x{spec.InputWidth} inputs";
            }
            catch (System.Text.Json.JsonException)
            {
                return "an unreadable architecture";
            }
        }
        string saved = Describe(savedJson), requested = Describe(requestedJson);
        return saved != requested ? $"{saved} (now {requested})" : $"other layers for {saved} (another head, number of classes or fine-tuned blocks)";
    }

    /// <summary>
    /// Refuses, before any data is read, a run the folder cannot take: a resume without a checkpoint, a new run into a
    /// folder that holds one (<see cref="RunFolder.RequireResumable"/>), and a resume whose batch size, learning rate,
    /// seed or other training options (<see cref="ResumeSettings"/>) differ from the checkpoint's. What
    /// depends on the data (the model's layers, image size and colour, normalisation, the files) is checked by
    /// <see cref="Train(TrainingData, TrainingOptions, RunFolder, IProgress{TrainingProgress}?, CancellationToken)"/>
    /// once the data is read. Training checks all of this itself; call this first so that a mistyped resume costs no decoding.
    /// </summary>
    /// <exception cref="InvalidOperationException">The folder cannot take this run (the message names each difference).</exception>
    /// <exception cref="InvalidDataException">The folder's checkpoint cannot be read.</exception>
    public static void RequireResumable(RunFolder folder, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(options);
        folder.RequireResumable(options.Run.Resume);
        if (!options.Run.Resume) { return; }
        string path = folder[RunFolder.CheckpointFile];
        var differences = OptionDifferences(Checkpoint.ReadState(path), options.BatchSize, options.LearningRate, options.Seed, ResumeSettings.Of(options));
        if (differences.Count > 0) { throw CannotResume(path, differences); }
    }

    /// <summary>The differences in what the options alone set: batch size, learning rate, seed and the other settings.</summary>
    static List<string> OptionDifferences(CheckpointState saved, int batchSize, double learningRate, int seed, ResumeSettings settings)
    {
        var differences = new List<string>();
        if (saved.BatchSize != batchSize) { differences.Add($"batch size {saved.BatchSize} (now {batchSize})"); }
        if (saved.LearningRate != learningRate) { differences.Add($"learning rate {saved.LearningRate} (now {learningRate})"); }
        if (saved.Seed != seed) { differences.Add($"seed {saved.Seed} (now {seed})"); }
        if (saved.RunSettings is { } structured) { differences.AddRange(structured.Differences(settings)); }
        // A checkpoint of an earlier version has the settings in words only.
        else if (saved.Settings is not null && saved.Settings != settings.Text) { differences.Add($"{saved.Settings} (now {settings.Text})"); }
        return differences;
    }

    static InvalidOperationException CannotResume(string path, List<string> differences) =>
        new($"Cannot resume '{path}': it was trained with {string.Join(", ", differences)}. Resume with the same settings, or train into another folder.");

    /// <summary>
    /// Refuses a resume whose settings differ from the checkpoint's, naming each. With <paramref name="changedData"/> the
    /// number of training images may differ too (files added or removed): the run goes on with the new set's order.
    /// </summary>
    static void RequireSameRun(string path, CheckpointState saved, CheckpointState requested, ResumeSettings settings, bool changedData)
    {
        var differences = new List<string>();
        if (saved.ArchitectureJson != requested.ArchitectureJson) { differences.Add(DescribeArchitectures(saved.ArchitectureJson, requested.ArchitectureJson)); }
        if (saved.Geometry is not null && saved.Geometry != requested.Geometry) { differences.Add($"images read as {saved.Geometry} (now {requested.Geometry})"); }
        differences.AddRange(OptionDifferences(saved, requested.BatchSize, requested.LearningRate, requested.Seed, settings));
        if (saved.TrainingImages != requested.TrainingImages && !changedData) { differences.Add($"{saved.TrainingImages} training images (now {requested.TrainingImages})"); }
        if (saved.Normalization != requested.Normalization) { differences.Add($"pixel {saved.Normalization ?? "normalisation of an older version"} (now {requested.Normalization})"); }
        if (differences.Count > 0) { throw CannotResume(path, differences); }
    }
}
