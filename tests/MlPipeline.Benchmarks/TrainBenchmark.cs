using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MlPipeline.Data;
using MlPipeline.Datasets;
using MlPipeline.Training;

namespace MlPipeline.Benchmarks;

/// <summary>
/// Trains a model with TorchSharp (through MlPipeline) and with PyTorch (Debian's python3-torch) on the same decoded
/// tensors, same layers, batch, optimiser, seed and thread count, one after the other on the same machine. Prints the
/// load speed of an image folder, epoch times and their ratio, validation and test accuracy, and this process's peak
/// memory. The data is MNIST or Fashion-MNIST (idx files) or an image folder (<c>--data</c>, as <c>train --data</c>).
/// </summary>
internal static class TrainBenchmark
{
    public static int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int epochs = a.Int("--epochs", 1);
        int threads = a.Int("--threads", 1);
        string model = a.Get("--model") ?? "cnn";
        string python = a.Get("--python") ?? "/usr/bin/python3";
        var initialization = a.Get("--init") == "glorot" ? WeightInitialization.Glorot : WeightInitialization.PyTorch;
        var (data, description) = Load(a);
        if (args.Contains("--load-only")) { return 0; }
        if (a.Get("--holdout") is { } holdout)
        {
            // Early stopping must not choose on the test images: hold out part of the training split for it.
            var (kept, held) = ImageFolderData.Split(data.Train, double.Parse(holdout, CultureInfo.InvariantCulture), 42, []);
            data = data with { Train = kept, Validation = held, Test = data.Validation ?? data.Test };
        }
        double loadPeakMb = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
        var validation = data.Validation ?? data.Test;
        string work = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(work);
            var options = new TrainingOptions
            {
                Run = new RunFolderOptions { OutputDirectory = Path.Combine(work, "run") },
                Model = model,
                Epochs = epochs,
                Execution = new ExecutionOptions { Threads = threads },
                Initialization = initialization,
                LearningRate = a.Get("--lr") is { } lr ? double.Parse(lr, CultureInfo.InvariantCulture) : 0.001,
                Augmentation = Augmentation.Parse(a.Get("--augment") ?? "none"),
                EarlyStopping = a.Get("--early-stopping") is { } patience
                    ? new EarlyStopping(int.Parse(patience, CultureInfo.InvariantCulture), a.Get("--monitor") == "val_accuracy" ? EarlyStoppingMonitor.ValAccuracy : EarlyStoppingMonitor.ValLoss)
                    : null,
                Schedule = Enum.Parse<LearningRateSchedule>(a.Get("--lr-schedule") ?? "constant", ignoreCase: true),
                ClassWeights = a.Get("--class-weights") == "balanced" ? ClassWeighting.Balanced : ClassWeighting.None,
                WeightDecay = a.Get("--weight-decay") is { } wd ? double.Parse(wd, CultureInfo.InvariantCulture) : 0,
                LabelSmoothing = a.Get("--label-smoothing") is { } ls ? double.Parse(ls, CultureInfo.InvariantCulture) : 0,
            };
            var spec = options.Model.Resolve(data.Train.ClassNames.Count, data.Train.Channels, data.Train.Height, data.Train.Width);
            WriteTensors(work, data, spec, options);

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Training the {model} on {description}: {data.Train.Count} training, {validation.Count} validation, {data.Test.Count} test images of {data.Train.Channels}x{data.Train.Height}x{data.Train.Width}; {epochs} epoch(s), batch {options.BatchSize}, Adam {options.LearningRate}, {initialization} initialisation, {threads} thread(s), {Environment.ProcessorCount} cores"));
            var clock = Stopwatch.StartNew();
            var ours = ClassifierTrainer.Train(data, options, new SyncProgress<TrainingProgress>(p =>
            {
                if (p.CompletedEpoch is { } m)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  epoch {m.Epoch}: {m.Seconds:F1} s, loss {m.TrainLoss:F4}, val_loss {m.TestLoss:F4}, val_accuracy {m.TestAccuracy:P2}, lr {m.LearningRate:G3}{(p.BestEpoch == m.Epoch ? " (best)" : "")}"));
                }
            }));
            double trainSeconds = clock.Elapsed.TotalSeconds;
            double peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"MlPipeline: {ours.History.Count} epoch(s) in {trainSeconds:F0} s{(ours.BestEpoch is { } best ? $", weights of epoch {best}" : "")}; test accuracy {ours.TestAccuracy:P2} on {data.Test.Count} images; settings: {options.Augmentation}, {options.Schedule}, class weights {options.ClassWeights}"));
            var (theirs, theirTest) = args.Contains("--no-pytorch") ? ([], double.NaN) : RunPyTorch(python, work);
            int rounds = a.Int("--rounds", 1);
            if (rounds > 1 && theirs.Count > 0)
            {
                Alternate(data, options, python, work, rounds, (ours.History.Average(h => h.Seconds), theirs.Average(t => t.Seconds)));
            }

            Console.WriteLine("epoch  TorchSharp s  PyTorch s  ratio  TorchSharp val acc  PyTorch val acc");
            for (int i = 0; i < Math.Min(epochs, ours.History.Count); i++)
            {
                var o = ours.History[i];
                var (seconds, accuracy) = i < theirs.Count ? theirs[i] : (double.NaN, double.NaN);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{i + 1,5}  {o.Seconds,12:F1}  {seconds,9:F1}  {o.Seconds / seconds,5:F2}  {o.TestAccuracy,18:P2}  {accuracy,15:P2}"));
            }
            double oursMean = ours.History.Average(h => h.Seconds);
            double theirsMean = theirs.Count > 0 ? theirs.Average(t => t.Seconds) : double.NaN;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"mean epoch: TorchSharp {oursMean:F1} s, PyTorch {theirsMean:F1} s, TorchSharp/PyTorch time ratio {oursMean / theirsMean:F2} (<= 1 means MlPipeline is no slower)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"test accuracy after {epochs} epoch(s): TorchSharp {ours.TestAccuracy:P2}, PyTorch {theirTest:P2} ({data.Test.Count} images)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"peak memory of the training process: {peakMb:F0} MB ({loadPeakMb:F0} MB after loading)"));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Repeats the pair (MlPipeline, then PyTorch) until <paramref name="rounds"/> pairs have run, and prints each
    /// pair's ratio and their median: on a machine whose speed drifts by 30 % within minutes, a single pair decides
    /// nothing, while a drift that lasts less than a pair hits both sides of some pairs and not others.
    /// </summary>
    static void Alternate(TrainingData data, TrainingOptions options, string python, string work, int rounds, (double Ours, double Theirs) first)
    {
        var pairs = new List<(double Ours, double Theirs)> { first };
        for (int round = 2; round <= rounds; round++)
        {
            var run = options with { Run = options.Run with { OutputDirectory = Path.Combine(work, $"run{round}") } };
            var ours = ClassifierTrainer.Train(data, run);
            var (theirs, _) = RunPyTorch(python, work);
            if (theirs.Count == 0) { return; }
            pairs.Add((ours.History.Average(h => h.Seconds), theirs.Average(t => t.Seconds)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  round {round}: TorchSharp {pairs[^1].Ours:F1} s/epoch, PyTorch {pairs[^1].Theirs:F1} s/epoch"));
        }
        var ratios = pairs.Select(p => p.Ours / p.Theirs).Order().ToArray();
        double median = ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[ratios.Length / 2 - 1] + ratios[ratios.Length / 2]) / 2;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rounds} alternating rounds: TorchSharp/PyTorch time ratios {string.Join(", ", pairs.Select(p => (p.Ours / p.Theirs).ToString("F2", CultureInfo.InvariantCulture)))}; median {median:F2}; total {pairs.Sum(p => p.Ours):F1} s against {pairs.Sum(p => p.Theirs):F1} s (ratio {pairs.Sum(p => p.Ours) / pairs.Sum(p => p.Theirs):F2})"));
    }

    /// <summary>The data: an image folder (timed), or MNIST / Fashion-MNIST from their idx files.</summary>
    static (TrainingData Data, string Description) Load(BenchArgs a)
    {
        if (a.Get("--data") is { } folder)
        {
            var size = a.Get("--size")?.Split('x');
            var options = new ImageFolderOptions
            {
                Width = size is null ? null : int.Parse(size[0], CultureInfo.InvariantCulture),
                Height = size is null ? null : int.Parse(size[1], CultureInfo.InvariantCulture),
                ValidationSplit = a.Get("--val-split") is { } split ? double.Parse(split, CultureInfo.InvariantCulture) : 0.2,
                Test = a.Get("--test"),
            };
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var loaded = ImageFolderData.Load(folder, options, new SyncProgress<DataProgress>(m => { if (m.Message is { } line) { Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {clock.Elapsed.TotalSeconds,5:F2} s  {line}")); } }));
            double seconds = clock.Elapsed.TotalSeconds;
            double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            var d = loaded.Data;
            int images = d.Train.Count + (d.Validation is { } v && !ReferenceEquals(v, d.Test) ? v.Count : 0) + d.Test.Count + loaded.Failed.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"loaded {images} image files in {seconds:F2} s: {images / seconds:F0} images/s on {Environment.ProcessorCount} cores ({cpuSeconds / images * 1e6:F0} µs of CPU per image), {loaded.Failed.Count} failed; target >= 20,000 images/s"));
            return (d, $"the image folder {folder}");
        }
        var set = IdxDataSet.ByName[a.Get("--dataset") ?? "mnist"];
        return (set.Load(set.Ensure()), set.Name);
    }

    /// <summary>Writes the three sets' bytes and labels, and what PyTorch needs to build the same model, for pytorch_train.py.</summary>
    static void WriteTensors(string folder, TrainingData data, MlPipeline.Training.Models.ModelSpec spec, TrainingOptions options)
    {
        foreach (var (name, set) in new[] { ("train", data.Train), ("validation", data.Validation ?? data.Test), ("test", data.Test) })
        {
            File.WriteAllBytes(Path.Combine(folder, $"{name}-x.u8"), set.ToArray());
            var labels = set.Labels.ToArray().Select(l => (long)l).ToArray();
            File.WriteAllBytes(Path.Combine(folder, $"{name}-y.i64"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(labels.AsSpan()).ToArray());
        }
        var meta = new Dictionary<string, object>
        {
            ["architecture"] = JsonSerializer.SerializeToElement(spec, new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } }),
            ["epochs"] = options.Epochs,
            ["batch"] = options.BatchSize,
            ["lr"] = options.LearningRate,
            ["threads"] = options.Execution.Threads ?? Environment.ProcessorCount,
            ["seed"] = options.Seed,
        };
        File.WriteAllText(Path.Combine(folder, "meta.json"), JsonSerializer.Serialize(meta));
    }

    static (List<(double Seconds, double Accuracy)> Epochs, double TestAccuracy) RunPyTorch(string python, string folder)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "pytorch_train.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(folder);
        var results = new List<(double, double)>();
        double test = double.NaN;
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            while (process.StandardOutput.ReadLine() is { } line)
            {
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.TryGetProperty("test_accuracy", out var accuracy)) { test = accuracy.GetDouble(); }
                else { results.Add((json.RootElement.GetProperty("seconds").GetDouble(), json.RootElement.GetProperty("validation_accuracy").GetDouble())); }
            }
            process.WaitForExit();
            if (process.ExitCode != 0) { Console.WriteLine($"PyTorch run failed ({process.ExitCode}): {stderr.Result.Trim()}"); }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"PyTorch not run: {python}: {e.Message} (apt-get install python3-torch)");
        }
        return (results, test);
    }

    /// <summary>Reports on the calling thread, at once (Progress&lt;T&gt; would post to the thread pool).</summary>
    internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
