using System.Text.Json;
using MlPipeline.Data;
using MlPipeline.Scoring;
using MlPipeline.Training.Internals;
using MlPipeline.Training.Models;

namespace MlPipeline.Training;

/// <summary>
/// What a run trains on and with, settled before the run folder is touched: the three image sets, the architecture
/// for their shape, and the preprocessing (unit range, the training split's per-channel statistics, or given means and
/// standard deviations).
/// </summary>
/// <param name="Train">The images the model learns from (after <see cref="ExecutionOptions.Limit"/>).</param>
/// <param name="Validation">The images the per-epoch figures are computed on.</param>
/// <param name="Test">The images the finished model is measured on.</param>
/// <param name="Spec">The architecture.</param>
/// <param name="Preprocessing">How pixel bytes become inputs.</param>
internal sealed record TrainingPlan(ImageSet Train, ImageSet Validation, ImageSet Test, ModelSpec Spec, ImagePreprocessing Preprocessing)
{
    /// <summary>The frozen backbone whose features <see cref="Spec"/> (the head) learns from; null when training from scratch.</summary>
    public Transfer.Backbone? Backbone { get; init; }

    /// <summary>Where <see cref="Backbone"/> is cut: the features' shape, and the fine-tuned blocks with their pretrained weights; null when training from scratch.</summary>
    public Transfer.BackboneCut? Cut { get; init; }

