using MlPipeline.Training.Models;

namespace MlPipeline.Training;

/// <summary>How <see cref="ClassifierTrainer"/> trains. Every property has a documented default; <see cref="Validate"/> checks them once.</summary>
public sealed record TrainingOptions
{
    /// <summary>The largest <see cref="LearningRate"/> accepted: 10 (Adam steps are about the learning rate in size, so larger ones only diverge; float32 ends near 3.4e38).</summary>
    public const double MaxLearningRate = 10;

    /// <summary>The largest <see cref="Threads"/> accepted: 256 (libtorch starts one OS thread for each).</summary>
    public const int MaxThreads = 256;

    /// <summary>The largest <see cref="BatchSize"/> accepted: 65,536 images per step.</summary>
    public const int MaxBatchSize = 65_536;

    /// <summary>Folder of the run: checkpoint, <c>history.json</c>, <c>model.json</c>. Default: <c>runs/default</c>.</summary>
    public string OutputDirectory { get; init; } = Path.Combine("runs", "default");

    /// <summary>Built-in architecture name (<c>cnn</c> or <c>mlp</c>), used unless <see cref="Architecture"/> is set. Default: <c>cnn</c>.</summary>
    public string Model { get; init; } = "cnn";

    /// <summary>A custom architecture; overrides <see cref="Model"/>. Default: null.</summary>
    public ModelSpec? Architecture { get; init; }

    /// <summary>Passes over the training set. Default: 5.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Images per optimisation step. Default: 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam's learning rate. Default: 0.001.</summary>
    public double LearningRate { get; init; } = 0.001;

    /// <summary>Seed for the initial weights and the per-epoch shuffle. Default: 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>libtorch's intra-op threads; null leaves libtorch's default (one per core). Default: null.</summary>
    public int? Threads { get; init; }

    /// <summary>Use only the first N training images (the test set is kept whole). Default: null (all).</summary>
    public int? Limit { get; init; }

    /// <summary>
    /// Standardise each channel with the training split's own mean and standard deviation (of pixels in [0, 1]) instead
    /// of scaling to [0, 1]. Default: false.
    /// </summary>
    public bool Normalize { get; init; }

    /// <summary>
    /// Given means of pixels in [0, 1], one value or one per channel (with <see cref="Stds"/>, instead of
    /// <see cref="Normalize"/>): inputs are <c>(p/255 - mean[c]) / std[c]</c>. Default: null.
    /// </summary>
    public IReadOnlyList<float>? Means { get; init; }

    /// <summary>Given standard deviations of pixels in [0, 1], one value or one per channel (with <see cref="Means"/>). Default: null.</summary>
    public IReadOnlyList<float>? Stds { get; init; }

    /// <summary>Random changes to training images (never to validation or test images). Default: <see cref="Augmentation.None"/>.</summary>
    public Augmentation Augmentation { get; init; } = Augmentation.None;

    /// <summary>Stop when the validation figures stop improving and keep the best epoch's weights; needs a validation set. Default: null (train every epoch).</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>How the learning rate changes over the run. Default: <see cref="LearningRateSchedule.Constant"/>.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>Decoupled weight decay; above 0 the optimiser is AdamW instead of Adam. Default: 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Label smoothing of the training loss, from 0 to below 1 (validation loss stays plain cross-entropy). Default: 0.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>How classes weigh in the training loss. Default: <see cref="ClassWeighting.None"/>.</summary>
    public ClassWeighting ClassWeights { get; init; } = ClassWeighting.None;

    /// <summary>How weights start: PyTorch's default (Kaiming-uniform) or Keras's (Glorot-uniform, zero biases). Default: <see cref="WeightInitialization.Glorot"/>.</summary>
    public WeightInitialization Initialization { get; init; } = WeightInitialization.Glorot;

    /// <summary>Continue from the run folder's checkpoint instead of starting afresh. Default: false.</summary>
    public bool Resume { get; init; }

    /// <summary>The architecture to train for images of the given shape.</summary>
    public ModelSpec ResolveArchitecture(int classes, int channels, int height, int width) =>
        Architecture ?? ModelSpec.FromName(Model, classes, channels, height, width);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public TrainingOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory)) { throw new ArgumentException("OutputDirectory must name a folder.", nameof(OutputDirectory)); }
        if (Architecture is null && !ModelSpec.BuiltInNames.Contains(Model))
        {
            throw new ArgumentException($"Model '{Model}' is unknown; expected one of {string.Join(", ", ModelSpec.BuiltInNames)}.", nameof(Model));
        }
        if (Epochs < 1) { throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1."); }
        if (BatchSize is < 1 or > MaxBatchSize) { throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"BatchSize must be from 1 to {MaxBatchSize}."); }
        if (!(LearningRate > 0) || !(LearningRate <= MaxLearningRate)) { throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, $"LearningRate must be above 0 and at most {MaxLearningRate}."); }
        if (Threads is < 1 or > MaxThreads) { throw new ArgumentOutOfRangeException(nameof(Threads), Threads, $"Threads must be from 1 to {MaxThreads}."); }
        if ((Means is null) != (Stds is null)) { throw new ArgumentException("Means and Stds go together; give both or neither.", nameof(Means)); }
        if (Means is not null && Normalize) { throw new ArgumentException("Give either Normalize (statistics of the training split) or Means and Stds, not both.", nameof(Normalize)); }
        if (Means is { } means && Stds is { } stds)
        {
            if (means.Count == 0 || stds.Count == 0 || means.Any(m => !float.IsFinite(m)) || stds.Any(s => !(s > 0) || !float.IsFinite(s)))
            {
                throw new ArgumentException($"Means ({Scoring.ImagePreprocessing.Join(means)}) must be finite and Stds ({Scoring.ImagePreprocessing.Join(stds)}) positive and finite, one value or one per channel.", nameof(Means));
            }
        }
        Augmentation.Validate();
        EarlyStopping?.Validate();
        if (!Enum.IsDefined(Schedule)) { throw new ArgumentException($"Schedule {(int)Schedule} is unknown; expected constant, onecycle, cosine or plateau.", nameof(Schedule)); }
        if (!Enum.IsDefined(ClassWeights)) { throw new ArgumentException($"ClassWeights {(int)ClassWeights} is unknown; expected none or balanced.", nameof(ClassWeights)); }
        if (!(WeightDecay >= 0 && WeightDecay <= 1)) { throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be from 0 to 1."); }
        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1)) { throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), LabelSmoothing, "LabelSmoothing must be from 0 to below 1."); }
        if (Limit is < 1) { throw new ArgumentOutOfRangeException(nameof(Limit), Limit, "Limit must be at least 1."); }
        return this;
    }
}
