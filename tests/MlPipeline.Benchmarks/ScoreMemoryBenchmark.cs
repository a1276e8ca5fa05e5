using System.Diagnostics;
using System.Globalization;
using MlPipeline.Datasets;
using MlPipeline.Scoring;

namespace MlPipeline.Benchmarks;

/// <summary>
/// Streams a 100,000-image folder (the MNIST test PNGs in ten copies; copies 1 to 9 are symbolic links) through folder scoring and prints the
/// resident memory every 10,000 results and at the end, to show it stays flat.
/// </summary>
internal static class ScoreMemoryBenchmark
{
    public static int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int copies = a.Int("--copies", 10);
        var test = Mnist.Load(Mnist.Ensure()).Test;
        string folder = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-png-100k");
        string first = Path.Combine(folder, "copy0");
        if (!Directory.Exists(first)) { test.WritePngFolder(first); }
        for (int c = 1; c < copies; c++)
        {
            string copy = Path.Combine(folder, "copy" + c.ToString(CultureInfo.InvariantCulture));
            if (Directory.Exists(copy)) { continue; }
            foreach (string file in Directory.EnumerateFiles(first, "*.png", SearchOption.AllDirectories))
            {
                string target = Path.Combine(copy, Path.GetRelativePath(first, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.CreateSymbolicLink(target, file);
            }
        }
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"before scoring: RSS {Rss():F0} MB"));
        var clock = Stopwatch.StartNew();
        int count = 0, scored = 0;
        foreach (var result in classifier.ScoreFolder(folder, recursive: true))
        {
            count++;
            if (result.Succeeded) { scored++; }
            if (count % 10_000 == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count,7} results: RSS {Rss(),4:F0} MB, managed {GC.GetTotalMemory(false) / 1048576.0,4:F0} MB, gen2 GCs {GC.CollectionCount(2)}, {count / clock.Elapsed.TotalSeconds:F0} images/s"));
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scored {scored} of {count}; peak RSS of the process {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MB"));
        return scored == count ? 0 : 1;
    }

    static double Rss()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64 / 1048576.0;
    }
}