    /// <summary>A limit that keeps no image of a class would train a model that never predicts it: refused, naming the classes.</summary>
    static void RequireEveryClass(ImageSet train, int limit)
    {
        var seen = new bool[train.ClassNames.Count];
        foreach (int label in train.Labels.Span) { seen[label] = true; }
        var missing = Enumerable.Range(0, seen.Length).Where(c => !seen[c]).Select(c => $"'{train.ClassNames[c]}'").ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"Limit {limit} keeps the first {limit} training images, and they hold no image of class {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? $" and {missing.Count - 10} more" : "")}: the model would never learn to predict it. Raise --limit (image folders are read class by class) or leave it out.");
        }
    }

    /// <summary>Checks the data against the options and settles the plan.</summary>
    /// <exception cref="ArgumentException">The sets differ in shape or classes, the model does not fit them, or the means and standard deviations do not fit their channels.</exception>
    public static TrainingPlan Create(TrainingData data, TrainingOptions options)
    {
        var train = options.Execution.Limit is { } limit ? data.Train.Take(limit) : data.Train;
        if (train.Count < data.Train.Count) { RequireEveryClass(train, options.Execution.Limit!.Value); }
        // Per-epoch figures on the validation set when there is one; the finished model is measured on the test set.
        var validation = data.Validation ?? data.Test;
        if (data.Validation is null && options.EarlyStopping is not null)
        {
            throw new ArgumentException("Early stopping watches a validation set, and this data has none (its per-epoch figures are on the test set, which must not choose the model): train on image folders with --val-split or --val, or set TrainingData.Validation.");
        }
        if (data.Validation is null && options.Schedule == LearningRateSchedule.Plateau)
        {
            throw new ArgumentException("The plateau schedule watches the validation loss, and this data has no validation set (its per-epoch figures are on the test set): train on image folders with --val-split or --val, or choose another --lr-schedule.");
        }
        RequireSameShape(train, validation);
        RequireSameShape(train, data.Test);
        if (options.Backbone is { } name) { return WithBackbone(train, validation, data.Test, Transfer.Backbone.Locate(name, options.BackboneDirectory), options, data.Source); }
        var spec = options.Model.Resolve(train.ClassNames.Count, train.Channels, train.Height, train.Width);
        RequireFits(spec, train);
        var color = train.Channels == 1 ? ColorMode.Gray : ColorMode.Rgb;
        ImagePreprocessing preprocessing;
        if (options.Normalize)
        {
            var (means, stds) = ChannelStatistics(train);
            preprocessing = ImagePreprocessing.Standardized(train.Width, train.Height, color, means, stds);
        }
        else if (options.Means is { } means && options.Stds is { } stds)
        {
            if (means.Count is not 1 && means.Count != train.Channels || stds.Count is not 1 && stds.Count != train.Channels)
            {
                throw new ArgumentException($"Means ({ImagePreprocessing.Join(means)}) and Stds ({ImagePreprocessing.Join(stds)}) need one value or one per channel, and the images have {train.Channels} channel(s).");
            }
            preprocessing = ImagePreprocessing.Standardized(train.Width, train.Height, color, means, stds).Validate();
        }
        else
        {
            preprocessing = ImagePreprocessing.UnitRange(train.Width, train.Height, color);
        }
        preprocessing = ReadAs(preprocessing, data.Source);
        return new TrainingPlan(train, validation, data.Test, spec, preprocessing);
    }

    static TrainingPlan WithBackbone(ImageSet train, ImageSet validation, ImageSet test, Transfer.Backbone backbone, TrainingOptions options, ImagePreprocessing? source)
    {
        int size = backbone.InputSize;
        if (train.Channels != 3 || train.Height != size || train.Width != size)
        {
            throw new ArgumentException($"The {backbone.Name} backbone takes {size}x{size} RGB images but the data is {train.Channels}x{train.Height}x{train.Width}; load image folders with Width = Height = {size} and ColorMode = Rgb (mlpipeline train --backbone does), which converts gray images to three equal channels.");
        }
        if (train.ClassNames.Count < 2) { throw new ArgumentException($"A classifier needs at least two classes; the data has {train.ClassNames.Count}."); }
        var cut = backbone.Cut(options.FineTuneBlocks);
        var spec = ModelSpec.Head(backbone.Name, options.Head, cut.Channels, cut.Height, cut.Width, cut.Blocks, train.ClassNames.Count);
        return new TrainingPlan(train, validation, test, spec, ReadAs(backbone.Preprocessing, source)) { Backbone = backbone, Cut = cut };
    }

    /// <summary><paramref name="preprocessing"/> with the resize mode, background and orientation the files were read with: scoring must read them alike.</summary>
    static ImagePreprocessing ReadAs(ImagePreprocessing preprocessing, ImagePreprocessing? source) =>
        source is null ? preprocessing : preprocessing with { Resize = source.Resize, Background = source.Background, IgnoreExifOrientation = source.IgnoreExifOrientation };

    /// <summary>The state of a run that has not started.</summary>
    public CheckpointState FreshState(TrainingOptions options)
    {
        var settings = ResumeSettings.Of(options);
        return new(JsonSerializer.Serialize(Spec, Json.Options), options.BatchSize, options.LearningRate, options.Seed, Train.Count, Preprocessing.DescribeNormalization(), 0, 0, 0, 0, 0, 0, [])
        {
            Settings = settings.Text,
            RunSettings = settings,
            Geometry = $"{Preprocessing.ColorMode.ToString().ToLowerInvariant()}, {Preprocessing.DescribeGeometry()}",
        };
    }

    /// <summary>Mean and standard deviation of each channel's pixels scaled to [0, 1], over the whole training split.</summary>
    internal static (float[] Means, float[] Stds) ChannelStatistics(ImageSet train)
    {
        int plane = train.Height * train.Width;
        var sums = new double[train.Channels];
        var squares = new double[train.Channels];
        // A chunk of images at a time: the set may be in a cache file, larger than memory.
        const int Chunk = 256;
        var pixels = new byte[Math.Min(Chunk, train.Count) * train.ImageSize];
        for (int first = 0; first < train.Count; first += Chunk)
        {
            int n = Math.Min(Chunk, train.Count - first);
            train.CopyImages(first, n, pixels);
            for (int start = 0; start < n * train.ImageSize; start += plane)
            {
                int channel = start / plane % train.Channels;
                long sum = 0, square = 0;
                foreach (byte p in pixels.AsSpan(start, plane)) { sum += p; square += p * p; }
                sums[channel] += sum;
                squares[channel] += square;
            }
        }
        double count = (double)train.Count * plane * 255.0;
        var means = new float[train.Channels];
        var stds = new float[train.Channels];
        for (int c = 0; c < train.Channels; c++)
        {
            double mean = sums[c] / count;
            // A constant channel has no spread; a floor keeps the scale finite.
            means[c] = (float)mean;
            stds[c] = (float)Math.Sqrt(Math.Max((squares[c] / count / 255.0) - (mean * mean), 1e-12));
        }
        return (means, stds);
    }

    static void RequireSameShape(ImageSet train, ImageSet test)
    {
        if (train.Count == 0 || test.Count == 0) { throw new ArgumentException($"Training needs images in both sets; got {train.Count} training and {test.Count} test images."); }
        if (train.Channels != test.Channels || train.Height != test.Height || train.Width != test.Width || !train.ClassNames.SequenceEqual(test.ClassNames))
        {
            throw new ArgumentException($"Training images are {train.Channels}x{train.Height}x{train.Width} with classes [{string.Join(",", train.ClassNames)}] but test images are {test.Channels}x{test.Height}x{test.Width} with [{string.Join(",", test.ClassNames)}]; expected the same shape and classes.");
        }
    }

    static void RequireFits(ModelSpec spec, ImageSet train)
    {
        if (spec.InputChannels != train.Channels || spec.InputHeight != train.Height || spec.InputWidth != train.Width)
        {
            throw new ArgumentException($"Model '{spec.Name}' takes {spec.InputChannels}x{spec.InputHeight}x{spec.InputWidth} images but the data is {train.Channels}x{train.Height}x{train.Width}.");
        }
        if (spec.ClassCount != train.ClassNames.Count)
        {
            throw new ArgumentException($"Model '{spec.Name}' has {spec.ClassCount} outputs but the data has {train.ClassNames.Count} classes.");
        }
    }
}
