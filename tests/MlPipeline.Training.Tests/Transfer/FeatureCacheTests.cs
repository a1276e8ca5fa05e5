using System.Security.Cryptography;
using MlPipeline.Training.Transfer;

namespace MlPipeline.Training.Tests.Transfer;

/// <summary>
/// The feature cache file: what is read back is what was added, damaged or torn records are never returned (dropped
/// when the file is opened, an error naming the file when damaged later), and files of the first format are started afresh.
/// </summary>
public sealed class FeatureCacheTests
{
    const int Size = 8;
    string dir = "";
    string path = "";

    [SetUp]
    public void SetUp()
    {
        dir = TempDirectory.Create();
        path = Path.Combine(dir, "features.bin");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    internal static FeatureCache.Key KeyOf(int i) => FeatureCache.Key.From(SHA256.HashData(BitConverter.GetBytes(i)));

    internal static float[] FeaturesOf(int i) => [.. Enumerable.Range(0, Size).Select(j => (i * 100) + j + 0.5f)];

    internal static void Add(FeatureCache cache, IEnumerable<int> items) =>
        cache.Add([.. items.Select(KeyOf)], [.. items.SelectMany(FeaturesOf)]);

    void Write(int count)
    {
        using var cache = FeatureCache.Open(path, Size);
        Add(cache, Enumerable.Range(0, count));
    }

    // The file: "MLPFEAT2", the feature size, then records of a 32-byte key, the features and a 16-byte checksum.
    static long RecordOffset(int i) => 12 + (i * (32 + (Size * 4) + 16));

    [TestCase(new byte[0])]
    [TestCase(new byte[] { 0x89, 0x50, 0x4E, 0x47 })]
    public void Open_SymbolicLinkToAnotherFile_IsReplacedAndItsTargetNeverWritten(byte[] content)
    {
        // A link into the training data (an empty file would otherwise pass for a new cache and be appended to).
        string target = Path.Combine(dir, "image.png");
        File.WriteAllBytes(target, content);
        File.CreateSymbolicLink(path, target);

        Write(3);

        Assert.That(File.ReadAllBytes(target), Is.EqualTo(content));
        Assert.That(new FileInfo(path).LinkTarget, Is.Null, "a regular file now");
        using var again = FeatureCache.Open(path, Size);
        Assert.That(again.Count, Is.EqualTo(3));
    }

    [Test]
    public void Read_RecordsAddedInSeveralBatches_GiveBackExactlyTheirFeatures()
    {
        using (var cache = FeatureCache.Open(path, Size))
        {
            Add(cache, [0, 1, 2]);
            Add(cache, [3]);
            Assert.That(cache.TryGetOffset(KeyOf(3), out long offset), Is.True);
            Assert.That(offset, Is.EqualTo(RecordOffset(3)));
            var record = new byte[cache.RecordSize];
            Assert.That(cache.Read(offset, record).ToArray(), Is.EqualTo(FeaturesOf(3)));
        }
        using var again = FeatureCache.Open(path, Size);
        Assert.That(again.Count, Is.EqualTo(4));
        Assert.That(again.Discarded, Is.Null);
        for (int i = 0; i < 4; i++)
        {
            Assert.That(again.TryGet(KeyOf(i), out float[] features), Is.True);
            Assert.That(features, Is.EqualTo(FeaturesOf(i)));
        }
    }

    [Test]
    public void Open_FileCutShortInARecord_DropsThatRecordSayingSo()
    {
        Write(3);
        using (var file = new FileStream(path, FileMode.Open)) { file.SetLength(RecordOffset(2) + 40); }

        using (var cache = FeatureCache.Open(path, Size))
        {
            Assert.That(cache.Count, Is.EqualTo(2));
            Assert.That(cache.TryGet(KeyOf(2), out _), Is.False);
            Assert.That(cache.DiscardedCount, Is.EqualTo(1));
            Assert.That(cache.Discarded, Is.EqualTo("its last record was incomplete (a run was stopped while writing it, or the file was cut short)"));
        }
        Assert.That(new FileInfo(path).Length, Is.EqualTo(RecordOffset(2)), "the torn record was cut off");
        using var again = FeatureCache.Open(path, Size);
        Assert.That(again.Discarded, Is.Null);
    }

    [Test]
    public void Read_RecordDamagedAfterOpening_IsAnErrorNamingTheFileAndSayingToDeleteIt()
    {
        Write(2);
        using var cache = FeatureCache.Open(path, Size);
        Assert.That(cache.TryGetOffset(KeyOf(1), out long offset), Is.True);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            file.Position = offset + 32 + 7;
            file.WriteByte(0x5A);
        }

        var e = Assert.Throws<InvalidDataException>(() => cache.Read(offset, new byte[cache.RecordSize]));

        Assert.That(e!.Message, Is.EqualTo($"The feature cache '{path}' is damaged: the record at byte {offset} cannot be used (its checksum does not match), though it was whole when the run started. Delete the file and run again to compute the features afresh."));
        Assert.That(cache.TryGet(KeyOf(0), out float[] first), Is.True);
        Assert.That(first, Is.EqualTo(FeaturesOf(0)), "the other records still read");
    }

