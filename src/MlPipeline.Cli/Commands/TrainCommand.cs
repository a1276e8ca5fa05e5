using System.CommandLine;
using System.Globalization;
using MlPipeline.Data;
using MlPipeline.Datasets;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using MlPipeline.Training;
using MlPipeline.Training.Export;
using MlPipeline.Training.Models;

namespace MlPipeline.Cli.Commands;

/// <summary><c>mlpipeline train</c>: trains a classifier on MNIST, Fashion-MNIST or the user's own image folders, with a Keras-like progress bar.</summary>
internal static partial class TrainCommand
{
    static readonly Option<string?> Data = new("--data") { Description = "Training images: a folder per class (DIR/<class>/...), a path,label CSV, or a folder of idx files [default: --dataset from the per-user cache]" };
    static readonly Option<string> Dataset = CliOptions.OneOf("--dataset", "Built-in data set used without --data, or read from --data's idx files", IdxDataSet.Mnist.CacheName, [.. IdxDataSet.ByName.Keys]);
    static readonly Option<string?> Size = new("--size") { Description = $"Resize images to WxH (the scoring pipeline's resize), each from 1 to {ImageFolderOptions.MaxSide}; every set must fit in memory as bytes (images × W × H × channels) [default: the size all images share]" };
    static readonly Option<ColorMode?> Color = CliOptions.OptionalChoice("--color", "Colour mode of image folders: gray, rgb [default: rgb when any sampled image has colour]", ColorMode.Gray, ColorMode.Rgb);
    static readonly Option<double> ValSplit = CreateValSplit();
    static readonly Option<string?> Val = new("--val") { Description = "Validation images (a folder per class or a CSV) instead of --val-split (not both); no file may also be in --data or --test" };
    static readonly Option<string?> Test = new("--test") { Description = "Test images (a folder per class or a CSV), evaluated once at the end; no file may also be in --data or --val [default: the validation images]" };
    static readonly Option<string> Model = CliOptions.OneOf("--model", "Architecture", "cnn", ModelSpec.BuiltInNames);
    static readonly Option<int> Epochs = CliOptions.Positive("--epochs", "Passes over the training set (50 with a frozen --backbone)", 5);
    static readonly Option<int> BatchSize = CliOptions.Range("--batch-size", "Images per step", 64, 1, TrainingOptions.MaxBatchSize);
    static readonly Option<double> LearningRate = CreateLearningRate();
    static readonly Option<int> Seed = CliOptions.Integer("--seed", "Seed for weights and shuffling", 42);
    static readonly Option<int?> Threads = CliOptions.OptionalRange("--threads", $"libtorch threads, 1 to {ExecutionOptions.MaxThreads} [default: one per core]", 1, ExecutionOptions.MaxThreads);
    static readonly Option<int?> Limit = CliOptions.OptionalPositive("--limit", "Train on the first N images only");
    static readonly Option<string> Out = new("--out") { Description = "Run folder [default: runs/<data>-<model>]" };
    static readonly Option<WeightInitialization> Init = CliOptions.OneOf("--init", "Weight initialisation", WeightInitialization.Glorot, ("glorot", WeightInitialization.Glorot), ("pytorch", WeightInitialization.PyTorch));
    static readonly Option<string?> Onnx = new("--onnx") { Description = "Export the trained model to this ONNX file and verify it" };
    static readonly Option<bool> Resume = new("--resume") { Description = "Continue the run in --out from its checkpoint, on the same data (each class of each set compared by file count and checksum)" };
    static readonly Option<bool> ResumeChangedData = new("--resume-changed-data") { Description = "With --resume: continue although the data differs from the checkpoint's [default: changed data is refused, naming what changed]" };
    static readonly Option<bool> Normalize = new("--normalize") { Description = "Standardise each channel with the training split's mean and std instead of scaling to [0,1]" };
    static readonly Option<float[]?> Mean = ScoringOptions.Means();
    static readonly Option<float[]?> Std = ScoringOptions.Stds();
    static readonly Option<string> Augment = CreateAugment();
    static readonly Option<int?> EarlyStop = CliOptions.OptionalRange("--early-stopping", "Stop after this many epochs without improvement on the validation set, keeping the best epoch's weights", 1, 10_000);
    static readonly Option<EarlyStoppingMonitor> MonitorOption = CliOptions.OneOf("--monitor", "What early stopping watches", EarlyStoppingMonitor.ValLoss, ("val_loss", EarlyStoppingMonitor.ValLoss), ("val_accuracy", EarlyStoppingMonitor.ValAccuracy));
    static readonly Option<double> MinDelta = CliOptions.NonNegative("--min-delta", "Smallest change early stopping counts as an improvement", 0);
    static readonly (string, LearningRateSchedule)[] Schedules = [("constant", LearningRateSchedule.Constant), ("onecycle", LearningRateSchedule.OneCycle), ("cosine", LearningRateSchedule.Cosine), ("plateau", LearningRateSchedule.Plateau)];
    static readonly Option<LearningRateSchedule> Schedule = CliOptions.OneOf("--lr-schedule", "Learning-rate schedule (cosine with a frozen --backbone)", LearningRateSchedule.Constant, Schedules);
    static readonly Option<double> WeightDecay = CliOptions.NonNegative("--weight-decay", "Decoupled weight decay (AdamW instead of Adam when above 0; 0.05 with a frozen --backbone)", 0, 1);
    static readonly Option<double> LabelSmoothing = CliOptions.NonNegative("--label-smoothing", "Label smoothing of the training loss (0.1 with a frozen --backbone)", 0, 1, maxInclusive: false);
    static readonly Option<ClassWeighting> ClassWeights = CliOptions.OneOf("--class-weights", "Class weights in the loss (balanced: inverse frequency)", ClassWeighting.None, ("none", ClassWeighting.None), ("balanced", ClassWeighting.Balanced));
    static readonly Option<ResizeMode?> Resize = CliOptions.OptionalChoice<ResizeMode>("--resize", "How image folders' images of another size are resized: stretch, pad or crop (recorded with the model) [default: stretch]");
    static readonly Option<BackgroundColor?> Background = CliOptions.OptionalChoice<BackgroundColor>("--background", "Lay image folders' transparent pixels on black or white (recorded with the model) [default: colour values as stored]");
    static readonly Option<bool> IgnoreExif = new("--ignore-exif") { Description = "Read image folders' pixels as stored, ignoring JPEG EXIF orientation tags (recorded with the model) [default: images turned upright as tagged]" };
    static readonly Option<string?> BackboneOption = CreateBackbone();
    static readonly Option<ImageCache> ImageCacheOption = CliOptions.OneOf("--image-cache", "With image folders: where the decoded images are kept: disk (a cache file per set in the run folder, read a batch at a time, reused by --resume; memory stays small whatever the number of images) or memory (the whole set's bytes in memory)", ImageCache.Disk, ("disk", ImageCache.Disk), ("memory", ImageCache.Memory));
    static readonly (string, HeadKind)[] Heads = [("linear", HeadKind.Linear), ("mlp", HeadKind.Mlp)];
    static readonly Option<HeadKind> Head = CliOptions.OneOf("--head", "With --backbone: the head trained on its features (linear, or mlp: a hidden layer of 256; mlp when the backbone is frozen)", HeadKind.Linear, Heads);
    static readonly Option<int> FineTune = CliOptions.Range("--fine-tune", "With --backbone: train its last N residual blocks with the head, from their pretrained weights (0: frozen)", 0, 0, 64);
    static readonly Option<int> AugmentCopies = CliOptions.Range("--augment-copies", $"With --backbone and --augment: features of N augmented copies of each training image, 0 to {TrainingOptions.MaxAugmentCopies}", 0, 0, TrainingOptions.MaxAugmentCopies);

