using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>Rows of a tensor computed before training (a backbone's features); owns it.</summary>
internal sealed class TensorInputs(Tensor rows) : ModelInputs
{
    /// <inheritdoc/>
    public override long Count => rows.shape[0];

    /// <inheritdoc/>
    public override Tensor Rows(long[] indices)
    {
        using var index = tensor(indices);
        return rows.index_select(0, index);
    }

    /// <inheritdoc/>
    public override Tensor Range(long start, long count) => rows.narrow(0, start, count);

    /// <inheritdoc/>
    public override void Dispose() => rows.Dispose();
}
