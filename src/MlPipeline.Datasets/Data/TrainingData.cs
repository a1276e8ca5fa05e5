using MlPipeline.Scoring;

namespace MlPipeline.Data;

/// <summary>A training set and a test set with the same shape and classes, and checksums of where they came from.</summary>
/// <param name="Train">Images the model learns from.</param>
/// <param name="Test">Held-out images the finished model is scored on (and, without <see cref="Validation"/>, after every epoch).</param>
/// <param name="Checksums">A checksum of each source, by name (recorded with the trained model).</param>
public sealed record TrainingData(ImageSet Train, ImageSet Test, IReadOnlyDictionary<string, string> Checksums)
{
    /// <summary>Images the per-epoch figures are computed on, when they differ from <see cref="Test"/>. Default: null (use <see cref="Test"/>).</summary>
    public ImageSet? Validation { get; init; }

    /// <summary>Files that could not be read while loading, with the reason; training lists them in its run folder. Default: none.</summary>
    public IReadOnlyList<ScoreResult> Failed { get; init; } = [];

    /// <summary>
    /// How image files were read into these sets (resize mode, background of transparent pixels), recorded with the
    /// trained model so that scoring reads files the same way. Default: null (not read from files: stretch, as stored).
    /// </summary>
    public ImagePreprocessing? Source { get; init; }

    /// <summary>
    /// A checksum of each class of each set read from files, compared when a run is resumed, so that changed data is
    /// named by set and class. Default: none (the data did not come from files; <see cref="Checksums"/> is compared).
    /// </summary>
    public IReadOnlyList<ClassChecksum> ClassChecksums { get; init; } = [];
}
