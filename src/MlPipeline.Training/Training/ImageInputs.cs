using MlPipeline.Data;
using MlPipeline.Scoring;
using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>An image set's pixels (in memory or read from its cache file), gathered, converted to floats and normalised for each batch: the same values as converting the whole set at once, element for element.</summary>
internal sealed class ImageInputs(ImageSet images, ImagePreprocessing preprocessing) : ModelInputs
{
    /// <inheritdoc/>
    public override long Count => images.Count;

    /// <inheritdoc/>
    public override Tensor Rows(long[] indices)
    {
        var bytes = new byte[(long)indices.Length * images.ImageSize];
        images.CopyImages([.. indices.Select(i => checked((int)i))], bytes);
        return TrainingTensors.Normalize(bytes, indices.Length, images, preprocessing);
    }
}
