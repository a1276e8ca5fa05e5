using MlPipeline.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// The model inputs of a run on a frozen backbone: each image set's features ([rows, C, H, W] at the cut), computed once
/// through <see cref="FeatureExtractor"/> and kept in the run folder's cache; for the training set, the features of
/// <see cref="TrainingOptions.AugmentCopies"/> augmented copies follow the originals. Owns the extractor and the cache.
/// </summary>
internal sealed class TransferInputs : IDisposable
{
    readonly FeatureExtractor extractor;
    readonly FeatureCache cache;
    readonly TrainingPlan plan;
    readonly TrainingOptions options;
    readonly IProgress<TrainingProgress>? progress;
    readonly CancellationToken cancellationToken;

    public TransferInputs(Backbone backbone, TrainingPlan plan, TrainingOptions options, RunFolder folder, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        this.plan = plan;
        this.options = options;
        this.progress = progress;
        this.cancellationToken = cancellationToken;
        extractor = new FeatureExtractor(backbone, plan.Cut!, options.Threads);
        try
        {
            cache = FeatureCache.Open(folder[RunFolder.FeaturesFile], extractor.Cut.FeatureSize);
        }
        catch
        {
            extractor.Dispose();
            throw;
        }
    }

    /// <summary>The backbone file's checksum, as recorded with the head.</summary>
    public string BackboneChecksum => extractor.BackboneChecksum;

    /// <summary>What feature extraction did so far.</summary>
    public FeatureStatistics Statistics
    {
        get
        {
            var (computed, cached, time) = extractor.Statistics;
            return new FeatureStatistics(computed, cached, time.TotalSeconds) { Discarded = cache.Discarded };
        }
    }

    /// <summary>The features of <paramref name="set"/> as a tensor [rows, features, 1, 1]; for training, followed by those of the augmented copies.</summary>
    public Tensor Inputs(ImageSet set, bool training)
    {
        string name = training ? "training" : ReferenceEquals(set, plan.Validation) ? "validation" : "test";
        var parts = new List<float[]> { Compute(set, null, 0, name) };
        if (training && options.AugmentCopies > 0)
        {
            var augmenter = new Augmenter(options.Augmentation, plan.Preprocessing, options.Seed);
            for (int copy = 1; copy <= options.AugmentCopies; copy++)
            {
                parts.Add(Compute(set, augmenter, copy, $"training copy {copy}/{options.AugmentCopies}"));
            }
        }
        var cut = extractor.Cut;
        long rows = parts.Sum(p => (long)p.Length) / cut.FeatureSize;
        var result = zeros([rows, cut.Channels, cut.Height, cut.Width]);
        long row = 0;
        foreach (float[] part in parts)
        {
            // Copied part by part into one native tensor, never concatenated in managed memory.
            long count = part.LongLength / cut.FeatureSize;
            using var source = tensor(part, [count, cut.Channels, cut.Height, cut.Width]);
            using var target = result.narrow(0, row, count);
            target.copy_(source);
            row += count;
        }
        return result;
    }

    float[] Compute(ImageSet set, Augmenter? augmenter, int copy, string name)
    {
        Report(name, 0, set.Count);
        return extractor.Features(set, cache, augmenter, copy, done => Report(name, done, set.Count), cancellationToken);
    }

    void Report(string name, int done, int total)
    {
        var (computed, cached, _) = extractor.Statistics;
        progress?.Report(new TrainingProgress(0, options.Epochs, 0, 0, 0, 0, 0, TimeSpan.Zero) { Features = new FeatureProgress(name, done, total, cached, computed) });
    }

    public void Dispose()
    {
        cache.Dispose();
        extractor.Dispose();
    }
}