    [Test]
    public void Open_EveryRecordsFeaturesAltered_ReturnsNoneOfThemAndSaysWhy()
    {
        Write(3);
        byte[] bytes = File.ReadAllBytes(path);
        for (int i = 0; i < 3; i++) { bytes[RecordOffset(i) + 32 + 5] ^= 0x40; }
        File.WriteAllBytes(path, bytes);

        using (var cache = FeatureCache.Open(path, Size))
        {
            Assert.That(cache.Count, Is.Zero);
            Assert.That(cache.DiscardedCount, Is.EqualTo(3));
            Assert.That(cache.Discarded, Is.EqualTo("3 record(s) did not match their checksum (the file was damaged)"));
            Assert.That(Enumerable.Range(0, 3).Any(i => cache.TryGet(KeyOf(i), out _)), Is.False);
        }
        using var again = FeatureCache.Open(path, Size);
        Assert.That(again.Discarded, Is.Null, "the damaged records were removed from the file");
    }

    [Test]
    public void Open_OneRecordsKeyAltered_KeepsTheOthersWithTheirValues()
    {
        Write(4);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[RecordOffset(2) + 3] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        using (var cache = FeatureCache.Open(path, Size))
        {
            Assert.That(cache.Count, Is.EqualTo(3));
            Assert.That(cache.TryGet(KeyOf(2), out _), Is.False);
            Assert.That(cache.Discarded, Is.EqualTo("1 record(s) did not match their checksum (the file was damaged)"));
            foreach (int i in new[] { 0, 1, 3 })
            {
                Assert.That(cache.TryGet(KeyOf(i), out float[] features), Is.True);
                Assert.That(features, Is.EqualTo(FeaturesOf(i)));
            }
            Add(cache, [4]);
        }
        // The damaged record was closed up in place: the file holds the four good records, each readable.
        Assert.That(new FileInfo(path).Length, Is.EqualTo(RecordOffset(4)));
        using var again = FeatureCache.Open(path, Size);
        Assert.That(again.Discarded, Is.Null);
        foreach (int i in new[] { 0, 1, 3, 4 })
        {
            Assert.That(again.TryGet(KeyOf(i), out float[] features), Is.True);
            Assert.That(features, Is.EqualTo(FeaturesOf(i)));
        }
    }

    [Test]
    public void Open_FileOfTheFirstFormatOrAnotherSize_StartsAfreshSayingWhy()
    {
        // The first format: "MLPFEAT1", the size, then key and features with no checksum.
        var first = new List<byte>("MLPFEAT1"u8.ToArray());
        first.AddRange(BitConverter.GetBytes(Size));
        var key = new byte[32];
        KeyOf(0).WriteTo(key);
        first.AddRange(key);
        first.AddRange(FeaturesOf(0).SelectMany(BitConverter.GetBytes));
        File.WriteAllBytes(path, [.. first]);

        using (var old = FeatureCache.Open(path, Size))
        {
            Assert.That(old.Count, Is.Zero);
            Assert.That(old.Discarded, Does.Contain("written by an earlier version of MlPipeline"));
        }
        Write(1);
        using var other = FeatureCache.Open(path, Size * 2);
        Assert.That(other.Count, Is.Zero);
        Assert.That(other.Discarded, Is.EqualTo($"it holds features of {Size} values, not {Size * 2}"));
    }

    [Test]
    public void Open_Fifo_IsRefusedInsteadOfBlocking()
    {
        Assume.That(File.Exists("/usr/bin/mkfifo"), "mkfifo");
        using (var mkfifo = System.Diagnostics.Process.Start("/usr/bin/mkfifo", [path])) { mkfifo.WaitForExit(); }

        var open = Task.Run(() => Assert.Throws<IOException>(() => FeatureCache.Open(path, Size)));

        Assert.That(open.Wait(TimeSpan.FromSeconds(30)), Is.True, "returned instead of blocking in open()");
        Assert.That(open.Result!.Message, Does.Contain("The feature cache").And.Contain("is a special file"));
    }
}
