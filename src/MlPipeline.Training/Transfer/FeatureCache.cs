using System.Runtime.InteropServices;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// Backbone features by content key, kept in the run folder as an append-only file of fixed-size records (a 32-byte
/// key, then the features as float32). Every batch is appended and flushed as soon as it is computed, so a run that is
/// killed keeps what it computed; a torn last record (a kill mid-write) is cut off when the file is opened again.
/// </summary>
internal sealed class FeatureCache : IDisposable
{
    static ReadOnlySpan<byte> Magic => "MLPFEAT1"u8;
    const int KeySize = 32;
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

    int RecordSize => KeySize + (featureSize * sizeof(float));

    /// <summary>Opens (or creates) the cache file; a file of another feature size, or not a cache at all, is an error naming it.</summary>
    public static FeatureCache Open(string path, int featureSize)
    {
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
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

    void Load(string path)
    {
        Span<byte> header = stackalloc byte[Magic.Length + sizeof(int)];
        if (stream.Length == 0)
        {
            Magic.CopyTo(header);
            MemoryMarshal.Write(header[Magic.Length..], featureSize);
            stream.Write(header);
            stream.Flush();
            return;
        }
        if (stream.Length < header.Length || stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header[..Magic.Length].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"'{path}' is not an MlPipeline feature cache; delete it to compute the features again.");
        }
        int size = MemoryMarshal.Read<int>(header[Magic.Length..]);
        if (size != featureSize)
        {
            throw new InvalidDataException($"'{path}' holds features of {size} values, not {featureSize}; delete it to compute the features again.");
        }
        var record = new byte[RecordSize];
        long whole = header.Length;
        while (stream.ReadAtLeast(record, record.Length, throwOnEndOfStream: false) == record.Length)
        {
            entries[Key.From(record)] = MemoryMarshal.Cast<byte, float>(record.AsSpan(KeySize)).ToArray();
            whole += record.Length;
        }
        // A record torn by a kill mid-write is dropped.
        stream.SetLength(whole);
        stream.Position = whole;
    }

    public bool TryGet(Key key, out float[] features) => entries.TryGetValue(key, out features!);

    /// <summary>Adds features and appends them to the file, flushed to the operating system before returning.</summary>
    public void Add(IReadOnlyList<(Key Key, float[] Features)> batch)
    {
        var buffer = new byte[RecordSize * batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            var (key, features) = batch[i];
            if (features.Length != featureSize) { throw new ArgumentException($"Features hold {features.Length} values; expected {featureSize}."); }
            var record = buffer.AsSpan(i * RecordSize, RecordSize);
            key.WriteTo(record);
            MemoryMarshal.AsBytes(features.AsSpan()).CopyTo(record[KeySize..]);
        }
        stream.Write(buffer);
        stream.Flush();
        foreach (var (key, features) in batch) { entries[key] = features; }
    }

    public void Dispose() => stream.Dispose();
}
