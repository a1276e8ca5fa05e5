using System.Diagnostics;
using System.Globalization;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Benchmarks;

/// <summary>
/// Camera-size photos: a folder of 6000x4000 (24-megapixel) JPEGs, made once and kept in the temp folder, scored with
/// the built-in model, then decoded and resized by Pillow with its reduced-scale <c>draft</c> on one core, in one run.
/// Prints images/s, CPU time per image on both sides and this process's peak memory. <c>--full-decode</c> scores
/// with reduced-scale decoding off.
/// </summary>
internal static class LargePhotoBenchmark
{
    const string Pillow = """
        import sys, time, os
        from PIL import Image
        files = sys.argv[1:]
        for mode in ("L", "RGB"):
            start = time.process_time()
            for f in files:
                im = Image.open(f)
                im.draft(mode, (28, 28))
                im.convert("L").resize((28, 28), Image.BILINEAR)
            print((time.process_time() - start) / len(files))
        """;

    public static int Run(string[] args)
    {
        var a = new BenchArgs(args);
        int count = a.Int("--count", 48);
        bool full = args.Contains("--full-decode");
        string folder = Path.Combine(Path.GetTempPath(), "mlpipeline-bench-photos");
        var files = Enumerable.Range(0, count).Select(i => Path.Combine(folder, $"photo{i:D4}.jpg")).ToList();
        Directory.CreateDirectory(folder);
        var made = Stopwatch.StartNew();
        Parallel.ForEach(files.Where(f => !File.Exists(f)), MakePhoto);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count} photos of 6000x4000 in {folder} ({files.Sum(f => new FileInfo(f).Length) / 1048576.0:F0} MB; {made.Elapsed.TotalSeconds:F0} s to make the missing ones)"));

        // Decoding alone, one thread: the codec's share of the cost.
        var decodeCpu = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (string f in files.Take(24))
        {
            using var bytes = MlPipeline.Internals.ImageDecoder.ReadFilePooled(f);
            using var bitmap = MlPipeline.Internals.ImageDecoder.DecodeAsMLImageHoldsIt(bytes.Span, long.MaxValue, false, full ? null : new SKSizeI(28, 28), null, out _);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reading and decoding alone, one thread: {(Process.GetCurrentProcess().TotalProcessorTime - decodeCpu).TotalMilliseconds / 24:F0} ms of CPU per image"));

        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { ReducedScaleDecoding = !full });
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        int scored = classifier.ScoreFiles(folder, files).Count(r => r.Succeeded);
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuPerImage = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"MlPipeline ({(full ? "full-size decoding" : "reduced-scale decoding")}): {scored} scored in {seconds:F1} s, {count / seconds:F1} images/s on {Environment.ProcessorCount} cores, {cpuPerImage * 1000:F0} ms of CPU per image; peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MB"));

        var start = new ProcessStartInfo(a.Get("--python") ?? "/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Pillow);
        foreach (string f in files) { start.ArgumentList.Add(f); }
        try
        {
            using var python = Process.Start(start)!;
            string[] output = python.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            python.WaitForExit();
            if (python.ExitCode == 0 && output.Length == 2)
            {
                double gray = double.Parse(output[0], CultureInfo.InvariantCulture), colour = double.Parse(output[1], CultureInfo.InvariantCulture);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Pillow draft + convert + resize, one core: {gray * 1000:F0} ms of CPU per image decoding luminance only (draft \"L\"), {colour * 1000:F0} ms decoding colour (draft \"RGB\", as SkiaSharp always does); MlPipeline's CPU per image / Pillow's = {cpuPerImage / gray:F2} and {cpuPerImage / colour:F2} (target <= 1.0)"));
            }
            else
            {
                Console.WriteLine($"Pillow run failed ({python.ExitCode}): {python.StandardError.ReadToEnd().Trim()}");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"Pillow not run: {e.Message} (apt-get install python3-pil)");
        }
        return 0;
    }

    /// <summary>A 6000x4000 JPEG with smooth gradients, edges and grain, like a photo, at quality 90.</summary>
    static void MakePhoto(string path)
    {
        const int width = 6000, height = 4000;
        var random = new Random(path.GetHashCode(StringComparison.Ordinal));
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var pixels = bitmap.GetPixelSpan();
        unsafe
        {
            var span = new Span<byte>((void*)bitmap.GetPixels(), pixels.Length);
            int phase = random.Next(100);
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    int at = ((y * width) + x) * 4;
                    int grain = random.Next(16);
                    span[at] = (byte)((x * 255 / width) ^ ((y / 200) * 40) + grain);
                    span[at + 1] = (byte)(((y + phase) * 255 / height) + grain);
                    span[at + 2] = (byte)((((x / 300) + (y / 300)) % 2 * 120) + grain);
                    span[at + 3] = 255;
                }
            }
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, data.ToArray());
        File.Move(temporary, path, overwrite: true);
    }
}
