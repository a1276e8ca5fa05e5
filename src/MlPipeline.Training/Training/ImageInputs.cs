using MlPipeline.Data;
using MlPipeline.Scoring;
using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>
/// An image set's pixels (in memory or read from its cache file), gathered, converted to floats and normalised for each
/// batch: the same values as converting the whole set at once, element for element. One caller at a time: the batch's
/// bytes go through one buffer, reused while the batch size stays the same (the tensor copies them), so a step allocates
/// no large array and the collector runs less often.
/// </summary>
internal sealed class ImageInputs(ImageSet images, ImagePreprocessing preprocessing) : ModelInputs
{
    byte[] buffer = [];

    /// <inheritdoc/>
    public override long Count => images.Count;

    /// <inheritdoc/>
    public override Tensor Rows(long[] indices)
    {
        long size = (long)indices.Length * images.ImageSize;
        if (buffer.LongLength != size) { buffer = new byte[size]; }
        images.CopyImages([.. indices.Select(i => checked((int)i))], buffer);
        return TrainingTensors.Normalize(buffer, indices.Length, images, preprocessing);
    }
}
