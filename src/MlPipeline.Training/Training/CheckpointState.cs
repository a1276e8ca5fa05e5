using MlPipeline.Evaluation;

namespace MlPipeline.Training;

/// <summary>Where a run stands, stored at the head of its checkpoint: enough to continue bit-for-bit.</summary>
internal sealed record CheckpointState(
    string ArchitectureJson,
    int BatchSize,
    double LearningRate,
    int Seed,
    int TrainingImages,
    string? Normalization,
    int EpochsDone,
    int StepsDone,
    double LossSum,
    long Correct,
    long Seen,
    double Seconds,
    IReadOnlyList<EpochMetrics> History)
{
    /// <summary>The run's other training settings (augmentation, schedule, weight decay, label smoothing, class weights, early stopping) in words, compared on resume.</summary>
    public string? Settings { get; init; }

    /// <summary>The same settings as a structure, compared field by field on resume (null in checkpoints of earlier versions, which compare <see cref="Settings"/>).</summary>
    public ResumeSettings? RunSettings { get; init; }

    /// <summary>How images are read (colour mode, resizing, layout, background, EXIF orientation) in words, compared on resume (null in checkpoints of earlier versions).</summary>
    public string? Geometry { get; init; }

    /// <summary>The checksum of each data source, as <see cref="MlPipeline.Data.TrainingData.Checksums"/> gave them (null in checkpoints of earlier versions).</summary>
    public IReadOnlyDictionary<string, string>? DataChecksums { get; init; }

    /// <summary>The file count and checksum of each class of each set read from files (empty for data sets such as MNIST).</summary>
    public IReadOnlyList<MlPipeline.Data.ClassChecksum>? DataClasses { get; init; }
}
