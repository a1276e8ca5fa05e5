using MlPipeline.Data;
using MlPipeline.Training.Transfer;
using TorchSharp;
using static TorchSharp.torch;

namespace MlPipeline.Training.Tests.Transfer;

/// <summary>
/// Features read from the cache per batch are the rows of the whole-set tensor that training held before (an
/// independent reference: <see cref="TensorInputs"/> over every row read at once), in the same order: the images, then
/// each copy.
/// </summary>
public sealed class CachedFeatureInputsTests
{
    // Features of 2x2x2, as FeatureCacheTests writes them (8 values).
    static readonly BackboneCut Cut = new("cut", 2, 2, 2, [], new Dictionary<string, float[]>());
    static readonly ImageSet Images = new(new byte[5], [0, 0, 0, 0, 0], 1, 1, 1, ["a"]);
    string dir = "";
    string path = "";

    [SetUp]
    public void SetUp()
    {
        MlPipeline.Training.Native.TorchNative.EnsureLoaded();
        dir = TempDirectory.Create();
        path = Path.Combine(dir, "features.bin");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>Five images (items 0–4) and one copy of them (items 5–9), written to the cache out of row order and in two batches.</summary>
    FeatureCache Cache(out FeatureRows[] parts)
    {
        var cache = FeatureCache.Open(path, 8);
        FeatureCacheTests.Add(cache, [7, 2, 9, 0, 4]);
        FeatureCacheTests.Add(cache, [1, 3, 5, 6, 8]);
        parts =
        [
            new FeatureRows("training", Images, null, 0, [.. Enumerable.Range(0, 5).Select(FeatureCacheTests.KeyOf)]),
            new FeatureRows("training copy 1/1", Images, null, 1, [.. Enumerable.Range(5, 5).Select(FeatureCacheTests.KeyOf)]),
        ];
        return cache;
    }

    static TensorInputs Reference() => new(tensor([.. Enumerable.Range(0, 10).SelectMany(FeatureCacheTests.FeaturesOf)], [10, 2, 2, 2]));

    [Test]
    public void Rows_AnyIndices_EqualTheWholeTensorsRows()
    {
        using var cache = Cache(out var parts);
        using var cached = new CachedFeatureInputs(cache, Cut, parts);
        using var reference = Reference();
        using var scope = torch.NewDisposeScope();

        Assert.That(cached.Count, Is.EqualTo(reference.Count));
        foreach (long[] indices in new long[][] { [7, 0, 9, 3, 3, 5], [0], [.. Enumerable.Range(0, 10).Select(i => (long)i)] })
        {
            var (a, b) = (cached.Rows(indices), reference.Rows(indices));
            Assert.That(a.shape, Is.EqualTo(b.shape));
            Assert.That(a.dtype, Is.EqualTo(b.dtype));
            Assert.That(a.data<float>().ToArray(), Is.EqualTo(b.data<float>().ToArray()), string.Join(",", indices));
        }
        var (range, expected) = (cached.Range(3, 6), reference.Range(3, 6));
        Assert.That(range.shape, Is.EqualTo(new long[] { 6, 2, 2, 2 }));
        Assert.That(range.data<float>().ToArray(), Is.EqualTo(expected.data<float>().ToArray()));
    }

    [Test]
    public void Rows_RecordDamagedDuringTraining_IsAnErrorNamingTheFile()
    {
        using var cache = Cache(out var parts);
        using var cached = new CachedFeatureInputs(cache, Cut, parts);
        Assert.That(cache.TryGetOffset(FeatureCacheTests.KeyOf(6), out long offset), Is.True);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            file.Position = offset + 40;
            file.WriteByte(0xFF);
        }
        using var scope = torch.NewDisposeScope();

        Assert.That(cached.Rows([0, 5]).shape[0], Is.EqualTo(2), "rows of intact records still read");
        var e = Assert.Throws<InvalidDataException>(() => cached.Rows([0, 6]));

        Assert.That(e!.Message, Does.StartWith($"The feature cache '{path}' is damaged: the record at byte {offset}"));
        Assert.That(e.Message, Does.EndWith("Delete the file and run again to compute the features afresh."));
    }

    [Test]
    public void Constructor_RowNotInTheCache_IsAnErrorNamingTheRow()
    {
        using var cache = FeatureCache.Open(path, 8);
        FeatureCacheTests.Add(cache, [0, 1]);
        FeatureRows[] parts = [new("validation", Images, null, 0, [.. new[] { 0, 1, 2 }.Select(FeatureCacheTests.KeyOf)])];

        var e = Assert.Throws<InvalidOperationException>(() => new CachedFeatureInputs(cache, Cut, parts));

        Assert.That(e!.Message, Is.EqualTo($"The features of row 2 of the validation images are not in '{path}'; they are computed before the inputs are read."));
    }
}
