using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>
/// The rows a model is trained or evaluated on, drawn a batch at a time: an image set converted to floats and
/// normalised per batch (<see cref="ImageInputs"/>), or a backbone's features read from the run folder's cache per batch
/// (<see cref="Transfer.CachedFeatureInputs"/>). No whole-set float tensor of images or features exists, so memory
/// holds the set's bytes once plus one batch.
/// </summary>
internal abstract class ModelInputs : IDisposable
{
    /// <summary>How many rows there are.</summary>
    public abstract long Count { get; }

    /// <summary>The rows at <paramref name="indices"/>, in that order, as a new tensor (freed with the caller's dispose scope).</summary>
    public abstract Tensor Rows(long[] indices);

    /// <summary>The rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1.</summary>
    public virtual Tensor Range(long start, long count)
    {
        var indices = new long[count];
        for (long i = 0; i < count; i++) { indices[i] = start + i; }
        return Rows(indices);
    }

    /// <inheritdoc/>
    public virtual void Dispose()
    {
    }
}