    public static Command Create(CliConsole console)
    {
        var command = new Command("train", "Train a classifier on MNIST, Fashion-MNIST or your own image folders.")
        {
            Data, Dataset, Size, Color, Resize, Background, IgnoreExif, ValSplit, Val, Test, ImageCacheOption, Model, BackboneOption, Head, FineTune, AugmentCopies, Epochs, BatchSize, LearningRate, Seed, Threads, Limit, Out, Resume, ResumeChangedData, Normalize, Mean, Std, Augment, EarlyStop, MonitorOption, MinDelta, Schedule, WeightDecay, LabelSmoothing, ClassWeights, Init, Onnx,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(parse, console, cancellationToken)));
        return command;
    }

    static Option<string?> CreateBackbone()
    {
        var option = new Option<string?>("--backbone") { Description = $"Train a head on a pretrained backbone's features instead of --model from scratch: {string.Join(", ", MlPipeline.Training.Transfer.Backbone.KnownNames)} (ImageNet, from NuGet; images are read as 224x224 RGB)" };
        option.AcceptOnlyFromAmong([.. MlPipeline.Training.Transfer.Backbone.KnownNames]);
        return option;
    }

    static Option<double> CreateValSplit()
    {
        var option = new Option<double>("--val-split") { Description = "Share of each class held out for validation (stratified, from --seed) when training on image folders", DefaultValueFactory = _ => 0.2, CustomParser = result => CliOptions.ParseNumber(result, "--val-split") };
        option.Validators.Add(result =>
        {
            if (CliOptions.TryGet(result, out double value) && !(value > 0 && value < 1))
            {
                result.AddError($"--val-split must be above 0 and below 1, but was {value.ToString(CultureInfo.InvariantCulture)}.");
            }
        });
        return option;
    }

    static Option<string> CreateAugment()
    {
        var option = new Option<string>("--augment") { Description = "Augmentation of training images: none, light (flip,shift=0.1), standard (flip,rotate=15,shift=0.1,zoom=0.1,color=0.2), or a list such as flip,rotate=15,shift=0.1,zoom=0.1,color=0.2", DefaultValueFactory = _ => "none" };
        option.Validators.Add(result =>
        {
            if (!CliOptions.TryGet(result, out string? value) || value is null) { return; }
            try
            {
                Augmentation.Parse(value);
            }
            catch (ArgumentException e)
            {
                result.AddError($"--augment: {e.Message}");
            }
        });
        return option;
    }

    static Option<double> CreateLearningRate()
    {
        string range = string.Create(CultureInfo.InvariantCulture, $"from {TrainingOptions.MinLearningRate:G9} (the smallest normal float32) to {TrainingOptions.MaxLearningRate}");
        var option = new Option<double>("--lr") { Description = $"Adam learning rate, {range}", DefaultValueFactory = _ => 0.001, CustomParser = result => CliOptions.ParseNumber(result, "--lr") };
        option.Validators.Add(result =>
        {
            // libtorch keeps the rate as float32: below the smallest normal one it is 0 or has lost its precision.
            if (CliOptions.TryGet(result, out double value) && !(value >= TrainingOptions.MinLearningRate && value <= TrainingOptions.MaxLearningRate))
            {
                result.AddError($"--lr must be a normal positive float32, {range}, but was {value.ToString(CultureInfo.InvariantCulture)}.");
            }
        });
        return option;
    }

    /// <summary>"1 epoch", "5 epochs".</summary>
    internal static string EpochCount(int count) => count == 1 ? "1 epoch" : $"{count} epochs";

    static int Run(ParseResult parse, CliConsole console, CancellationToken cancellationToken)
    {
        string? backbone = parse.GetValue(BackboneOption);
        RequireConsistent(parse, backbone);
        bool backboneDefaults = UsesBackboneDefaults(parse, backbone);
        string model = backbone is null ? parse.GetValue(Model)! : $"{backbone}{(parse.GetValue(FineTune) is > 0 and var n ? $"-ft{n}" : "")}-{CliOptions.Spelling(Value(parse, Head, backboneDefaults, BackboneHead), Heads)}";
        float[]? means = CliOptions.ChannelValues(parse, Mean), stds = CliOptions.ChannelValues(parse, Std);
        ScoringOptions.CheckMeanStd(means, stds);
        if (parse.GetValue(Normalize) && means is not null) { throw new ArgumentException("Give either --normalize (the training split's statistics) or --mean and --std, not both."); }
        string runDirectory = RunDirectory(parse, model);
        // The run folder is held from before the data is read: decoded images may be cached there.
        // The options are checked before any image is decoded.
        var options = Options(parse, backbone, model, runDirectory, means, stds).Validate();
        RequireModelTakesSize(parse, backbone, options);
        using var folder = RunFolder.Open(runDirectory);
        var (data, result) = LoadAndTrain(parse, backbone, options, folder, console, cancellationToken);
        if (!ReportRun(result, options, console)) { return ExitCodes.Interrupted; }
        PrintTestMetrics(result, console);
        if (parse.GetValue(Onnx) is { } onnx)
        {
            using var trained = TrainedModel.Load(result.RunDirectory);
            if (!ExportCommand.ExportAndReport(trained, onnx, new OnnxExportOptions().Opset, data.Test, 1000, console, cancellationToken)) { return ExitCodes.Failure; }
        }
        return ExitCodes.Success;
    }

    /// <summary>The run folder (--out, or one named after the data and the model), once it and --onnx are known to replace nothing the user keeps.</summary>
    static string RunDirectory(ParseResult parse, string model)
    {
        // Where the run writes is checked before any data is read: nothing the user keeps may be replaced.
        if (parse.GetValue(Out) is { } outDir) { RunFolder.RequireUsable(outDir); }
        if (parse.GetValue(Onnx) is { } onnxTarget)
        {
            OutputPaths.RequireNotAnInput(onnxTarget, "--onnx", [.. RunInputs.Data(parse.GetValue(Data), "--data"), .. RunInputs.Data(parse.GetValue(Val), "--val"), .. RunInputs.Data(parse.GetValue(Test), "--test")]);
            if (parse.GetValue(Out) is { } runDir) { ExportCommand.RequireNotARunFile(onnxTarget, runDir, "--onnx"); }
        }
        string runDirectory = parse.GetValue(Out) ?? Path.Combine("runs", $"{DataName(parse)}-{model}");
        if (parse.GetValue(Onnx) is { } target) { ExportCommand.RequireNotARunFile(target, runDirectory, "--onnx"); }
        return runDirectory;
    }

    /// <summary>Reads the data and trains into <paramref name="folder"/>, abandoning the folder when either fails.</summary>
    static (TrainingData Data, TrainingResult Result) LoadAndTrain(ParseResult parse, string? backbone, TrainingOptions options, RunFolder folder,
        CliConsole console, CancellationToken cancellationToken)
    {
        try
        {
            // Before any image is read: a resume with nothing to resume or with other options, or a new run into a finished one.
            ClassifierTrainer.RequireResumable(folder, options);
            var data = LoadData(parse, backbone, parse.GetValue(ImageCacheOption) == ImageCache.Disk ? folder.Path : null, console, cancellationToken);
            if (DescribeBackboneDefaults(parse, backbone) is { } defaults) { console.Error.WriteLine(defaults); }
            var bar = new TrainingProgressBar(console);
            return (data, ClassifierTrainer.Train(data, options, folder, new SyncProgress<TrainingProgress>(bar.Report), cancellationToken));
        }
        catch
        {
            folder.Abandon();
            throw;
        }
    }

    /// <summary>Reports the backbone's features, a stop (returning false) and a run that had already trained past --epochs.</summary>
    static bool ReportRun(TrainingResult result, TrainingOptions options, CliConsole console)
    {
        if (result.Features is { } features)
        {
            console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Backbone features: {features.Computed} computed in {features.Seconds:F1} s ({features.ImagesPerSecond:F1} images/s), {features.Cached} from the run folder's cache."));
            if (features.Discarded is { } why) { console.Error.WriteLine($"note: cached features in {Path.Combine(result.RunDirectory, RunFolder.FeaturesFile)} were not used because {why}; they were computed again."); }
        }
        if (!result.Completed)
        {
            console.Error.WriteLine(File.Exists(Path.Combine(result.RunDirectory, RunFolder.CheckpointFile))
                ? $"Stopped; checkpoint saved. Continue with: mlpipeline train --out {result.RunDirectory} --resume (and the same options)."
                : $"Stopped while computing the backbone's features; those computed are kept in {Path.Combine(result.RunDirectory, RunFolder.FeaturesFile)}. Run the same command again to go on from there.");
            return false;
        }
        if (result.History.Count > options.Epochs && result.BestEpoch is null)
        {
            console.Error.WriteLine($"note: the run had already trained {result.History.Count} epochs, more than --epochs {options.Epochs}: nothing more was trained, and the model is the one after epoch {result.History.Count}.");
        }
        return true;
    }

    /// <summary>The training options the command line gives.</summary>
    static TrainingOptions Options(ParseResult parse, string? backbone, string model, string runDirectory, float[]? means, float[]? stds)
    {
        bool backboneDefaults = UsesBackboneDefaults(parse, backbone);
        return new()
        {
            Model = backbone is null ? ModelChoice.FromName(model) : new TrainingOptions().Model,
            Backbone = backbone,
            Head = Value(parse, Head, backboneDefaults, BackboneHead),
            AugmentCopies = parse.GetValue(AugmentCopies),
            FineTuneBlocks = parse.GetValue(FineTune),
            Epochs = Value(parse, Epochs, backboneDefaults, BackboneEpochs),
            BatchSize = parse.GetValue(BatchSize),
            LearningRate = parse.GetValue(LearningRate),
            Seed = parse.GetValue(Seed),
            Execution = new ExecutionOptions { Threads = parse.GetValue(Threads), Limit = parse.GetValue(Limit) },
            Run = new RunFolderOptions { OutputDirectory = runDirectory, Resume = parse.GetValue(Resume), ResumeChangedData = parse.GetValue(ResumeChangedData) },
            Normalize = parse.GetValue(Normalize),
            Means = means,
            Stds = stds,
            Augmentation = Augmentation.Parse(parse.GetValue(Augment)!),
            EarlyStopping = parse.GetValue(EarlyStop) is { } patience
            ? new EarlyStopping(patience, parse.GetValue(MonitorOption), parse.GetValue(MinDelta))
            : null,
            Schedule = Value(parse, Schedule, backboneDefaults, BackboneSchedule),
            WeightDecay = Value(parse, WeightDecay, backboneDefaults, BackboneWeightDecay),
            LabelSmoothing = Value(parse, LabelSmoothing, backboneDefaults, BackboneLabelSmoothing),
            ClassWeights = parse.GetValue(ClassWeights),
            Initialization = parse.GetValue(Init),
        };
    }

    /// <summary>
    /// With --size, whether the model takes images of that size (its layers fit, its activations are within the limit):
    /// checked before any image is decoded, with the fewest channels --color allows and two classes.
    /// </summary>
    static void RequireModelTakesSize(ParseResult parse, string? backbone, TrainingOptions options)
    {
        if (backbone is not null || parse.GetValue(Data) is null || CliOptions.ParseSize(parse.GetValue(Size), "--size", ImageFolderOptions.MaxSide) is not { } size) { return; }
        int channels = parse.GetValue(Color) == ColorMode.Rgb ? 3 : 1;
        options.Model.Resolve(2, channels, size.Height, size.Width).Validate();
    }

    /// <summary>Options that exclude or need each other, checked before any work.</summary>
    static void RequireConsistent(ParseResult parse, string? backbone)
    {
        if (backbone is not null && parse.GetResult(Model) is { Implicit: false })
        {
            throw new ArgumentException($"Give either --model (trained from scratch) or --backbone {backbone} (a head trained on its features), not both.");
        }
        if (backbone is null && (parse.GetResult(Head) is { Implicit: false } || parse.GetResult(AugmentCopies) is { Implicit: false } || parse.GetResult(FineTune) is { Implicit: false }))
        {
            throw new ArgumentException("--head, --fine-tune and --augment-copies apply to training on a --backbone.");
        }
        if (parse.GetValue(ResumeChangedData) && !parse.GetValue(Resume)) { throw new ArgumentException("--resume-changed-data applies to --resume; add --resume to continue the run in --out."); }
        if (parse.GetValue(Val) is { } val && parse.GetResult(ValSplit) is { Implicit: false })
        {
            throw new ArgumentException($"Give either --val {val} (a validation set) or --val-split {parse.GetValue(ValSplit).ToString(CultureInfo.InvariantCulture)} (a share of --data held out), not both: with --val no share of --data is held out.");
        }
    }

    /// <summary>The finished model's test metrics; the confusion matrix of many classes is only in the run folder.</summary>
    static void PrintTestMetrics(TrainingResult result, CliConsole console)
    {
        if (result.TestMetrics is not { } metrics) { return; }
        console.Out.WriteLine();
        console.Out.WriteLine($"Test set ({EpochCount(result.History.Count)}):");
        console.Out.Write(metrics.ToTable());
        if (metrics.Labels.Count > MlPipeline.Evaluation.ClassificationMetrics.MaxMatrixClassesShown)
        {
            console.Out.WriteLine($"  The full confusion matrix: {Path.Combine(result.RunDirectory, RunFolder.MetricsFile)} (confusionMatrix)");
        }
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Test accuracy {metrics.MicroAccuracy:P2} after {EpochCount(result.History.Count)}{(result.BestEpoch is { } best ? $", with the weights of epoch {best}" : "")}. Run folder: {result.RunDirectory}"));
    }
}

/// <summary>Where train keeps image folders' decoded images (--image-cache).</summary>
internal enum ImageCache
{
    /// <summary>A cache file per set in the run folder, read a batch at a time.</summary>
    Disk,

    /// <summary>The whole set's bytes in memory.</summary>
    Memory,
}
