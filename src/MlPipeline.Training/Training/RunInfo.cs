using MlPipeline.Scoring;
using MlPipeline.Training.Models;

namespace MlPipeline.Training;

/// <summary>The description of a trained model stored as <c>model.json</c> in its run folder.</summary>
/// <param name="Architecture">The layers, as data.</param>
/// <param name="Preprocessing">How images become inputs (size, colour, offset and scale).</param>
/// <param name="Labels">Class names, indexed by the model's output.</param>
/// <param name="Seed">Seed of the run.</param>
/// <param name="Epochs">Epochs finished.</param>
/// <param name="BatchSize">Batch size of the run.</param>
/// <param name="LearningRate">Adam learning rate of the run.</param>
/// <param name="TrainingImages">Training images used.</param>
/// <param name="DataChecksums">Checksums of the training data files.</param>
/// <param name="TestAccuracy">Test accuracy after the last epoch, when one finished.</param>
/// <param name="Version">MlPipeline version that trained it.</param>
public sealed record RunInfo(
    ModelSpec Architecture,
    ImagePreprocessing Preprocessing,
    IReadOnlyList<string> Labels,
    int Seed,
    int Epochs,
    int BatchSize,
    double LearningRate,
    int TrainingImages,
    IReadOnlyDictionary<string, string> DataChecksums,
    double? TestAccuracy,
    string Version)
{
    /// <summary>How the run trained beyond the batch, rate and seed (null in runs written before it was recorded).</summary>
    public TrainingSettings? Training { get; init; }

    /// <summary>With early stopping, the epoch whose weights the model has (from the run folder's <c>best.bin</c>); null otherwise.</summary>
    public int? BestEpoch { get; init; }

    /// <summary>For a head trained on a frozen backbone's features, the backbone (the model's input is then its 224×224 RGB image); null otherwise.</summary>
    public TransferSettings? Backbone { get; init; }
}

/// <summary>The frozen backbone a head was trained on, as <c>model.json</c> records it.</summary>
/// <param name="Name">The backbone, for example <c>resnet18</c>.</param>
/// <param name="Package">The NuGet package its files came from.</param>
/// <param name="PackageVersion">That package's version.</param>
/// <param name="ModelChecksum">SHA-256 of the backbone's ONNX file; export refuses a different file.</param>
/// <param name="Head">The head's kind.</param>
/// <param name="AugmentCopies">Augmented copies of each training image whose features were added.</param>
/// <param name="FineTunedBlocks">The backbone's last residual blocks trained with the head (0: the backbone is frozen whole).</param>
public sealed record TransferSettings(string Name, string Package, string PackageVersion, string ModelChecksum, Models.HeadKind Head, int AugmentCopies, int FineTunedBlocks = 0);

/// <summary>The training settings a run records in <c>model.json</c>.</summary>
/// <param name="Augmentation">The augmentation, in <see cref="Augmentation.Parse"/>'s list form.</param>
/// <param name="Schedule">The learning-rate schedule.</param>
/// <param name="WeightDecay">AdamW's weight decay (0: Adam).</param>
/// <param name="LabelSmoothing">Label smoothing of the training loss.</param>
/// <param name="ClassWeights">How classes weighed in the loss.</param>
/// <param name="EarlyStopping">Early stopping, when used.</param>
public sealed record TrainingSettings(string Augmentation, LearningRateSchedule Schedule, double WeightDecay, double LabelSmoothing, ClassWeighting ClassWeights, EarlyStopping? EarlyStopping);
