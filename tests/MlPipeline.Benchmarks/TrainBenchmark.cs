using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MlPipeline.Data;
using MlPipeline.Training;

namespace MlPipeline.Benchmarks;

/// <summary>
/// Trains the reference CNN on full MNIST with TorchSharp (through MlPipeline) and with PyTorch (Debian's python3-torch),
/// same settings and thread count, one after the other on the same machine, and prints epoch times, their ratio,
/// test accuracy and this process's peak memory.
/// </summary>
internal static class TrainBenchmark
{
    public static int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int epochs = a.Int("--epochs", 1);
        int threads = a.Int("--threads", 1);
        string python = a.Get("--python") ?? "/usr/bin/python3";
        string mnist = Mnist.Ensure();
        var data = Mnist.Load(mnist);
        string run = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-" + Guid.NewGuid().ToString("N"));

        Console.WriteLine($"Training the cnn on full MNIST: {epochs} epoch(s), batch 64, Adam 1e-3, {threads} thread(s), {Environment.ProcessorCount} cores");
        var ours = ClassifierTrainer.Train(data, new TrainingOptions { OutputDirectory = run, Epochs = epochs, Threads = threads, Initialization = WeightInitialization.PyTorch });
        Directory.Delete(run, recursive: true);
        double peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
        var theirs = RunPyTorch(python, mnist, epochs, threads);

        Console.WriteLine("epoch  TorchSharp s  PyTorch s  ratio  TorchSharp acc  PyTorch acc");
        for (int i = 0; i < epochs; i++)
        {
            var o = ours.History[i];
            var (seconds, accuracy) = i < theirs.Count ? theirs[i] : (double.NaN, double.NaN);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i + 1,5}  {o.Seconds,12:F1}  {seconds,9:F1}  {o.Seconds / seconds,5:F2}  {o.TestAccuracy,14:P2}  {accuracy,11:P2}"));
        }
        double oursMean = ours.History.Average(h => h.Seconds);
        double theirsMean = theirs.Count > 0 ? theirs.Average(t => t.Seconds) : double.NaN;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mean epoch: TorchSharp {oursMean:F1} s, PyTorch {theirsMean:F1} s, TorchSharp/PyTorch time ratio {oursMean / theirsMean:F2} (<= 1 means MlPipeline is no slower)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak memory of the training process: {peakMb:F0} MB"));
        return 0;
    }

    static List<(double Seconds, double Accuracy)> RunPyTorch(string python, string mnist, int epochs, int threads)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "pytorch_mnist.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, mnist, epochs.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        var results = new List<(double, double)>();
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            while (process.StandardOutput.ReadLine() is { } line)
            {
                using var json = JsonDocument.Parse(line);
                results.Add((json.RootElement.GetProperty("seconds").GetDouble(), json.RootElement.GetProperty("test_accuracy").GetDouble()));
            }
            process.WaitForExit();
            if (process.ExitCode != 0) { Console.WriteLine($"PyTorch run failed ({process.ExitCode}): {stderr.Result.Trim()}"); }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"PyTorch not run: {python}: {e.Message} (apt-get install python3-torch)");
        }
        return results;
    }
}
