using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MlPipeline.Data;
using MlPipeline.Scoring;

namespace MlPipeline.Benchmarks;

/// <summary>
/// The 10,000 MNIST test images as PNG files, scored three ways in one run: (a) the stock ML.NET pipeline ending in
/// ApplyOnnxModel (one model call per row), (b) MlPipeline's folder scoring, (c) ONNX Runtime alone on pixels already
/// in memory, batched. Prints images/s and the ratios the targets are stated in.
/// </summary>
internal static class ScoreBenchmark
{
    public static int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int batch = a.Int("--batch-size", 128);
        var test = Mnist.Load(Mnist.Ensure()).Test;
        string folder = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-png");
        if (!Directory.Exists(folder) || Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories).Length != test.Count)
        {
            test.WritePngFolder(folder);
        }
        string model = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-mnist-cnn.onnx");
        File.WriteAllBytes(model, ImageClassifier.BuiltInMnistModel());
        using var classifier = ImageClassifier.Load(model, new ImageClassifierOptions { BatchSize = batch });
        var files = ImageClassifier.ListFolder(folder, recursive: true).Images;
        Console.WriteLine($"Scoring {files.Count} MNIST test PNGs on {Environment.ProcessorCount} cores, batch {batch}");

        // Each way runs once per round, in turn, so that a slow spell of the machine does not fall on one of them alone.
        int rounds = a.Int("--rounds", 3);
        var (ml, pipeline, _) = classifier.StockPipeline(folder, model);
        var rows = ml.Data.LoadFromEnumerable(files.Select(f => new PathRow { Path = Path.GetRelativePath(folder, f) }));
        float[] pixels = new float[test.Count * 784];
        var span = test.Pixels.Span;
        for (int i = 0; i < pixels.Length; i++) { pixels[i] = span[i] / 255f; }
        using var session = new InferenceSession(model);
        var rates = new List<(double Stock, double Ours, double Transform, double Raw)>();
        for (int round = 1; round <= rounds; round++)
        {
            // (a) stock ML.NET: LoadImages → ResizeImages → ConvertToGrayscale → ExtractPixels → ApplyOnnxModel.
            var clock = Stopwatch.StartNew();
            int stockCount = ml.Data.CreateEnumerable<Scores>(pipeline.Fit(rows).Transform(rows), reuseRowObject: true).Count();
            double stock = stockCount / clock.Elapsed.TotalSeconds;

            // (b) MlPipeline's folder scoring.
            clock.Restart();
            int ours = classifier.ScoreFiles(folder, files).Count(r => r.Succeeded);
            double oursRate = ours / clock.Elapsed.TotalSeconds;

            // (d) MlPipeline's ML.NET transform in an ML.NET pipeline over the same rows as (a).
            clock.Restart();
            using (var transform = ml.Transforms.ScoreImageClassifier(classifier, "path", folder).Fit(rows))
            {
                int transformed = ml.Data.CreateEnumerable<Scored>(transform.Transform(rows), reuseRowObject: true).Count(r => r.ImageError.Length == 0);
                if (transformed != files.Count) { throw new InvalidOperationException($"The transform scored {transformed} of {files.Count} images."); }
            }
            double transformRate = files.Count / clock.Elapsed.TotalSeconds;

            // (c) ONNX Runtime alone on preprocessed pixels in memory.
            clock.Restart();
            for (int start = 0; start < test.Count; start += batch)
            {
                int n = Math.Min(batch, test.Count - start);
                using var value = OrtValue.CreateTensorValueFromMemory(pixels[(start * 784)..((start + n) * 784)], [n, 1, 28, 28]);
                using var outputs = session.Run(new RunOptions(), ["input"], [value], ["probabilities"]);
            }
            double raw = test.Count / clock.Elapsed.TotalSeconds;
            rates.Add((stock, oursRate, transformRate, raw));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: (a) stock {stock:F0}, (b) folder scoring {oursRate:F0}, (d) transform {transformRate:F0}, (c) ONNX Runtime alone {raw:F0} images/s; b/a {oursRate / stock:F2}, d/a {transformRate / stock:F2}, b/c {oursRate / raw:F2}"));
        }

        if (args.Contains("--stages"))
        {
            var clock = Stopwatch.StartNew();
            var bytes = files.Select(File.ReadAllBytes).ToList();
            double read = clock.Elapsed.TotalMilliseconds * 1000 / files.Count;
            clock.Restart();
            var decoded = bytes.Select(b => MlPipeline.Internals.ImageDecoder.DecodeAsMLImageHoldsIt(b, long.MaxValue)).ToList();
            double decode = clock.Elapsed.TotalMilliseconds * 1000 / files.Count;
            clock.Restart();
            foreach (var b in bytes.Take(2000)) { classifier.Preprocess(b); }
            double single = clock.Elapsed.TotalMilliseconds * 1000 / 2000;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stages, µs/image on one thread: read {read:F1}, decode {decode:F1}, decode + preprocess {single:F1}"));
            clock.Restart();
            foreach (var chunk in decoded.Chunk(batch)) { classifier.Pixels(chunk); }
            double batched = clock.Elapsed.TotalMilliseconds * 1000 / files.Count;
            var stockImages = bytes.Select(b => MlPipeline.Internals.ImageDecoder.Decode(b, long.MaxValue)).ToList();
            clock.Restart();
            foreach (var chunk in stockImages.Chunk(batch)) { classifier.StockPixels(chunk); }
            double stockBatched = clock.Elapsed.TotalMilliseconds * 1000 / files.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"preprocessing decoded images in batches of {batch}, µs/image of wall time: fused {batched:F1} (all cores), stock ML.NET chain {stockBatched:F1} (one cursor)"));
            foreach (var d in decoded) { d.Dispose(); }
            foreach (var d in stockImages) { d.Dispose(); }
        }
        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"medians over {rounds} rounds:"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(a) stock ML.NET pipeline + ApplyOnnxModel:     {Median(rates.Select(r => r.Stock)),8:F0} images/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(b) MlPipeline folder scoring:                 {Median(rates.Select(r => r.Ours)),8:F0} images/s  (b/a = {Median(rates.Select(r => r.Ours / r.Stock)):F2}, target >= 2.5)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(d) ScoreImageClassifier in an ML.NET pipeline: {Median(rates.Select(r => r.Transform)),8:F0} images/s  (d/a = {Median(rates.Select(r => r.Transform / r.Stock)):F2}, target >= 2.5)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(c) ONNX Runtime alone, pixels in memory:      {Median(rates.Select(r => r.Raw)),8:F0} images/s  (b/c = {Median(rates.Select(r => r.Ours / r.Raw)):F2}, d/c = {Median(rates.Select(r => r.Transform / r.Raw)):F2}, target >= 0.5)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak memory of this process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MB"));
        return 0;
    }

    sealed class PathRow
    {
        [ColumnName("path")]
        public string Path { get; set; } = "";
    }

    sealed class Scored
    {
        public float[] Score { get; set; } = [];

        public string ImageError { get; set; } = "";
    }

    sealed class Scores
    {
        [ColumnName("probabilities")]
        public float[] Probabilities { get; set; } = [];
    }
}
