using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// A backbone's features as model inputs, read from the run folder's <see cref="FeatureCache"/> for every batch: the
/// rows of some <see cref="FeatureRows"/> one after another (for training, the images then each augmented copy), each row
/// a record offset. Memory holds the offsets (8 bytes a row) and one record, never the features of a set; each record's
/// checksum is checked as it is read. The cache belongs to the caller and must outlive these inputs.
/// </summary>
internal sealed class CachedFeatureInputs : ModelInputs
{
    readonly FeatureCache cache;
    readonly BackboneCut cut;
    readonly long[] offsets;
    readonly byte[] record;

    /// <exception cref="InvalidOperationException">A row's features are not in the cache (they were not computed first).</exception>
    public CachedFeatureInputs(FeatureCache cache, BackboneCut cut, IReadOnlyList<FeatureRows> parts)
    {
        if (cache.FeatureSize != cut.FeatureSize)
        {
            throw new ArgumentException($"The cache '{cache.Path}' holds features of {cache.FeatureSize} values; the cut at {cut.TensorName} gives {cut.FeatureSize}.", nameof(cut));
        }
        this.cache = cache;
        this.cut = cut;
        offsets = new long[parts.Sum(p => (long)p.Count)];
        long row = 0;
        foreach (var part in parts)
        {
            for (int i = 0; i < part.Count; i++, row++)
            {
                if (!cache.TryGetOffset(part.Keys[i], out offsets[row]))
                {
                    throw new InvalidOperationException($"The features of row {i} of the {part.Name} images are not in '{cache.Path}'; they are computed before the inputs are read.");
                }
            }
        }
        record = new byte[cache.RecordSize];
    }

    /// <inheritdoc/>
    public override long Count => offsets.LongLength;

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">A record no longer matches its checksum (the file names it, and says to delete it).</exception>
    public override Tensor Rows(long[] indices)
    {
        var result = empty([indices.Length, cut.Channels, cut.Height, cut.Width], ScalarType.Float32);
        try
        {
            // Written straight into the tensor's native memory: no managed copy of the batch.
            var target = MemoryMarshal.Cast<byte, float>(result.bytes);
            int size = cut.FeatureSize;
            for (int i = 0; i < indices.Length; i++)
            {
                cache.Read(offsets[indices[i]], record).CopyTo(target.Slice(i * size, size));
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }
}
