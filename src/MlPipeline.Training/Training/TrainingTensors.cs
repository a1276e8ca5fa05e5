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
    public static Tensor Images(ImageSet images, ImagePreprocessing preprocessing) =>
        Normalize(images.ToArray(), images.Count, images, preprocessing);

    /// <summary>
    /// <paramref name="count"/> images of <paramref name="shape"/>'s size from <paramref name="bytes"/> as a float tensor
    /// [count, C, H, W], <c>(p - offset) * scale</c> per channel in float: element for element what converting a whole
    /// set gives, so a batch converted alone equals its rows of the whole.
    /// </summary>
    public static Tensor Normalize(byte[] bytes, long count, ImageSet shape, ImagePreprocessing preprocessing)
    {
        TorchNative.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        var raw = tensor(bytes, [count, shape.Channels, shape.Height, shape.Width]);
        var floats = raw.to_type(ScalarType.Float32);
        // Numbers go in as Scalars held until the call returns: a number converted implicitly makes a Scalar that nothing
        // references once its handle is read, and the collector's finalizer can free it while libtorch still reads it
        // ("Unknown scalar type" in a 121,984-image run of the large-train benchmark; dotnet/TorchSharp #1434).
        using var offset = preprocessing.Offsets[0].ToScalar();
        using var scale = preprocessing.Scales[0].ToScalar();
        var result = preprocessing.IsUniform
            ? floats.sub(offset).mul_(scale)
            : floats.sub(tensor(preprocessing.Offsets.ToArray(), [1, shape.Channels, 1, 1])).mul_(tensor(preprocessing.Scales.ToArray(), [1, shape.Channels, 1, 1]));
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The class indices as an int64 tensor [N].</summary>
    public static Tensor Labels(ImageSet images) => tensor(images.Labels.ToArray().Select(l => (long)l).ToArray());

    /// <summary>
    /// Images per inference pass for <paramref name="spec"/>: 1,000, fewer for models whose activations are large (a
    /// pass keeps every layer's output until it ends), so that a pass holds about 100 MB of activations.
    /// </summary>
    public static long Chunk(Models.ModelSpec spec) => (long)Math.Clamp(25e6 / Math.Max(1, spec.ActivationsPerImage), 16, 1000);

    /// <summary>Softmax probabilities of <paramref name="model"/> for every row of <paramref name="x"/>, a chunk at a time, in inference mode.</summary>
    public static float[][] Probabilities(nn.Module<Tensor, Tensor> model, ModelInputs x, long chunk)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        long n = x.Count;
        var rows = new float[n][];
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            long count = Math.Min(chunk, n - start);
            var p = nn.functional.softmax(model.forward(x.Range(start, count)), 1);
            float[] flat = p.data<float>().ToArray();
            int k = (int)p.shape[1];
            for (int i = 0; i < count; i++) { rows[start + i] = flat.AsSpan(i * k, k).ToArray(); }
        }
        return rows;
    }

    /// <summary>Mean loss and accuracy of <paramref name="model"/> over <paramref name="x"/>, in inference mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, ModelInputs x, Tensor y, long chunk)
    {
        model.eval();
        using var noGrad = torch.no_grad();
        long n = x.Count;
        double lossSum = 0;
        long correct = 0;
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            long count = Math.Min(chunk, n - start);
            var logits = model.forward(x.Range(start, count));
            var target = y.narrow(0, start, count);
            lossSum += nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(target).sum().item<long>();
        }
        return (lossSum / n, (double)correct / n);
    }
}
