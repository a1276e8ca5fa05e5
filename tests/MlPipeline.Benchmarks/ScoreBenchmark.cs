using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MlPipeline.Data;
using MlPipeline.Datasets;
using MlPipeline.Scoring;
using MlPipeline.TestSupport;

namespace MlPipeline.Benchmarks;

/// <summary>
/// The 10,000 MNIST test images as PNG files, scored three ways in one run: (a) the stock ML.NET pipeline ending in
/// ApplyOnnxModel (one model call per row), (b) MlPipeline's folder scoring, (c) ONNX Runtime alone on pixels already
/// in memory, batched. Prints images/s and the ratios the targets are stated in.
/// </summary>
internal static class ScoreBenchmark
{
    /// <summary>The fused path's model inputs for decoded images, stacked [N, C, H, W], on every core: the stage timing.</summary>
    static float[] FusedPixels(ImageClassifier classifier, IReadOnlyList<SkiaSharp.SKBitmap> images)
    {
        var preprocessor = classifier.Model.Preprocessor;
        int size = classifier.Model.ImageSize;
        float[] pixels = new float[images.Count * size];
        Parallel.For(0, images.Count, new ParallelOptions { MaxDegreeOfParallelism = classifier.Options.Threads ?? Environment.ProcessorCount }, i => preprocessor.Fill(images[i], pixels.AsSpan(i * size, size)));
        return pixels;
    }

