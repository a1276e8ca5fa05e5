using MlPipeline.Scoring;

namespace MlPipeline.Data;

/// <summary>What <see cref="ImageFolderData.Load"/> made of a labelled image collection.</summary>
/// <param name="Data">The training, validation and test images as bytes, with the class names and a checksum of the files.</param>
/// <param name="Preprocessing">The size and colour mode the images were brought to (pixels as bytes: offset 0, scale 1).</param>
/// <param name="Failed">Files that could not be read or decoded, with the reason; they are left out.</param>
/// <param name="Warnings">Things worth knowing that did not stop the load: empty class folders left out, classes too small for their validation share.</param>
/// <param name="Ignored">Non-image files that were skipped.</param>
public sealed record ImageFolderLoad(TrainingData Data, ImagePreprocessing Preprocessing, IReadOnlyList<ScoreResult> Failed, IReadOnlyList<string> Warnings, int Ignored);
