namespace MlPipeline.Training;

/// <summary>
/// Where a run keeps its files and whether it continues them: the run folder (checkpoint, <c>history.json</c>,
/// <c>model.json</c>) and the resume settings. Part of <see cref="TrainingOptions"/>, checked by its <see cref="TrainingOptions.Validate"/>.
/// </summary>
public sealed record RunFolderOptions
{
    /// <summary>Folder of the run: checkpoint, <c>history.json</c>, <c>model.json</c>. Default: <c>runs/default</c>.</summary>
    public string OutputDirectory { get; init; } = Path.Combine("runs", "default");

    /// <summary>
    /// Continue from the run folder's checkpoint instead of starting afresh; the data must be the data the checkpoint
    /// was trained on (each class of each set compared by file count and checksum). Default: false.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>
    /// With <see cref="Resume"/>, continue even though the data differs from the checkpoint's (the run then records the
    /// new data's checksums). Default: false (changed data is an error naming what changed).
    /// </summary>
    public bool ResumeChangedData { get; init; }
}
