using MlPipeline.Training.Models;

namespace MlPipeline.Training;

/// <summary>
/// How <see cref="ClassifierTrainer"/> trains: the model and its hyper-parameters, with the run folder and resume settings
/// in <see cref="Run"/> and threads and the image limit in <see cref="Execution"/>. Every property has a documented
/// default; <see cref="Validate"/> checks them once.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>The largest <see cref="LearningRate"/> accepted: 10 (Adam steps are about the learning rate in size, so larger ones only diverge; float32 ends near 3.4e38).</summary>
    public const double MaxLearningRate = 10;

    /// <summary>The smallest <see cref="LearningRate"/> accepted: the smallest normal float32, about 1.18e-38 (libtorch keeps the rate as float32, so anything smaller is 0 or loses its precision).</summary>
    public const double MinLearningRate = 1.1754943508222875e-38;

    /// <summary>The largest <see cref="BatchSize"/> accepted: 65,536 images per step.</summary>
    public const int MaxBatchSize = 65_536;

    /// <summary>The run folder and whether the run continues its checkpoint. Default: <c>runs/default</c>, a new run.</summary>
    public RunFolderOptions Run { get; init; } = new();

    /// <summary>libtorch's threads and a limit on the training images. Default: libtorch's threads, every image.</summary>
    public ExecutionOptions Execution { get; init; } = new();

    /// <summary>The model: a built-in architecture by name (<c>cnn</c> or <c>mlp</c>) or a custom <see cref="ModelSpec"/>. Default: <c>cnn</c>.</summary>
    public ModelChoice Model { get; init; } = ModelChoice.FromName("cnn");

    /// <summary>Passes over the training set. Default: 5.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Images per optimisation step. Default: 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam's learning rate. Default: 0.001.</summary>
    public double LearningRate { get; init; } = 0.001;

    /// <summary>Seed for the initial weights and the per-epoch shuffle. Default: 42.</summary>
    public int Seed { get; init; } = 42;

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

    /// <summary>
    /// A pretrained backbone to train a head on (<c>resnet18</c>, see <see cref="Transfer.Backbone.KnownNames"/>),
    /// instead of training <see cref="Model"/> from scratch: the images (224×224 RGB) go once through the frozen backbone
    /// in ONNX Runtime, and only the head learns, from those features. Default: null (no backbone).
    /// </summary>
    public string? Backbone { get; init; }

    /// <summary>The head trained on the backbone's features. Default: <see cref="HeadKind.Linear"/>.</summary>
    public HeadKind Head { get; init; } = HeadKind.Linear;

    /// <summary>
    /// With a backbone, the features of this many augmented copies of each training image (drawn once, with
    /// <see cref="Augmentation"/>) are added to the training features; a frozen backbone cannot augment per epoch
    /// without running again. From 0 to <see cref="MaxAugmentCopies"/>. Default: 0.
    /// </summary>
    public int AugmentCopies { get; init; }

    /// <summary>
    /// With a backbone, how many of its last residual blocks train with the head, starting from their pretrained
    /// weights (the features are then their input, a map, and cost more memory and time per epoch). Default: 0 (the
    /// backbone is frozen whole).
    /// </summary>
    public int FineTuneBlocks { get; init; }

    /// <summary>The largest <see cref="AugmentCopies"/> accepted: 32.</summary>
    public const int MaxAugmentCopies = 32;

    /// <summary>The folder holding the backbone package's <c>DnnImageModels</c> contents. Default: null (found beside the application or in the NuGet packages folder).</summary>
    public string? BackboneDirectory { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public TrainingOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(Run);
        ArgumentNullException.ThrowIfNull(Execution);
        if (string.IsNullOrWhiteSpace(Run.OutputDirectory)) { throw new ArgumentException("OutputDirectory must name a folder.", nameof(RunFolderOptions.OutputDirectory)); }
        if (Model is null || (Model.Spec is null && !ModelSpec.BuiltInNames.Contains(Model.Name)))
        {
            throw new ArgumentException($"Model '{Model?.Name}' is unknown; expected one of {string.Join(", ", ModelSpec.BuiltInNames)}.", nameof(Model));
        }
        if (Epochs < 1) { throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1."); }
        if (BatchSize is < 1 or > MaxBatchSize) { throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"BatchSize must be from 1 to {MaxBatchSize}."); }
        if (!(LearningRate >= MinLearningRate) || !(LearningRate <= MaxLearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"LearningRate must be a normal positive float32, from {MinLearningRate:G9} to {MaxLearningRate}."));
        }
        if (Run.ResumeChangedData && !Run.Resume) { throw new ArgumentException("ResumeChangedData applies to a resumed run; set Resume too.", nameof(RunFolderOptions.ResumeChangedData)); }
        if (Execution.Threads is < 1 or > ExecutionOptions.MaxThreads) { throw new ArgumentOutOfRangeException(nameof(ExecutionOptions.Threads), Execution.Threads, $"Threads must be from 1 to {ExecutionOptions.MaxThreads}."); }
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
        ValidateTransfer();
        if (!Enum.IsDefined(Head)) { throw new ArgumentException($"Head {(int)Head} is unknown; expected linear or mlp.", nameof(Head)); }
        if (Execution.Limit is < 1) { throw new ArgumentOutOfRangeException(nameof(ExecutionOptions.Limit), Execution.Limit, "Limit must be at least 1."); }
        return this;
    }

    /// <summary>The backbone settings: a known backbone without a custom model or own normalisation, its copies and fine-tuned blocks; without one, neither.</summary>
    void ValidateTransfer()
    {
        if (Backbone is not null)
        {
            if (!Transfer.Backbone.KnownNames.Contains(Backbone))
            {
                throw new ArgumentException($"Backbone '{Backbone}' is not known; expected one of: {string.Join(", ", Transfer.Backbone.KnownNames)}.", nameof(Backbone));
            }
            if (Model.Spec is not null) { throw new ArgumentException("Give either Backbone (a head trained on its features) or a custom Model, not both.", nameof(Model)); }
            if (Normalize || Means is not null) { throw new ArgumentException($"The {Backbone} backbone brings its own input normalisation; leave out Normalize (--normalize) and Means/Stds (--mean/--std).", nameof(Normalize)); }
            if (FineTuneBlocks < 0) { throw new ArgumentOutOfRangeException(nameof(FineTuneBlocks), FineTuneBlocks, "FineTuneBlocks must be 0 or more."); }
            if (AugmentCopies is < 0 or > MaxAugmentCopies) { throw new ArgumentOutOfRangeException(nameof(AugmentCopies), AugmentCopies, $"AugmentCopies must be from 0 to {MaxAugmentCopies}."); }
            if (AugmentCopies > 0 && Augmentation.IsNone) { throw new ArgumentException($"AugmentCopies ({AugmentCopies}) needs an Augmentation (--augment) to draw the copies with.", nameof(AugmentCopies)); }
            if (AugmentCopies == 0 && !Augmentation.IsNone)
            {
                throw new ArgumentException($"With a frozen backbone, augmentation means features of augmented copies computed once: give AugmentCopies (--augment-copies N) with Augmentation '{Augmentation}'.", nameof(AugmentCopies));
            }
        }
        else if (FineTuneBlocks != 0)
        {
            throw new ArgumentException($"FineTuneBlocks ({FineTuneBlocks}) applies to training on a Backbone.", nameof(FineTuneBlocks));
        }
        else if (AugmentCopies != 0)
        {
            throw new ArgumentException($"AugmentCopies ({AugmentCopies}) applies to training on a Backbone; without one, Augmentation changes every epoch's images.", nameof(AugmentCopies));
        }
    }
}
