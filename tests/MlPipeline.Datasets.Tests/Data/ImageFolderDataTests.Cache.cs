using System.Text;
using MlPipeline.Data;
using MlPipeline.Scoring;

namespace MlPipeline.Datasets.Tests.Data;

// The decoded-image cache file: the same data as memory, reused only when it is the same, rebuilt (with the reason) when not.
public sealed partial class ImageFolderDataTests
{
    /// <summary>Three classes of small images of several sizes, one of them a corrupt file, and a separate test set.</summary>
    void CacheFixture()
    {
        for (int i = 0; i < 9; i++)
        {
            Image($"set/{"abc"[i % 3]}/{i}.png", 10 + i, 8 + (i % 4), i);
            Image($"test/{"abc"[i % 3]}/{i}.png", 12, 12, 50 + i);
        }
        File.WriteAllBytes(Path.Combine(dir, "set", "b", "broken.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
    }

    ImageFolderOptions CacheOptions(string? cache, int side = 8) => new()
    {
        Width = side,
        Height = side,
        ColorMode = ColorMode.Rgb,
        ValidationSplit = 0.34,
        Test = Path.Combine(dir, "test"),
        CacheDirectory = cache is null ? null : Path.Combine(dir, cache),
    };

    static List<string> Messages(List<DataProgress> reports) => [.. reports.Select(r => r.Message).OfType<string>()];

    static List<string> Steps(List<DataProgress> reports) => [.. reports.Where(r => r.Message is null).Select(r => r.Step).Distinct()];

    static void AssertSameData(TrainingData actual, TrainingData expected)
    {
        foreach (var (a, e, name) in new[] { (actual.Train, expected.Train, "train"), (actual.Validation!, expected.Validation!, "validation"), (actual.Test, expected.Test, "test") })
        {
            Assert.That(a.ToArray(), Is.EqualTo(e.ToArray()), $"{name} pixels");
            Assert.That(a.Labels.ToArray(), Is.EqualTo(e.Labels.ToArray()), $"{name} labels");
            Assert.That(a.ClassNames, Is.EqualTo(e.ClassNames), $"{name} classes");
        }
        Assert.That(actual.Checksums, Is.EqualTo(expected.Checksums));
        Assert.That(actual.ClassChecksums, Is.EqualTo(expected.ClassChecksums));
        Assert.That(actual.Failed.Select(f => (f.Path, f.Error)), Is.EqualTo(expected.Failed.Select(f => (f.Path, f.Error))));
    }

    [Test]
    public void Load_WithACacheDirectory_GivesWhatMemoryGivesFromFilesRead_ThenReusesThemWithoutDecoding()
    {
        CacheFixture();
        var inMemory = ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions(null)).Data;
        var first = new List<DataProgress>();
        var built = ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run"), new Reports(first)).Data;
        var second = new List<DataProgress>();
        var reused = ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run"), new Reports(second)).Data;

        AssertSameData(built, inMemory);
        AssertSameData(reused, inMemory);
        Assert.That(built.Train.CacheFile, Is.EqualTo(Path.Combine(dir, "run", "images-training.bin")));
        Assert.That(built.Test.CacheFile, Is.EqualTo(Path.Combine(dir, "run", "images-test.bin")));
        Assert.That(inMemory.Train.CacheFile, Is.Null);
        Assert.That(Steps(first), Is.EqualTo(new[] { "Decoding the training images into the cache", "Decoding the test images into the cache" }));
        Assert.That(Steps(second), Is.EqualTo(new[] { "Checking the training images against the cache", "Checking the test images against the cache" }), "nothing decoded the second time");
        Assert.That(second.Select(r => r.Message).OfType<string>().Count(m => m.StartsWith("Reused the ", StringComparison.Ordinal)), Is.EqualTo(2));
        // Every count report has a rate and, before the end, a time left.
        Assert.That(first.Where(r => r.Message is null), Has.All.Matches<DataProgress>(r => r!.Done > 0 && r.Done <= r.Total && r.ImagesPerSecond > 0 && r.Remaining is not null));
    }

    [Test]
    public void Load_CacheOfChangedFilesOrOtherSettings_IsRebuiltWithTheReason()
    {
        CacheFixture();
        ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run"));

        // One file's content changes: the cache is not used, and the new pixels are read.
        Image("set/a/0.png", 10, 8, 999);
        var reports = new List<DataProgress>();
        var changed = ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run"), new Reports(reports)).Data;
        AssertSameData(changed, ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions(null)).Data);
        Assert.That(Messages(reports), Has.Some.Contains("images-training.bin is not used because the files changed since it was written"));
        Assert.That(Messages(reports), Has.Some.StartsWith("Reused the ").And.Contains("test"), "the unchanged test set's cache is still used");

        // Another size: the reason names the setting, then and now.
        reports.Clear();
        var resized = ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run", side: 6), new Reports(reports)).Data;
        AssertSameData(resized, ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions(null, side: 6)).Data);
        Assert.That(Messages(reports), Has.Some.Contains("it holds images read with other settings (Width 8, now 6; Height 8, now 6)"));
    }

    static IEnumerable<TestCaseData> Damage()
    {
        yield return new TestCaseData((Action<string>)(p => { using var s = File.OpenWrite(p); s.SetLength(s.Length - 1); }), "it is cut short or damaged").SetName("Load_TruncatedCache_IsRebuilt");
        yield return new TestCaseData((Action<string>)(p => Flip(p, 4096 + 5)), "its rows do not match their checksum").SetName("Load_CacheWithAChangedPixel_IsRebuilt");
        yield return new TestCaseData((Action<string>)(p => File.WriteAllBytes(p, [.. Encoding.ASCII.GetBytes("MLPIMGC0"), .. File.ReadAllBytes(p)[8..]])), "it is not a decoded-image cache of this version").SetName("Load_CacheOfAnotherFormat_IsRebuilt");
        yield return new TestCaseData((Action<string>)(p => Replace(p, "\"Version\":\"", "\"Version\":\"9")), "it was written by MlPipeline 9").SetName("Load_CacheWrittenByAnotherVersion_IsRebuilt");
        yield return new TestCaseData((Action<string>)(p => Replace(p, "\"Failed\":{", "\"Failed\":[")), "its description is damaged").SetName("Load_CacheWithADamagedDescription_IsRebuilt");
        // Two rows swapped in the description: the pixels and their checksum are intact, but would go to the wrong files.
        yield return new TestCaseData((Action<string>)(p => Replace(p, "\"Rows\":[0,1,", "\"Rows\":[1,0,")), "its description does not match its checksum").SetName("Load_CacheWithRowsSwappedInItsDescription_IsRebuilt");
    }

    static void Flip(string path, long at)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        s.Position = at;
        int b = s.ReadByte();
        s.Position = at;
        s.WriteByte((byte)(b ^ 0x40));
    }

    /// <summary>Replaces the first <paramref name="find"/> in the file's bytes (the same length keeps the layout; a longer one moves the end).</summary>
    static void Replace(string path, string find, string with)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int at = bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(find));
        Assert.That(at, Is.GreaterThan(0), $"'{find}' in the cache's description");
        byte[] replaced = [.. bytes[..at], .. Encoding.UTF8.GetBytes(with), .. bytes[(at + find.Length)..]];
        if (replaced.Length != bytes.Length)
        {
            // The header records the description's length: kept consistent, so that only the content is wrong.
            long length = BitConverter.ToInt64(replaced, 32) + replaced.Length - bytes.Length;
            BitConverter.TryWriteBytes(replaced.AsSpan(32), length);
        }
        File.WriteAllBytes(path, replaced);
    }

    [TestCaseSource(nameof(Damage))]
    public void Load_DamagedCache_IsNeverUsed_ButRebuiltWithTheReason(Action<string> damage, string reason)
    {
        CacheFixture();
        ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run"));
        damage(Path.Combine(dir, "run", "images-training.bin"));

        var reports = new List<DataProgress>();
        var rebuilt = ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run"), new Reports(reports)).Data;

        Assert.That(Messages(reports), Has.Some.Contains("images-training.bin is not used because " + reason));
        AssertSameData(rebuilt, ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions(null)).Data);
        // And the rebuilt file is whole again: the next load reuses it.
        reports.Clear();
        ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run"), new Reports(reports));
        Assert.That(Steps(reports), Has.None.StartsWith("Decoding"));
    }

    [Test]
    public void Load_DiskTooSmallForTheCache_IsRefusedBeforeDecodingNamingTheNeedAndTheFreeSpace()
    {
        CacheFixture();
        Directory.CreateDirectory(Path.Combine(dir, "run"));
        File.WriteAllText(Path.Combine(dir, "run", "keep.txt"), "the user's");
        var free = ImageFolderData.FreeSpace;
        ImageFolderData.FreeSpace = _ => 1_000_000;
        try
        {
            var reports = new List<DataProgress>();
            var e = Assert.Throws<IOException>(() => ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run"), new Reports(reports)));

            // Two sets (training and test) of caches: a 4 KB header, the rows and up to 1 MB of description each; 1.0 MB are free.
            Assert.That(e!.Message, Does.Contain("The decoded images take up to 2.1 MB").And.Contain("has 1.0 MB free").And.Contain(Path.Combine(dir, "run")));
            Assert.That(Steps(reports), Is.Empty, "nothing decoded");
            Assert.That(Directory.GetFiles(Path.Combine(dir, "run")).Select(Path.GetFileName), Is.EqualTo(new[] { "keep.txt" }));
        }
        finally
        {
            ImageFolderData.FreeSpace = free;
        }
    }

    [Test]
    public void CopyImages_CacheFileReplacedOrRemovedWhileInUse_IsAnErrorNamingIt()
    {
        CacheFixture();
        var data = ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run")).Data;
        string cache = data.Train.CacheFile!;
        var buffer = new byte[data.Train.ImageSize];
        data.Train.CopyImages([0], buffer);

        // A byte-for-byte copy moved into its place (the same stamp and length, another file).
        string copy = cache + ".copy";
        File.Copy(cache, copy);
        File.Move(copy, cache, overwrite: true);
        var copied = Assert.Throws<IOException>(() => data.Train.CopyImages([0], buffer));
        Assert.That(copied!.Message, Does.Contain(cache).And.Contain("was replaced or cut while in use"));

        // Another load writes a new file (another stamp) in its place.
        File.Delete(cache);
        ImageFolderData.Load(Path.Combine(dir, "set"), CacheOptions("run"));
        var replaced = Assert.Throws<IOException>(() => data.Train.CopyImages([0], buffer));
        Assert.That(replaced!.Message, Does.Contain(cache).And.Contain("was replaced or cut while in use"));

        File.Delete(cache);
        var removed = Assert.Throws<IOException>(() => data.Train.CopyImages([0], buffer));
        Assert.That(removed!.Message, Does.Contain(cache).And.Contain("can no longer be read"));
    }

    sealed class Reports(List<DataProgress> reports) : IProgress<DataProgress>
    {
        public void Report(DataProgress value) => reports.Add(value);
    }
}
