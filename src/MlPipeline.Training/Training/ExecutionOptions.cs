namespace MlPipeline.Training;

/// <summary>
/// How much of the machine and of the data a run uses: libtorch's threads and a limit on the training images. Part of
/// <see cref="TrainingOptions"/>, checked by its <see cref="TrainingOptions.Validate"/>.
/// </summary>
public sealed record ExecutionOptions
{
    /// <summary>The largest <see cref="Threads"/> accepted: 256 (libtorch starts one OS thread for each).</summary>
    public const int MaxThreads = 256;

    /// <summary>libtorch's intra-op threads; null leaves libtorch's default (one per core). Default: null.</summary>
    public int? Threads { get; init; }

    /// <summary>Use only the first N training images (the test set is kept whole). Default: null (all).</summary>
    public int? Limit { get; init; }
}
