using System.Globalization;
using MlPipeline.Data;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// The model inputs of a run on a backbone: each image set's features ([rows, C, H, W] at the cut), computed once
/// through <see cref="FeatureExtractor"/> into the run folder's cache and read back from it a batch at a time
/// (<see cref="CachedFeatureInputs"/>); for the training set, the features of <see cref="TrainingOptions.AugmentCopies"/>
/// augmented copies follow the originals. <see cref="Prepare"/> first finds which rows the cache lacks, so that a disk
/// too small for them is refused before anything is computed. Owns the extractor and the cache.
/// </summary>
internal sealed class TransferInputs : IDisposable
{
    readonly FeatureExtractor extractor;
    readonly FeatureCache cache;
    readonly TrainingPlan plan;
    readonly TrainingOptions options;
    readonly RunFolder folder;
    readonly Func<string, long> freeSpace;
    readonly IProgress<TrainingProgress>? progress;
    readonly CancellationToken cancellationToken;
    readonly List<(ImageSet Set, bool Training, FeatureRows[] Parts)> prepared = [];

    /// <param name="freeSpace">The bytes free on the drive of a folder (a seam for tests); by default the drive's available free space.</param>
    public TransferInputs(Backbone backbone, TrainingPlan plan, TrainingOptions options, RunFolder folder, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken,
        Func<string, long>? freeSpace = null)
    {
        this.plan = plan;
        this.options = options;
        this.folder = folder;
        this.progress = progress;
        this.cancellationToken = cancellationToken;
        this.freeSpace = freeSpace ?? MlPipeline.Internals.FileSystem.FreeSpace;
        extractor = new FeatureExtractor(backbone, plan.Cut!, options.Execution.Threads);
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

    /// <summary>
    /// Makes sure that the features of every set the run reads (training and its copies, validation, test) are in the
    /// cache: finds the rows missing, refuses when the run folder's drive cannot hold them, then computes them.
    /// </summary>
    /// <exception cref="IOException">The drive has less space free than the missing features need (the message gives both); nothing was computed or removed.</exception>
    public void Prepare()
    {
        if (prepared.Count > 0) { return; }
        var sets = new List<(ImageSet Set, bool Training, FeatureRows[] Parts)>
        {
            (plan.Train, true, TrainingRows()),
            (plan.Validation, false, [extractor.Rows(plan.Validation, null, 0, "validation", cancellationToken)]),
        };
        if (!ReferenceEquals(plan.Test, plan.Validation)) { sets.Add((plan.Test, false, [extractor.Rows(plan.Test, null, 0, "test", cancellationToken)])); }
        var parts = sets.SelectMany(s => s.Parts).ToList();
        RequireSpace(FeatureExtractor.Missing(parts, cache));
        foreach (var part in parts)
        {
            Report(part.Name, 0, part.Count);
            extractor.Features(part, cache, done => Report(part.Name, done, part.Count), cancellationToken);
        }
        prepared.AddRange(sets);
    }

    FeatureRows[] TrainingRows()
    {
        var parts = new List<FeatureRows> { extractor.Rows(plan.Train, null, 0, "training", cancellationToken) };
        if (options.AugmentCopies > 0)
        {
            var augmenter = new Augmenter(options.Augmentation, plan.Preprocessing, options.Seed);
            for (int copy = 1; copy <= options.AugmentCopies; copy++)
            {
                parts.Add(extractor.Rows(plan.Train, augmenter, copy, $"training copy {copy}/{options.AugmentCopies}", cancellationToken));
            }
        }
        return [.. parts];
    }

    void RequireSpace(long records)
    {
        long need = records * cache.RecordSize, free = freeSpace(folder.Path);
        if (need <= free) { return; }
        throw new IOException(string.Create(CultureInfo.InvariantCulture,
            $"Not enough disk space for the backbone features: {records} image(s) not yet in the cache '{cache.Path}' need {Size(need)} ({records} × {cache.RecordSize} bytes), and its drive has {Size(free)} free. Free {Size(need - free)} or more, or train into a folder on another drive; nothing was computed and nothing in the run folder was removed."));
    }

    static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };

    /// <summary>The features of <paramref name="set"/> read from the cache per batch; for training, followed by those of the augmented copies. <see cref="Prepare"/> comes first.</summary>
    public ModelInputs Inputs(ImageSet set, bool training)
    {
        Prepare();
        var parts = prepared.FirstOrDefault(p => ReferenceEquals(p.Set, set) && p.Training == training).Parts
            ?? throw new ArgumentException("The images are not one of the run's sets.", nameof(set));
        return new CachedFeatureInputs(cache, extractor.Cut, parts);
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
