using MlPipeline.Data;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// The cache keys of an image set's rows, in row order: of the images themselves, or of augmented copy number
/// <see cref="Copy"/> of them. What <see cref="FeatureExtractor.Features"/> makes sure is cached, and what
/// <see cref="CachedFeatureInputs"/> reads back; holds no features (32 bytes a row).
/// </summary>
/// <param name="Name">The rows in progress reports: <c>training</c>, <c>training copy 2/4</c>, <c>validation</c> or <c>test</c>.</param>
/// <param name="Set">The images.</param>
/// <param name="Augmenter">For a copy, what draws it; null for the images themselves.</param>
/// <param name="Copy">The copy's number (1, 2, …); 0 for the images themselves.</param>
/// <param name="Keys">Each row's cache key.</param>
internal sealed record FeatureRows(string Name, ImageSet Set, Augmenter? Augmenter, int Copy, FeatureCache.Key[] Keys)
{
    /// <summary>How many rows there are.</summary>
    public int Count => Keys.Length;
}
