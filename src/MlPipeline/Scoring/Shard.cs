using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MlPipeline.Scoring;

/// <summary>
/// One part of a folder split across machines: shard <see cref="Index"/> of <see cref="Count"/>. A file belongs to the
/// shard its relative path hashes to (the first 8 bytes of the SHA-256 of the UTF-8 path with forward slashes, modulo
/// <see cref="Count"/>), so the partition depends on nothing but the path: every file is in exactly one shard, on every
/// machine and platform, and adding files never moves the others.
/// </summary>
/// <param name="Index">The shard, from 0 to <paramref name="Count"/> - 1.</param>
/// <param name="Count">How many shards the folder is split into, from 1 to <see cref="MaxCount"/>.</param>
public sealed record Shard(int Index, int Count)
{
    /// <summary>The most shards accepted: 1,000,000.</summary>
    public const int MaxCount = 1_000_000;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 1 ≤ Count ≤ <see cref="MaxCount"/> and 0 ≤ Index &lt; Count.</summary>
    public Shard Validate()
    {
        if (Count is < 1 or > MaxCount) { throw new ArgumentOutOfRangeException(nameof(Count), Count, $"The number of shards must be from 1 to {MaxCount}, but was {Count}."); }
        if (Index < 0 || Index >= Count) { throw new ArgumentOutOfRangeException(nameof(Index), Index, $"Shard {Index} of {Count} does not exist; expected 0 to {Count - 1}."); }
        return this;
    }

    /// <summary>Parses <c>K/N</c> (shard K of N, K from 0).</summary>
    /// <exception cref="FormatException">Not two whole numbers separated by '/'.</exception>
    /// <exception cref="ArgumentOutOfRangeException">K or N out of range.</exception>
    public static Shard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            throw new FormatException($"Shard '{text}' is not of the form K/N (for example 0/4: the first of four shards).");
        }
        return new Shard(index, count).Validate();
    }

    /// <summary>Whether the file at <paramref name="relativePath"/> (relative to the folder, forward slashes) belongs to this shard.</summary>
    public bool Contains(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        return Of(relativePath, Count) == Index;
    }

    /// <summary>The shard, of <paramref name="count"/>, that <paramref name="relativePath"/> belongs to.</summary>
    public static int Of(string relativePath, int count)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(relativePath), digest);
        return (int)(BinaryPrimitives.ReadUInt64LittleEndian(digest) % (ulong)count);
    }

    /// <summary>The files of <paramref name="files"/> (as <see cref="ImageClassifier.ListFolder"/> gives them for <paramref name="folder"/>) that belong to this shard, in their order.</summary>
    public IReadOnlyList<string> Select(string folder, IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(files);
        return [.. files.Where(f => Contains(FolderListing.RelativePath(folder, f)))];
    }

    /// <summary><c>K/N</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
