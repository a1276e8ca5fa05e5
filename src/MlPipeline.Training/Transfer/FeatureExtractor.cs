using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using MlPipeline.Data;
using MlPipeline.Training.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// Computes a backbone's features with ONNX Runtime, a batch of images per call (ONNX Runtime's threads split each
/// call's convolutions over the cores), looking every image up in a <see cref="FeatureCache"/> first. The cache key is
/// the SHA-256 of the backbone file's checksum and the exact input the backbone sees (the decoded, resized pixels, or
/// an augmented copy of them), so a second run or a resume skips everything already computed, and a changed file,
/// size or augmentation misses. Owns an ONNX Runtime session: dispose it.
/// </summary>
internal sealed class FeatureExtractor : IDisposable
{
    /// <summary>Images per ONNX Runtime call (and per augmentation draw, so copies are the same in every run).</summary>
    public const int BatchSize = 16;

    const string InputName = "pixels";
    readonly InferenceSession session;
    readonly RunOptions runOptions = new();
    readonly byte[] salt;

    /// <param name="cut">Where the network ends: its output, or the input of the last blocks (which train with the head).</param>
    public FeatureExtractor(Backbone backbone, BackboneCut cut, int? threads)
    {
        Backbone = backbone;
        Cut = cut;
        BackboneChecksum = backbone.ModelChecksum();
        salt = Encoding.UTF8.GetBytes($"{backbone.Name}\n{BackboneChecksum}\n{Cut.TensorName}\n");
        using var options = new SessionOptions();
        if (threads is { } t) { options.IntraOpNumThreads = t; }
        session = new InferenceSession(backbone.FeaturesModel(InputName, OnnxExportOptions.MaxOpset, Cut).ToByteArray(), options);
    }

    /// <summary>Where the network is cut: the features' shape, and the blocks that train with the head.</summary>
    public BackboneCut Cut { get; }

    public Backbone Backbone { get; }

    /// <summary>SHA-256 of the backbone's file, part of every cache key.</summary>
    public string BackboneChecksum { get; }

    /// <summary>Images whose features were computed (not found in the cache) so far, and the time that took.</summary>
    public (int Computed, int Cached, TimeSpan Time) Statistics => (computed, cached, clock.Elapsed);

    int computed, cached;
    readonly Stopwatch clock = new();

    /// <summary>Features of <paramref name="count"/> images given as raw RGB floats [count, 3, S, S]: [count × features].</summary>
    public float[] Run(float[] pixels, int count)
    {
        int size = Backbone.InputSize;
        using var value = OrtValue.CreateTensorValueFromMemory(pixels, [count, 3, size, size]);
        using var outputs = session.Run(runOptions, [InputName], [value], [Backbone.FeaturesName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>
    /// The features of every image of <paramref name="set"/> ([count × features], in order); with an
    /// <paramref name="augmenter"/>, of augmented copy number <paramref name="copy"/> (1, 2, …) instead.
    /// </summary>
    public float[] Features(ImageSet set, FeatureCache? cache, Augmenter? augmenter, int copy, Action<int>? done, CancellationToken cancellationToken)
    {
        int size = Backbone.InputSize, features = Cut.FeatureSize, imageSize = 3 * size * size;
        if (set.Channels != 3 || set.Height != size || set.Width != size)
        {
            throw new ArgumentException($"The {Backbone.Name} backbone takes 3x{size}x{size} images; these are {set.Channels}x{set.Height}x{set.Width}.");
        }
        var result = new float[(long)set.Count * features];
        // One input buffer for every batch (each is 9.6 MB: a new one per batch would pile up on the large-object heap).
        float[] buffer = new float[BatchSize * imageSize];
        for (int start = 0; start < set.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(BatchSize, set.Count - start);
            float[] pixels = n == BatchSize ? buffer : new float[n * imageSize];
            var source = new byte[n * imageSize];
            set.CopyImages(start, n, source);
            for (int i = 0; i < pixels.Length; i++) { pixels[i] = source[i]; }
            if (augmenter is not null) { Augment(augmenter, pixels, n, copy, start / BatchSize); }

            var keys = new FeatureCache.Key[n];
            var missing = new List<int>();
            for (int i = 0; i < n; i++)
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                hash.AppendData(salt);
                hash.AppendData(MemoryMarshal.AsBytes(pixels.AsSpan(i * imageSize, imageSize)));
                keys[i] = FeatureCache.Key.From(hash.GetHashAndReset());
                if (cache is not null && cache.TryGet(keys[i], out var found))
                {
                    found.CopyTo(result, (long)(start + i) * features);
                    cached++;
                }
                else
                {
                    missing.Add(i);
                }
            }
            if (missing.Count > 0)
            {
                clock.Start();
                float[] batch = missing.Count == n ? pixels : new float[missing.Count * imageSize];
                if (missing.Count != n)
                {
                    for (int j = 0; j < missing.Count; j++) { pixels.AsSpan(missing[j] * imageSize, imageSize).CopyTo(batch.AsSpan(j * imageSize)); }
                }
                float[] output = Run(batch, missing.Count);
                clock.Stop();
                computed += missing.Count;
                var added = new List<(FeatureCache.Key, float[])>(missing.Count);
                for (int j = 0; j < missing.Count; j++)
                {
                    float[] row = output.AsSpan(j * features, features).ToArray();
                    row.CopyTo(result, (long)(start + missing[j]) * features);
                    added.Add((keys[missing[j]], row));
                }
                cache?.Add(added);
            }
            done?.Invoke(start + n);
            // Augmenting frees and reallocates image-sized native buffers every batch, which fragments glibc's heap.
            if (augmenter is not null && start / BatchSize % 20 == 19) { Native.NativeHeap.Trim(); }
        }
        Native.NativeHeap.Trim();
        return result;
    }

    /// <summary>Replaces <paramref name="pixels"/> with an augmented draw of them.</summary>
    static void Augment(Augmenter augmenter, float[] pixels, int count, int copy, int chunk)
    {
        using var scope = torch.NewDisposeScope();
        int size = (int)Math.Sqrt(pixels.Length / count / 3);
        var x = tensor(pixels, [count, 3, size, size]);
        // Augmented pixels stay in the byte range the backbone was trained on.
        augmenter.Apply(x, copy, chunk).clamp(0, 255).contiguous().data<float>().CopyTo(pixels);
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}