    public static int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int batch = a.Int("--batch-size", 128);
        var test = Mnist.Load(Mnist.Ensure()).Test;
        bool rgb = args.Contains("--rgb64");
        var (folder, model) = rgb ? Rgb64.Prepare(test) : (Path.Combine(Path.GetTempPath(), "mlpipeline-bench-png"), Path.Combine(Path.GetTempPath(), "mlpipeline-bench-mnist-cnn.onnx"));
        if (!rgb)
        {
            if (!Directory.Exists(folder) || Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories).Length != test.Count) { test.WritePngFolder(folder); }
            File.WriteAllBytes(model, ImageClassifier.BuiltInMnistModel());
        }
        using var classifier = ImageClassifier.Load(model, new ImageClassifierOptions { BatchSize = batch });
        var files = ImageClassifier.ListFolder(folder, recursive: true).Images;
        int size = classifier.Channels * classifier.Preprocessing.Height * classifier.Preprocessing.Width;
        Console.WriteLine($"Scoring {files.Count} {(rgb ? "RGB 64x64 (tinted, upscaled MNIST digits; a cnn for 3x64x64)" : "MNIST test")} PNGs on {Environment.ProcessorCount} cores, batch {batch}");

        // Each way runs once per round, in turn, so that a slow spell of the machine does not fall on one of them alone.
        int rounds = a.Int("--rounds", 3);
        var (ml, pipeline, _) = StockChain.Pipeline(classifier, folder, model);
        var rows = ml.Data.LoadFromEnumerable(files.Select(f => new PathRow { Path = Path.GetRelativePath(folder, f) }));
        // The exact model inputs, in memory, for ONNX Runtime alone.
        float[] pixels = [.. files.SelectMany(f => classifier.Preprocess(File.ReadAllBytes(f)))];
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
            for (int start = 0; start < files.Count; start += batch)
            {
                int n = Math.Min(batch, files.Count - start);
                using var value = OrtValue.CreateTensorValueFromMemory(pixels[(start * size)..((start + n) * size)], [n, classifier.Channels, classifier.Preprocessing.Height, classifier.Preprocessing.Width]);
                using var outputs = session.Run(new RunOptions(), [classifier.InputName], [value], ["probabilities"]);
            }
            double raw = files.Count / clock.Elapsed.TotalSeconds;
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
            foreach (var chunk in decoded.Chunk(batch)) { FusedPixels(classifier, chunk); }
            double batched = clock.Elapsed.TotalMilliseconds * 1000 / files.Count;
            var stockImages = bytes.Select(b => MlPipeline.Internals.ImageDecoder.Decode(b, long.MaxValue)).ToList();
            var stockChain = new StockChain(classifier.Preprocessing);
            clock.Restart();
            foreach (var chunk in stockImages.Chunk(batch)) { stockChain.Pixels(chunk); }
            double stockBatched = clock.Elapsed.TotalMilliseconds * 1000 / files.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"preprocessing decoded images in batches of {batch}, µs/image of wall time: fused {batched:F1} (all cores), stock ML.NET chain {stockBatched:F1} (one cursor)"));
            clock.Restart();
            var tensors = ml.Transforms.LoadImageTensor("t", "path", classifier.Preprocessing, folder).Fit(rows).Transform(rows);
            int loaded = ml.Data.CreateEnumerable<Tensor>(tensors, reuseRowObject: true).Count();
            double loadRate = loaded / clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"LoadImageTensor alone (read, decode, preprocess; no model): {loadRate:F0} images/s"));
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

    sealed class Tensor
    {
        [ColumnName("t")]
        [VectorType]
        public float[] Values { get; set; } = [];
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

    /// <summary>10,000 RGB 64x64 PNGs (MNIST test digits upscaled and tinted) and a cnn for 3x64x64 trained one epoch on 512 of them.</summary>
    static class Rgb64
    {
        public static (string Folder, string Model) Prepare(ImageSet test)
        {
            string folder = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-rgb64");
            string model = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-rgb64.onnx");
            if (Directory.Exists(folder) && File.Exists(model)) { return (folder, model); }
            const int side = 64;
            int count = test.Count;
            byte[] pixels = new byte[count * 3 * side * side];
            var random = new Random(5);
            for (int n = 0; n < count; n++)
            {
                var digit = test.Image(n);
                int[] tint = [random.Next(128, 256), random.Next(256), random.Next(256)];
                for (int c = 0; c < 3; c++)
                {
                    for (int y = 0; y < side; y++)
                    {
                        for (int x = 0; x < side; x++)
                        {
                            pixels[(((n * 3) + c) * side * side) + (y * side) + x] = (byte)(digit[(y * 28 / side * 28) + (x * 28 / side)] * tint[c] / 255);
                        }
                    }
                }
            }
            var set = new ImageSet(pixels, test.Labels.ToArray(), 3, side, side, test.ClassNames);
            string partial = folder + ".partial";
            if (Directory.Exists(partial)) { Directory.Delete(partial, recursive: true); }
            for (int n = 0; n < count; n++)
            {
                using var bitmap = new SkiaSharp.SKBitmap(side, side, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
                var image = set.Image(n);
                for (int i = 0; i < side * side; i++)
                {
                    bitmap.SetPixel(i % side, i / side, new SkiaSharp.SKColor(image[i], image[(side * side) + i], image[(2 * side * side) + i]));
                }
                string dir = Path.Combine(partial, test.ClassNames[test.Labels.Span[n]]);
                Directory.CreateDirectory(dir);
                using var png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(dir, $"{n:D5}.png"), png.ToArray());
            }
            var small = new ImageSet(pixels[..(512 * 3 * side * side)], test.Labels.ToArray()[..512], 3, side, side, test.ClassNames);
            string run = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-rgb64-run");
            if (Directory.Exists(run)) { Directory.Delete(run, recursive: true); }
            var result = MlPipeline.Training.ClassifierTrainer.Train(new TrainingData(small, small, new Dictionary<string, string>()),
                new MlPipeline.Training.TrainingOptions { Run = new MlPipeline.Training.RunFolderOptions { OutputDirectory = run }, Epochs = 1, Execution = new MlPipeline.Training.ExecutionOptions { Threads = 2 } });
            using (var trained = MlPipeline.Training.TrainedModel.Load(result.RunDirectory))
            {
                MlPipeline.Training.Export.OnnxExporter.Export(trained, model);
            }
            Directory.Move(partial, folder);
            return (folder, model);
        }
    }
}
