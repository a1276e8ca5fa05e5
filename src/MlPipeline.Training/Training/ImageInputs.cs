using MlPipeline.Data;
using MlPipeline.Scoring;
using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>An image set's pixels, gathered, converted to floats and normalised for each batch: the same values as converting the whole set at once, element for element.</summary>
internal sealed class ImageInputs(ImageSet images, ImagePreprocessing preprocessing) : ModelInputs
{
    /// <inheritdoc/>
    public override long Count => images.Count;

    /// <inheritdoc/>
    public override Tensor Rows(long[] indices)
    {
        int size = images.ImageSize;
        var bytes = new byte[(long)indices.Length * size];
        var pixels = images.Pixels.Span;
        for (int i = 0; i < indices.Length; i++)
        {
            pixels.Slice(checked((int)(indices[i] * size)), size).CopyTo(bytes.AsSpan(i * size, size));
        }
        return TrainingTensors.Normalize(bytes, indices.Length, images, preprocessing);
    }
}
