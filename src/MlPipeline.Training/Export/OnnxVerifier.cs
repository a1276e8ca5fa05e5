using Microsoft.ML.OnnxRuntime;
using MlPipeline.Data;
using MlPipeline.Scoring;

namespace MlPipeline.Training.Export;

/// <summary>Runs an exported file in ONNX Runtime and the trained model in TorchSharp on the same images and compares them.</summary>
public static class OnnxVerifier
{
    /// <summary>
    /// Compares logits and probabilities on the first <paramref name="count"/> images of <paramref name="images"/>
    /// (preprocessed with the model's own preprocessing), feeding ONNX Runtime <paramref name="batchSize"/> images per call.
    /// Cancellation stops between batches with <see cref="OperationCanceledException"/>. For a head trained on a backbone,
    /// the reference is the backbone's own graph in ONNX Runtime followed by the head in TorchSharp.
    /// </summary>
    public static ExportVerification Verify(TrainedModel model, string onnxPath, ImageSet images, int count = 1000, int batchSize = 256, CancellationToken cancellationToken = default, string? backboneDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (!File.Exists(onnxPath)) { throw new FileNotFoundException($"ONNX file '{onnxPath}' does not exist.", onnxPath); }
        count = Math.Min(count, images.Count);
        var spec = model.Architecture;
        var preprocessing = model.Info.Preprocessing;
        int channels = preprocessing.Channels, height = preprocessing.Height, width = preprocessing.Width;
        int imageSize = channels * height * width;
        if (images.ImageSize != imageSize)
        {
            throw new ArgumentException($"Images are {images.Channels}x{images.Height}x{images.Width} but the model takes {channels}x{height}x{width}.", nameof(images));
        }
        using var backbone = model.Info.Backbone is { } transfer && Transfer.Backbone.Locate(transfer.Name, backboneDirectory) is var located
            ? new Transfer.FeatureExtractor(located, located.Cut(transfer.FineTunedBlocks), threads: null)
            : null;
        int classes = spec.ClassCount;
        double maxDiff = 0, maxProbDiff = 0;
        int agree = 0;
        using var session = new InferenceSession(onnxPath);
        using var runOptions = new RunOptions();
        for (int start = 0; start < count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(batchSize, count - start);
            float[] input = new float[n * imageSize];
            var pixels = new byte[n * imageSize];
            images.CopyImages(start, n, pixels);
            int plane = height * width;
            for (int i = 0; i < input.Length; i++) { input[i] = preprocessing.Apply(pixels[i], i / plane % channels); }

            float[] expected = backbone is null ? model.Logits(input, n) : model.Logits(backbone.Run(input, n), n);
            using var value = OrtValue.CreateTensorValueFromMemory(input, [n, channels, height, width]);
            using var outputs = session.Run(runOptions, [OnnxExporter.InputName], [value], [OnnxExporter.LogitsName, OnnxExporter.ProbabilitiesName]);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            var probabilities = outputs[1].GetTensorDataAsSpan<float>();
            for (int row = 0; row < n; row++)
            {
                var e = expected.AsSpan(row * classes, classes);
                var a = logits.Slice(row * classes, classes);
                var p = probabilities.Slice(row * classes, classes);
                float max = float.NegativeInfinity;
                foreach (float x in e) { max = Math.Max(max, x); }
                double sum = 0;
                foreach (float x in e) { sum += Math.Exp(x - max); }
                for (int k = 0; k < classes; k++)
                {
                    maxDiff = Math.Max(maxDiff, Math.Abs(e[k] - a[k]));
                    maxProbDiff = Math.Max(maxProbDiff, Math.Abs((Math.Exp(e[k] - max) / sum) - p[k]));
                }
                if (ScoreMath.ArgMax(e) == ScoreMath.ArgMax(a)) { agree++; }
            }
        }
        return new ExportVerification(count, batchSize, maxDiff, (double)agree / count, maxProbDiff);
    }
}
