using System.Diagnostics;
using System.Globalization;
using MlPipeline.Data;
using MlPipeline.Datasets;
using MlPipeline.Training;

namespace MlPipeline.Benchmarks;

/// <summary>
/// Training sets larger than memory: the emoji set copied N times into class folders (file copies: the tool refuses
/// hard links within a set that is split, as they could put one file on both sides), read as 96x96 RGB
/// and trained for one epoch as <c>train --data DIR</c> does, each size in a fresh child process whose peak resident
/// memory (VmHWM) is read at its end. Sizes are 1,906 × <c>--copies</c> (default 4,16,64: 7,624, 30,496 and 121,984
/// images) with the decoded images in the run folder's cache file; the smallest is also trained with the images in
/// memory (the earlier path), alternately, for the time-per-image ratio.
/// </summary>
internal static class LargeTrainBenchmark
{
    public static int Run(string[] args)
    {
        var a = new BenchArgs(args);
        if (a.Get("--one") is { } one) { return One(a, one); }
        int[] copies = [.. (a.Get("--copies") ?? "4,16,64").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))];
        int rounds = a.Int("--rounds", 2);
        string work = Path.Combine(a.Get("--work") ?? Path.GetTempPath(), "mlpipeline-large-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(work);
            string emoji = a.Get("--data") ?? Path.Combine(work, "emoji");
            if (a.Get("--data") is null) { EmojiCategories.Write(emoji); }
            var results = new List<(string Mode, int Images, Dictionary<string, double> Figures)>();
            foreach (int n in copies)
            {
                string folder = Copied(emoji, Path.Combine(work, $"x{n}"), n);
                var modes = n == copies.Min() ? Enumerable.Range(0, rounds).SelectMany(_ => new[] { "disk", "memory" }).ToArray() : ["disk"];
                foreach (string mode in modes)
                {
                    var figures = Child(folder, Path.Combine(work, $"run-{n}-{mode}-{Guid.NewGuid():N}"), mode, a);
                    results.Add((mode, (int)figures["images"], figures));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {figures["images"],7:F0} images, {mode,-6}: peak RSS {figures["peak_mb"],6:F0} MB, read {figures["load_s"],6:F1} s, epoch {figures["epoch_s"],6:F1} s ({figures["epoch_s"] * 1e3 / figures["train_images"]:F3} ms/image), test accuracy {figures["accuracy"]:P1}"));
                }
                Directory.Delete(folder, recursive: true);
            }
            Console.WriteLine("images   images kept  peak RSS MB  read s  epoch s  ms/image");
            foreach (var (mode, images, f) in results)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{images,7}  {mode,11}  {f["peak_mb"],11:F0}  {f["load_s"],6:F1}  {f["epoch_s"],7:F1}  {f["epoch_s"] * 1e3 / f["train_images"],8:F3}"));
            }
            double PerImage(string mode) => results.Where(r => r.Mode == mode && r.Images == results.Min(x => x.Images)).Average(r => r.Figures["epoch_s"] / r.Figures["train_images"]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"time per image on {results.Min(r => r.Images)} images, cache file / memory: {PerImage("disk") / PerImage("memory"):F3} (mean of {rounds} alternating rounds each; target <= 1.15)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"largest peak RSS with the cache file: {results.Where(r => r.Mode == "disk").Max(r => r.Figures["peak_mb"]):F0} MB (target <= 1536 MB at every size)"));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The emoji folder's files copied <paramref name="copies"/> times into the same class folders.</summary>
    static string Copied(string emoji, string target, int copies)
    {
        foreach (string file in Directory.EnumerateFiles(emoji, "*.png", SearchOption.AllDirectories))
        {
            string label = Path.GetFileName(Path.GetDirectoryName(file)!);
            Directory.CreateDirectory(Path.Combine(target, label));
            for (int c = 0; c < copies; c++)
            {
                File.Copy(file, Path.Combine(target, label, $"{c:D3}-{Path.GetFileName(file)}"));
            }
        }
        return target;
    }

    /// <summary>Runs one size in a child process of this benchmark and returns its figures.</summary>
    static Dictionary<string, double> Child(string folder, string run, string mode, BenchArgs a)
    {
        string self = typeof(LargeTrainBenchmark).Assembly.Location;
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") { start.ArgumentList.Add(self); }
        foreach (string arg in new[] { "large-train", "--one", folder, "--run", run, "--mode", mode, "--threads", a.Get("--threads") ?? "2", "--side", a.Get("--side") ?? "96" }) { start.ArgumentList.Add(arg); }
        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0) { throw new InvalidOperationException($"The {mode} run on {folder} failed ({child.ExitCode}):\n{output}"); }
        string line = output.Split('\n').Last(l => l.StartsWith("figures ", StringComparison.Ordinal));
        return line["figures ".Length..].Split(' ').Select(p => p.Split('=')).ToDictionary(p => p[0], p => double.Parse(p[1], CultureInfo.InvariantCulture));
    }

    /// <summary>In the child: read the folder as <c>train --data DIR --size 96x96 --color rgb</c> does, train one epoch, print the figures.</summary>
    static int One(BenchArgs a, string folder)
    {
        int side = a.Int("--side", 96);
        string runPath = a.Get("--run")!;
        bool disk = a.Get("--mode") == "disk";
        using var run = RunFolder.Open(runPath);
        var clock = Stopwatch.StartNew();
        var data = ImageFolderData.Load(folder, new ImageFolderOptions { Width = side, Height = side, ColorMode = MlPipeline.Scoring.ColorMode.Rgb, CacheDirectory = disk ? run.Path : null }).Data;
        double load = clock.Elapsed.TotalSeconds;
        var options = new TrainingOptions { Run = new RunFolderOptions { OutputDirectory = runPath }, Epochs = 1, Execution = new ExecutionOptions { Threads = a.Int("--threads", 2) } };
        var result = ClassifierTrainer.Train(data, options, run);
        var epoch = result.History[^1];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"figures images={data.Train.Count + data.Test.Count} train_images={data.Train.Count} load_s={load:F2} epoch_s={epoch.Seconds:F2} accuracy={result.TestAccuracy:F4} peak_mb={PeakMegabytes():F1}"));
        return 0;
    }

    /// <summary>This process's peak resident memory (VmHWM), in MiB.</summary>
    static double PeakMegabytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }
}
