using MlPipeline.Scoring;

namespace MlPipeline.Tests.Scoring;

/// <summary>The partition behind <c>score --shard</c>: by path alone, total and stable.</summary>
public sealed class ShardTests
{
    static readonly string[] Paths = [.. Enumerable.Range(0, 2000).Select(i => $"class {i % 7}/image-{i:D5}.png")];

    [TestCase(1)]
    [TestCase(4)]
    [TestCase(7)]
    public void Contains_EveryPath_IsInExactlyOneShardAndTheShardsAreEven(int count)
    {
        var shards = Enumerable.Range(0, count).Select(k => new Shard(k, count).Validate()).ToList();

        var owners = Paths.Select(p => shards.Where(s => s.Contains(p)).Select(s => s.Index).ToList()).ToList();

        Assert.That(owners, Has.All.Count.EqualTo(1));
        var sizes = owners.GroupBy(o => o[0]).Select(g => g.Count()).ToList();
        Assert.That(sizes, Has.Count.EqualTo(count));
        Assert.That(sizes, Has.All.InRange(2000.0 / count * 0.8, 2000.0 / count * 1.2), "a hash spreads paths evenly");
    }

    [Test]
    public void Of_KnownPaths_GiveTheSameShardsOnEveryMachine()
    {
        // SHA-256 of the UTF-8 path, first 8 bytes little-endian, modulo the count: fixed values, so that two machines
        // (or two versions) agree. Computed independently with: python3 -c "import hashlib;
        // print(int.from_bytes(hashlib.sha256(b'a/b.png').digest()[:8], 'little') % 4)".
        Assert.That(Shard.Of("a/b.png", 4), Is.EqualTo(ExpectedShard("a/b.png", 4)));
        Assert.That(Shard.Of("7/00042.png", 10), Is.EqualTo(ExpectedShard("7/00042.png", 10)));
    }

    static int ExpectedShard(string path, int count)
    {
        string script = $"import hashlib;print(int.from_bytes(hashlib.sha256('{path}'.encode()).digest()[:8], 'little') % {count})";
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-c", script]) { RedirectStandardOutput = true };
        using var python = System.Diagnostics.Process.Start(start)!;
        string output = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        return int.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Test]
    public void Select_FilesAdded_DoNotMoveTheOthers()
    {
        var shard = new Shard(1, 3);
        string root = Path.Combine(Path.GetTempPath(), "shard-root");
        var before = Paths.Take(500).Select(p => Path.Combine(root, p)).ToList();
        var after = Paths.Take(900).Select(p => Path.Combine(root, p)).ToList();

        var chosenBefore = shard.Select(root, before);
        var chosenAfter = shard.Select(root, after);

        Assert.That(chosenAfter.Take(chosenBefore.Count), Is.EqualTo(chosenBefore));
        Assert.That(chosenAfter.Skip(chosenBefore.Count), Has.All.Not.AnyOf(before.ToArray()));
    }
}
