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

    [TestCase("a/b.png", 4, 0)]
    [TestCase("a/b.png", 1_000_000, 417_800)]
    [TestCase("7/00042.png", 10, 8)]
    [TestCase("class 3/x.png", 1000, 872)]
    [TestCase("é/ü.png", 7, 3)]
    public void Of_KnownPaths_GiveTheSameShardsOnEveryMachine(string path, int count, int expected)
    {
        // SHA-256 of the UTF-8 path, first 8 bytes little-endian, modulo the count: fixed values, so that two machines
        // (or two versions) agree. Computed independently with: python3 -c "import hashlib;
        // print(int.from_bytes(hashlib.sha256('a/b.png'.encode()).digest()[:8], 'little') % 4)".
        Assert.That(Shard.Of(path, count), Is.EqualTo(expected));
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
