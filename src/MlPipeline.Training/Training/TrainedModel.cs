using MlPipeline.Training.Internals;
using MlPipeline.Training.Models;
using MlPipeline.Training.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>A trained model loaded from its run folder, in inference mode. Owns native TorchSharp memory: dispose it.</summary>
public sealed class TrainedModel : IDisposable
{
    readonly Sequential module;

    TrainedModel(RunInfo info, Sequential module)
    {
        Info = info;
        this.module = module;
    }

    /// <summary>The model's description (architecture, preprocessing, labels, provenance).</summary>
    public RunInfo Info { get; }

    /// <summary>The architecture.</summary>
    public ModelSpec Architecture => Info.Architecture;

    internal Sequential Module => module;

    /// <summary>Loads the weights of the last checkpoint in <paramref name="runDirectory"/> with its <c>model.json</c>.</summary>
    /// <exception cref="FileNotFoundException">The folder lacks model.json or the checkpoint.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt or does not match the architecture.</exception>
    public static TrainedModel Load(string runDirectory)
    {
        ArgumentNullException.ThrowIfNull(runDirectory);
        MlPipeline.Internals.FileSystem.RequireDirectory(runDirectory, "Run folder");
        string modelFile = Path.Combine(runDirectory, RunFolder.ModelFile);
        if (!File.Exists(modelFile))
        {
            string checkpoint = Path.Combine(runDirectory, RunFolder.CheckpointFile);
            throw File.Exists(checkpoint)
                ? new InvalidOperationException($"Run '{runDirectory}' is unfinished ({Checkpoint.ReadState(checkpoint).EpochsDone} epoch(s) done, no {RunFolder.ModelFile} yet); finish it with 'mlpipeline train --out {runDirectory} --resume' and the options it was started with.")
                : new FileNotFoundException($"'{runDirectory}' is not a training run: it holds neither {RunFolder.ModelFile} nor {RunFolder.CheckpointFile}.", modelFile);
        }
        var info = Json.Read<RunInfo>(modelFile);
        if (info.Architecture?.Layers is null || info.Preprocessing is null || info.Labels is null)
        {
            throw new InvalidDataException($"'{Path.Combine(runDirectory, ClassifierTrainer.ModelInfoFileName)}' lacks the architecture, preprocessing or labels.");
        }
        TorchNative.EnsureLoaded();
        Sequential module;
        try
        {
            module = ModuleFactory.Build(info.Architecture);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{Path.Combine(runDirectory, ClassifierTrainer.ModelInfoFileName)}' describes an invalid architecture: {e.Message}", e);
        }
        try
        {
            // With early stopping the finished model is the best epoch's weights, kept apart from the last checkpoint.
            Checkpoint.Load(Path.Combine(runDirectory, info.BestEpoch is null ? RunFolder.CheckpointFile : RunFolder.BestCheckpointFile), module, optimizer: null);
            module.eval();
            return new TrainedModel(info, module);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Builds a model from its description and explicit weights (state-dict names such as <c>0.weight</c>), for
    /// models trained elsewhere or made by hand. Every parameter of the architecture must be given, with its exact size.
    /// </summary>
    public static TrainedModel FromWeights(RunInfo info, IReadOnlyDictionary<string, float[]> weights)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(weights);
        TorchNative.EnsureLoaded();
        var module = ModuleFactory.Build(info.Architecture);
        try
        {
            ModuleFactory.Load(module, weights, requireAll: true);
            module.eval();
            return new TrainedModel(info, module);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the model on <paramref name="batch"/> images already preprocessed ([N, C, H, W] floats, row-major) and
    /// returns the logits, [N, classes] row-major. For a head trained on a backbone (<see cref="RunInfo.Backbone"/>),
    /// the inputs are the backbone's features at the cut (the architecture's input shape), not images.
    /// </summary>
    public float[] Logits(ReadOnlySpan<float> batch, int count)
    {
        var spec = Architecture;
        long imageSize = (long)spec.InputChannels * spec.InputHeight * spec.InputWidth;
        if (count < 1 || batch.Length != imageSize * count)
        {
            throw new ArgumentException($"Expected {count} images of {spec.InputChannels}x{spec.InputHeight}x{spec.InputWidth} ({imageSize * count} floats) but got {batch.Length} floats.", nameof(batch));
        }
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var input = tensor(batch.ToArray(), [count, spec.InputChannels, spec.InputHeight, spec.InputWidth]);
        return module.forward(input).data<float>().ToArray();
    }

    /// <summary>Every parameter and buffer by state-dict name, as flat float arrays (for comparing runs).</summary>
    public IReadOnlyDictionary<string, float[]> Weights()
    {
        using var scope = torch.NewDisposeScope();
        return module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float32).data<float>().ToArray());
    }

    /// <summary>
    /// Writes this model as a finished run folder (<c>model.json</c> and a checkpoint with fresh optimiser state), so
    /// that weights made by hand can be exported, verified or resumed like a trained run's.
    /// </summary>
    internal void SaveRun(string directory)
    {
        Directory.CreateDirectory(directory);
        var optimizer = optim.Adam(module.parameters(), Info.LearningRate);
        var state = new CheckpointState(System.Text.Json.JsonSerializer.Serialize(Info.Architecture, Json.Options), Info.BatchSize, Info.LearningRate,
            Info.Seed, Info.TrainingImages, Info.Preprocessing.DescribeNormalization(), Info.Epochs, 0, 0, 0, 0, 0, [])
        {
            // model.json records the sources' checksums (not each class's), so a resume compares those.
            DataChecksums = Info.DataChecksums,
        };
        Checkpoint.Save(Path.Combine(directory, RunFolder.CheckpointFile), state, module, optimizer);
        Json.Write(Path.Combine(directory, RunFolder.ModelFile), Info);
    }

    /// <summary>Frees the native weights.</summary>
    public void Dispose() => module.Dispose();
}
