using System.Diagnostics;
using System.Globalization;
using MlPipeline.Data;
using MlPipeline.Training;
using MlPipeline.Training.Export;
using MlPipeline.Training.Models;

namespace MlPipeline.Benchmarks;

/// <summary>
/// Transfer learning on image folders: ResNet-18's features (ONNX Runtime, 2 cores) and a head trained with TorchSharp,
/// then the one-file export with its parity check. Prints the feature extraction throughput, the wall time of
/// train + export, and the test accuracy. <c>--holdout F</c> keeps early stopping off the test images (as the
/// from-scratch emoji figure was measured); <c>--per-class N</c> uses the first N files of each class (sorted), of
/// the training and the test folder, for large collections such as Fashion-MNIST's.
/// </summary>
internal static class TransferBenchmark
{
    public static int Run(string[] args)
    {
        var a = new BenchArgs(args);
        string data = a.Get("--data") ?? throw new ArgumentException("--data DIR is required");
        string? test = a.Get("--test");
        string work = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-transfer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            if (a.Get("--per-class") is { } perClass)
            {
                int n = int.Parse(perClass, CultureInfo.InvariantCulture);
                data = FirstPerClass(data, n, Path.Combine(work, "train-subset"));
                if (test is not null) { test = FirstPerClass(test, n / 5, Path.Combine(work, "test-subset")); }
            }
            var total = Stopwatch.StartNew();
            var loaded = ImageFolderData.Load(data, new ImageFolderOptions
            {
                Width = 224,
                Height = 224,
                ColorMode = MlPipeline.Scoring.ColorMode.Rgb,
                Background = a.Get("--background") is { } background ? Enum.Parse<MlPipeline.Scoring.BackgroundColor>(background, ignoreCase: true) : null,
                ValidationSplit = a.Get("--val-split") is { } split ? double.Parse(split, CultureInfo.InvariantCulture) : 0.2,
                Test = test,
            }).Data;
            double loadSeconds = total.Elapsed.TotalSeconds;
            if (a.Get("--holdout") is { } holdout)
            {
                var (kept, held) = ImageFolderData.Split(loaded.Train, double.Parse(holdout, CultureInfo.InvariantCulture), 42, []);
                loaded = loaded with { Train = kept, Validation = held, Test = loaded.Validation ?? loaded.Test };
            }
            var options = new TrainingOptions
            {
                Run = new RunFolderOptions { OutputDirectory = Path.Combine(work, "run") },
                Backbone = "resnet18",
                Head = a.Get("--head") == "mlp" ? HeadKind.Mlp : HeadKind.Linear,
                Epochs = a.Int("--epochs", 30),
                Execution = new ExecutionOptions { Threads = a.Get("--threads") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : null },
                LearningRate = a.Get("--lr") is { } lr ? double.Parse(lr, CultureInfo.InvariantCulture) : 0.001,
                Augmentation = Augmentation.Parse(a.Get("--augment") ?? "none"),
                AugmentCopies = a.Int("--augment-copies", 0),
                FineTuneBlocks = a.Int("--fine-tune", 0),
                WeightDecay = a.Get("--weight-decay") is { } wd ? double.Parse(wd, CultureInfo.InvariantCulture) : 0,
                LabelSmoothing = a.Get("--label-smoothing") is { } ls ? double.Parse(ls, CultureInfo.InvariantCulture) : 0,
                Schedule = Enum.Parse<LearningRateSchedule>(a.Get("--lr-schedule") ?? "constant", ignoreCase: true),
                EarlyStopping = a.Get("--early-stopping") is { } patience
                    ? new EarlyStopping(int.Parse(patience, CultureInfo.InvariantCulture), a.Get("--monitor") == "val_loss" ? EarlyStoppingMonitor.ValLoss : EarlyStoppingMonitor.ValAccuracy)
                    : null,
            };
            var validation = loaded.Validation ?? loaded.Test;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"resnet18 ({options.FineTuneBlocks} last blocks fine-tuned) + {options.Head} head on {data} (transparent pixels: {a.Get("--background") ?? "as stored"}): {loaded.Train.Count} training, {validation.Count} validation, {loaded.Test.Count} test images (read as 224x224 RGB in {loadSeconds:F1} s); augmentation {options.Augmentation} x{options.AugmentCopies} copies; {options.Epochs} epochs, Adam {options.LearningRate}, {Environment.ProcessorCount} cores"));
            // --cache FILE: a feature cache kept between benchmark runs (content-keyed, so any settings may share it).
            string? cacheFile = a.Get("--cache");
            if (cacheFile is not null && File.Exists(cacheFile))
            {
                Directory.CreateDirectory(options.Run.OutputDirectory);
                File.Copy(cacheFile, Path.Combine(options.Run.OutputDirectory, RunFolder.FeaturesFile));
            }
            var result = ClassifierTrainer.Train(loaded, options, new TrainBenchmark.SyncProgress<TrainingProgress>(p =>
            {
                if (p.Features is { } f && f.Done == f.Total)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  features of the {f.Images} images: {f.Total} done ({f.Computed} computed so far), RSS {Environment.WorkingSet / 1048576} MB"));
                }
                if (p.CompletedEpoch is { } m && (m.Epoch % 10 == 0 || p.StoppingEarly || options.FineTuneBlocks > 0))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  epoch {m.Epoch}: loss {m.TrainLoss:F4}, val_loss {m.TestLoss:F4}, val_accuracy {m.TestAccuracy:P2}"));
                }
            }));
            double trainSeconds = total.Elapsed.TotalSeconds;
            if (cacheFile is not null) { File.Copy(Path.Combine(options.Run.OutputDirectory, RunFolder.FeaturesFile), cacheFile, overwrite: true); }
            string onnx = Path.Combine(work, "model.onnx");
            using var model = TrainedModel.Load(result.RunDirectory);
            OnnxExporter.Export(model, onnx);
            var verification = OnnxVerifier.Verify(model, onnx, loaded.Test, count: 64, batchSize: 7);
            double allSeconds = total.Elapsed.TotalSeconds;
            var f = result.Features!;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"features: {f.Computed} images in {f.Seconds:F1} s = {f.ImagesPerSecond:F1} images/s on {Environment.ProcessorCount} cores ({f.Cached} from the cache)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"test accuracy {result.TestAccuracy:P2} on {loaded.Test.Count} images ({result.History.Count} epochs{(result.BestEpoch is { } b ? $", weights of epoch {b}" : "")}); wall time: load {loadSeconds:F0} s, load + train {trainSeconds:F0} s, load + train + export + verify {allSeconds:F0} s; export parity at batch 7: max |dlogit| {verification.MaxAbsDifference:E1}, argmax {verification.ArgmaxAgreement:P0}"));
            Console.WriteLine($"peak memory of this process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MB");
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>A folder of symbolic links to the first <paramref name="count"/> files (ordinal order) of each class folder.</summary>
    static string FirstPerClass(string source, int count, string target)
    {
        foreach (string classFolder in Directory.EnumerateDirectories(source).Order(StringComparer.Ordinal))
        {
            string to = Path.Combine(target, Path.GetFileName(classFolder));
            Directory.CreateDirectory(to);
            foreach (string file in Directory.EnumerateFiles(classFolder).Order(StringComparer.Ordinal).Take(count))
            {
                File.CreateSymbolicLink(Path.Combine(to, Path.GetFileName(file)), Path.GetFullPath(file));
            }
        }
        return target;
    }
}
