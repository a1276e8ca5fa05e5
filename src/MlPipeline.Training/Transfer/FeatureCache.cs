using System.Runtime.InteropServices;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// Backbone features by content key, kept in the run folder as an append-only file of fixed-size records (a 32-byte
/// key, the features as float32, then the first 16 bytes of the SHA-256 of key and features). Every batch is appended
/// and flushed as soon as it is computed, so a run that is killed keeps what it computed; a torn last record (a kill
/// mid-write) is cut off when the file is opened again, and a record whose checksum does not match (a damaged file) is
/// left out, so its features are computed again. A file of the first format (no checksums) or of another feature
/// size is started afresh, with the reason in <see cref="Discarded"/>.
/// </summary>
internal sealed class FeatureCache : IDisposable
{
    static ReadOnlySpan<byte> Magic => "MLPFEAT2"u8;
    static ReadOnlySpan<byte> FirstFormat => "MLPFEAT1"u8;
    const int KeySize = 32, ChecksumSize = 16;
    readonly Dictionary<Key, float[]> entries = [];
    readonly FileStream stream;
    readonly int featureSize;

    /// <summary>A SHA-256 digest as a dictionary key.</summary>
    internal readonly record struct Key(Int128 High, Int128 Low)
    {
        public static Key From(ReadOnlySpan<byte> digest) => new(MemoryMarshal.Read<Int128>(digest), MemoryMarshal.Read<Int128>(digest[16..]));

        public void WriteTo(Span<byte> destination)
        {
            MemoryMarshal.Write(destination, High);
            MemoryMarshal.Write(destination[16..], Low);
        }
    }

    FeatureCache(FileStream stream, int featureSize)
    {
        this.stream = stream;
        this.featureSize = featureSize;
    }

    /// <summary>Features held.</summary>
    public int Count => entries.Count;

    /// <summary>
    /// Why records of the file were not used when it was opened (damaged records, or a file of another format or
    /// feature size, started afresh); null when every whole record was used. Their features are computed again.
    /// </summary>
    public string? Discarded { get; private set; }

    /// <summary>Records that were not used when the file was opened.</summary>
    public int DiscardedCount { get; private set; }

    int FeatureBytes => featureSize * sizeof(float);

    int RecordSize => KeySize + FeatureBytes + ChecksumSize;

    /// <summary>Opens (or creates) the cache file; anything at the path but a regular file, or a file that is not a cache at all, is an error naming it.</summary>
    public static FeatureCache Open(string path, int featureSize)
    {
        var stream = new FileStream(MlPipeline.Internals.FileSystem.RequireFileOrMissing(path, "The feature cache"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var cache = new FeatureCache(stream, featureSize);
            cache.Load(path);
            return cache;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    int HeaderSize => Magic.Length + sizeof(int);

    void Load(string path)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        if (stream.Length == 0)
        {
            StartAfresh();
            return;
        }
        if (stream.Length < header.Length || stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length
            || !(header[..Magic.Length].SequenceEqual(Magic) || header[..Magic.Length].SequenceEqual(FirstFormat)))
        {
            throw new InvalidDataException($"'{path}' is not an MlPipeline feature cache; delete it to compute the features again.");
        }
        int size = MemoryMarshal.Read<int>(header[Magic.Length..]);
        if (!header[..Magic.Length].SequenceEqual(Magic) || size != featureSize)
        {
            Discarded = header[..Magic.Length].SequenceEqual(Magic)
                ? $"it holds features of {size} values, not {featureSize}"
                : "it was written by an earlier version of MlPipeline, without checksums";
            StartAfresh();
            return;
        }
        var record = new byte[RecordSize];
        var digest = new byte[32];
        long whole = header.Length;
        while (stream.ReadAtLeast(record, record.Length, throwOnEndOfStream: false) == record.Length)
        {
            whole += record.Length;
            System.Security.Cryptography.SHA256.HashData(record.AsSpan(0, KeySize + FeatureBytes), digest);
            if (!digest[..ChecksumSize].SequenceEqual(record.AsSpan(KeySize + FeatureBytes)))
            {
                DiscardedCount++;
                continue;
            }
            entries[Key.From(record)] = MemoryMarshal.Cast<byte, float>(record.AsSpan(KeySize, FeatureBytes)).ToArray();
        }
        // A record torn by a kill mid-write is dropped.
        stream.SetLength(whole);
        stream.Position = whole;
        if (DiscardedCount > 0)
        {
            Discarded = $"{DiscardedCount} record(s) did not match their checksum (the file was damaged)";
            // Written again without the damaged records, so that they are not read (and reported) on every run.
            StartAfresh();
            Append(entries.Select(e => (e.Key, e.Value)).ToList());
        }
    }

    void StartAfresh()
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        MemoryMarshal.Write(header[Magic.Length..], featureSize);
        stream.SetLength(0);
        stream.Position = 0;
        stream.Write(header);
        stream.Flush();
    }

    public bool TryGet(Key key, out float[] features) => entries.TryGetValue(key, out features!);

    /// <summary>Adds features and appends them to the file, flushed to the operating system before returning.</summary>
    public void Add(IReadOnlyList<(Key Key, float[] Features)> batch)
    {
        Append(batch);
        foreach (var (key, features) in batch) { entries[key] = features; }
    }

    void Append(IReadOnlyList<(Key Key, float[] Features)> batch)
    {
        var buffer = new byte[RecordSize * batch.Count];
        Span<byte> digest = stackalloc byte[32];
        for (int i = 0; i < batch.Count; i++)
        {
            var (key, features) = batch[i];
            if (features.Length != featureSize) { throw new ArgumentException($"Features hold {features.Length} values; expected {featureSize}."); }
            var record = buffer.AsSpan(i * RecordSize, RecordSize);
            key.WriteTo(record);
            MemoryMarshal.AsBytes(features.AsSpan()).CopyTo(record[KeySize..]);
            System.Security.Cryptography.SHA256.HashData(record[..(KeySize + FeatureBytes)], digest);
            digest[..ChecksumSize].CopyTo(record[(KeySize + FeatureBytes)..]);
        }
        stream.Write(buffer);
        stream.Flush();
    }

    public void Dispose() => stream.Dispose();
}
