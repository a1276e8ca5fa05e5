using System.Diagnostics;
using System.Globalization;
using MlPipeline.Datasets;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Benchmarks;

/// <summary>
/// Looks for leaks: 50,000 single-image predictions through one classifier, then classifiers loaded and disposed
/// 300 times, printing resident memory as it goes. Flat numbers mean nothing native is left behind per call.
/// </summary>
internal static class PredictLeakBenchmark
{
    public static int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int predictions = a.Int("--predictions", 50_000);
        int loads = a.Int("--loads", 300);
        var test = Mnist.Load(Mnist.Ensure()).Test;
        var images = Enumerable.Range(0, 100).Select(i => GrayPng.Encode(test.Image(i), 28, 28)).ToList();
        var clock = Stopwatch.StartNew();
        using (var classifier = ImageClassifier.LoadBuiltInMnist())
        {
            for (int i = 1; i <= predictions; i++)
            {
                classifier.Predict(images[i % images.Count]);
                if (i % 10_000 == 0 || i == 1_000) { Report($"{i,6} predictions", clock); }
            }
        }
        clock.Restart();
        for (int i = 1; i <= loads; i++)
        {
            using var classifier = ImageClassifier.LoadBuiltInMnist();
            classifier.Predict(images[i % images.Count]);
            if (i % 100 == 0 || i == 10) { Report($"{i,6} load/predict/dispose cycles", clock); }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak RSS of the process {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MB"));
        return 0;
    }

    static void Report(string what, Stopwatch clock)
    {
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: RSS {process.WorkingSet64 / 1048576.0,4:F0} MB, managed {GC.GetTotalMemory(false) / 1048576.0,4:F0} MB ({clock.Elapsed.TotalSeconds:F1} s)"));
    }
}
