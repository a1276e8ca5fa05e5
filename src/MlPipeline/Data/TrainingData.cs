namespace MlPipeline.Data;

/// <summary>A training set and a test set with the same shape and classes, and checksums of where they came from.</summary>
/// <param name="Train">Images the model learns from.</param>
/// <param name="Test">Held-out images the model is scored on after every epoch.</param>
/// <param name="Checksums">A checksum of each source file, by file name (recorded with the trained model).</param>
public sealed record TrainingData(ImageSet Train, ImageSet Test, IReadOnlyDictionary<string, string> Checksums);
