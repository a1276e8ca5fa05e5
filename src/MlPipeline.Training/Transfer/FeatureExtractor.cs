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
/// size or augmentation misses. The features go to the cache only; nothing of a whole set's features is held. Owns
/// an ONNX Runtime session: dispose it.
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
    /// The cache keys of every image of <paramref name="set"/>, in order (<paramref name="copy"/> 0), or of augmented copy
    /// number <paramref name="copy"/> (1, 2, …) of them: the images are read (and augmented) a batch at a time and
    /// hashed, nothing is computed, so the rows still missing from the cache, and the disk they need, are known first.
    /// </summary>
    public FeatureRows Rows(ImageSet set, Augmenter? augmenter, int copy, string name, CancellationToken cancellationToken)
    {
        int size = Backbone.InputSize, imageSize = 3 * size * size;
        if (set.Channels != 3 || set.Height != size || set.Width != size)
        {
            throw new ArgumentException($"The {Backbone.Name} backbone takes 3x{size}x{size} images; these are {set.Channels}x{set.Height}x{set.Width}.");
        }
        var keys = new FeatureCache.Key[set.Count];
        var batch = new Batch(imageSize);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int start = 0; start < set.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(BatchSize, set.Count - start);
            float[] pixels = Pixels(set, start, n, augmenter, copy, batch);
            for (int i = 0; i < n; i++)
            {
                hash.AppendData(salt);
                hash.AppendData(MemoryMarshal.AsBytes(pixels.AsSpan(i * imageSize, imageSize)));
                keys[start + i] = FeatureCache.Key.From(hash.GetHashAndReset());
            }
            TrimNow(augmenter, start);
        }
        Native.NativeHeap.Trim();
        return new FeatureRows(name, set, augmenter, copy, keys);
    }

    /// <summary>
    /// How many records <see cref="Features"/> will add to <paramref name="cache"/> for <paramref name="parts"/>, in
    /// that order: the rows not cached, counted batch by batch as it computes them (a key repeated within a batch is
    /// computed twice, a key already computed for an earlier batch is not).
    /// </summary>
    public static long Missing(IEnumerable<FeatureRows> parts, FeatureCache cache)
    {
        var coming = new HashSet<FeatureCache.Key>();
        var batch = new List<FeatureCache.Key>(BatchSize);
        long count = 0;
        foreach (var part in parts)
        {
            for (int start = 0; start < part.Count; start += BatchSize)
            {
                batch.Clear();
                int n = Math.Min(BatchSize, part.Count - start);
                for (int i = start; i < start + n; i++)
                {
                    if (!cache.Contains(part.Keys[i]) && !coming.Contains(part.Keys[i])) { batch.Add(part.Keys[i]); }
                }
                count += batch.Count;
                coming.UnionWith(batch);
            }
        }
        return count;
    }

    /// <summary>
    /// Makes sure that every row of <paramref name="rows"/> has its features in <paramref name="cache"/>: the missing ones
    /// are computed a batch at a time (the same batches as the images' order gives, so the same values in every run) and
    /// appended as each batch is done. Holds one batch of images and features, never the set's.
    /// </summary>
    public void Features(FeatureRows rows, FeatureCache cache, Action<int>? done, CancellationToken cancellationToken)
    {
        int imageSize = rows.Set.ImageSize, features = Cut.FeatureSize;
        var batch = new Batch(imageSize);
        var missing = new List<int>(BatchSize);
        for (int start = 0; start < rows.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(BatchSize, rows.Count - start);
            missing.Clear();
            for (int i = 0; i < n; i++)
            {
                if (cache.Contains(rows.Keys[start + i])) { cached++; }
                else { missing.Add(i); }
            }
            if (missing.Count > 0)
            {
                // Only a batch with something to compute is read (and augmented) again.
                float[] pixels = Pixels(rows.Set, start, n, rows.Augmenter, rows.Copy, batch);
                clock.Start();
                float[] input = missing.Count == n ? pixels : new float[missing.Count * imageSize];
                if (missing.Count != n)
                {
                    for (int j = 0; j < missing.Count; j++) { pixels.AsSpan(missing[j] * imageSize, imageSize).CopyTo(input.AsSpan(j * imageSize)); }
                }
                float[] output = Run(input, missing.Count);
                clock.Stop();
                computed += missing.Count;
                cache.Add([.. missing.Select(i => rows.Keys[start + i])], output.AsSpan(0, missing.Count * features));
                TrimNow(rows.Augmenter, start);
            }
            done?.Invoke(start + n);
        }
        Native.NativeHeap.Trim();
    }

    /// <summary>The buffers of one batch, reused for every batch (each is 9.6 MB at 224×224: a new one per batch would pile up on the large-object heap).</summary>
    sealed class Batch(int imageSize)
    {
        public byte[] Bytes { get; } = new byte[BatchSize * imageSize];

        public float[] Pixels { get; } = new float[BatchSize * imageSize];
    }

    /// <summary>Images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 as floats [count, 3, S, S], augmented when asked.</summary>
    static float[] Pixels(ImageSet set, int start, int count, Augmenter? augmenter, int copy, Batch batch)
    {
        int length = count * set.ImageSize;
        var bytes = batch.Bytes.AsSpan(0, length);
        ReadImages(set, start, count, bytes);
        float[] pixels = count == BatchSize ? batch.Pixels : new float[length];
        for (int i = 0; i < length; i++) { pixels[i] = bytes[i]; }
        if (augmenter is not null) { Augment(augmenter, pixels, count, copy, start / BatchSize); }
        return pixels;
    }

    /// <summary>Copies the bytes of images <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 into <paramref name="destination"/>.</summary>
    static void ReadImages(ImageSet set, int start, int count, Span<byte> destination) =>
        set.CopyImages(start, count, destination);

    /// <summary>Augmenting frees and reallocates image-sized native buffers every batch, which fragments glibc's heap: handed back every 20 batches.</summary>
    static void TrimNow(Augmenter? augmenter, int start)
    {
        if (augmenter is not null && start / BatchSize % 20 == 19) { Native.NativeHeap.Trim(); }
    }

    /// <summary>Replaces <paramref name="pixels"/> with an augmented draw of them.</summary>
    static void Augment(Augmenter augmenter, float[] pixels, int count, int copy, int chunk)
    {
        using var scope = torch.NewDisposeScope();
        int size = (int)Math.Sqrt(pixels.Length / count / 3);
        var x = tensor(pixels, [count, 3, size, size]);
        // Augmented pixels stay in the byte range the backbone was trained on.
        // Scalars held until the calls return (see TrainingTensors.Normalize).
        using var zero = 0f.ToScalar();
        using var full = 255f.ToScalar();
        augmenter.Apply(x, copy, chunk).clamp(zero, full).contiguous().data<float>().CopyTo(pixels);
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}
