using MlPipeline.Data;
using MlPipeline.Scoring;
using MlPipeline.Training.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace MlPipeline.Training;

/// <summary>Image sets as tensors, and the model's figures over them in inference mode.</summary>
internal static class TrainingTensors
{
    /// <summary>
    /// The images as a float tensor [N, C, H, W] with <paramref name="preprocessing"/> applied per channel, exactly as
    /// ExtractPixels computes it: <c>(p - offset) * scale</c> in float.
    /// </summary>
    public static Tensor Images(ImageSet images, ImagePreprocessing preprocessing)
    {
        TorchNative.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var bytes = tensor(images.Pixels.ToArray(), [images.Count, images.Channels, images.Height, images.Width]);
        var floats = bytes.to_type(ScalarType.Float32);
        var result = preprocessing.IsUniform
            ? floats.sub(preprocessing.Offsets[0]).mul_(preprocessing.Scales[0])
            : floats.sub(tensor(preprocessing.Offsets.ToArray(), [1, images.Channels, 1, 1])).mul_(tensor(preprocessing.Scales.ToArray(), [1, images.Channels, 1, 1]));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The class indices as an int64 tensor [N].</summary>
    public static Tensor Labels(ImageSet images) => tensor(images.Labels.ToArray().Select(l => (long)l).ToArray());

    /// <summary>
    /// Images per inference pass for <paramref name="spec"/>: 1,000, fewer for models whose activations are large (a
    /// pass keeps every layer's output until it ends), so that a pass holds about 100 MB of activations.
    /// </summary>
    public static long Chunk(Models.ModelSpec spec) => (long)Math.Clamp(25e6 / Math.Max(1, spec.ActivationsPerImage), 16, 1000);

    /// <summary>Softmax probabilities of <paramref name="model"/> for every image of <paramref name="x"/>, in inference mode.</summary>
    public static float[][] Probabilities(nn.Module<Tensor, Tensor> model, Tensor x, long chunk)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        long n = x.shape[0];
        var rows = new float[n][];
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            long count = Math.Min(chunk, n - start);
            var p = nn.functional.softmax(model.forward(x.narrow(0, start, count)), 1);
            float[] flat = p.data<float>().ToArray();
            int k = (int)p.shape[1];
            for (int i = 0; i < count; i++) { rows[start + i] = flat.AsSpan(i * k, k).ToArray(); }
        }
        return rows;
    }

    /// <summary>Mean loss and accuracy of <paramref name="model"/> over <paramref name="x"/>, in inference mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, long chunk)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        long n = x.shape[0];
        double lossSum = 0;
        long correct = 0;
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            long count = Math.Min(chunk, n - start);
            var logits = model.forward(x.narrow(0, start, count));
            var target = y.narrow(0, start, count);
            lossSum += nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(target).sum().item<long>();
        }
        return (lossSum / n, (double)correct / n);
    }
}
