using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// Backbone features by content key, kept in the run folder as an append-only file of fixed-size records (a 32-byte
/// key, the features as float32, then the first 16 bytes of the SHA-256 of key and features). Only an index (key →
/// record offset) is held in memory; features are read back with positional reads (<see cref="RandomAccess"/>, not a
/// memory map, whose pages would count in the process's memory) and their checksum checked on every read. Every batch
/// is appended as soon as it is computed, so a run that is killed keeps what it computed; a torn last record (a kill
/// mid-write, or a file cut short) is cut off when the file is opened again, and a record whose checksum does not match
/// (a damaged file) is left out, so its features are computed again. A file of the first format (no checksums) or of
/// another feature size is started afresh. Whatever is not used is said in <see cref="Discarded"/>.
/// </summary>
internal sealed class FeatureCache : IDisposable
{
    static ReadOnlySpan<byte> Magic => "MLPFEAT2"u8;
    static ReadOnlySpan<byte> FirstFormat => "MLPFEAT1"u8;
    const int KeySize = 32, ChecksumSize = 16;
    const int HeaderSize = 8 + sizeof(int);
    readonly Dictionary<Key, long> index = [];
    readonly SafeFileHandle file;
    readonly int featureSize;
    long length;

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

    FeatureCache(SafeFileHandle file, string path, int featureSize)
    {
        this.file = file;
        Path = path;
        this.featureSize = featureSize;
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }

    /// <summary>Features held.</summary>
    public int Count => index.Count;

    /// <summary>
    /// Why records of the file were not used when it was opened (damaged records, or a file of another format or
    /// feature size, started afresh); null when every whole record was used. Their features are computed again.
    /// </summary>
    public string? Discarded { get; private set; }

    /// <summary>Records that were not used when the file was opened.</summary>
    public int DiscardedCount { get; private set; }

    /// <summary>Values per record.</summary>
    public int FeatureSize => featureSize;

    int FeatureBytes => featureSize * sizeof(float);

    /// <summary>Bytes one record takes in the file: what each image (or copy) not yet cached adds to it.</summary>
    public int RecordSize => KeySize + FeatureBytes + ChecksumSize;

    /// <summary>
    /// Opens (or creates) the cache file; anything at the path but a regular file, or a file that is not a cache at all,
    /// is an error naming it. A symbolic link there was not made by MlPipeline: it is replaced by a new cache and what it
    /// points at (which may be an input) is never written.
    /// </summary>
    public static FeatureCache Open(string path, int featureSize)
    {
        if (new FileInfo(path).LinkTarget is not null) { File.Delete(path); }
        var file = File.OpenHandle(MlPipeline.Internals.FileSystem.RequireFileOrMissing(path, "The feature cache"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var cache = new FeatureCache(file, path, featureSize);
            cache.Load();
            return cache;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    void Load()
    {
        long size = RandomAccess.GetLength(file);
        if (size == 0)
        {
            StartAfresh();
            return;
        }
        Span<byte> header = stackalloc byte[HeaderSize];
        if (size < HeaderSize || RandomAccess.Read(file, header, 0) < HeaderSize
            || !(header[..Magic.Length].SequenceEqual(Magic) || header[..Magic.Length].SequenceEqual(FirstFormat)))
        {
            throw new InvalidDataException($"'{Path}' is not an MlPipeline feature cache; delete it to compute the features again.");
        }
        int recorded = MemoryMarshal.Read<int>(header[Magic.Length..]);
        if (!header[..Magic.Length].SequenceEqual(Magic) || recorded != featureSize)
        {
            Discarded = header[..Magic.Length].SequenceEqual(Magic)
                ? $"it holds features of {recorded} values, not {featureSize}"
                : "it was written by an earlier version of MlPipeline, without checksums";
            StartAfresh();
            return;
        }
        length = IndexRecords(size);
        int damaged = DiscardedCount;
        bool torn = (size - HeaderSize) % RecordSize != 0;
        // A record torn by a kill mid-write (or a file cut short) is dropped, and so are the damaged ones (moved over by the good ones).
        RandomAccess.SetLength(file, length);
        if (torn) { DiscardedCount++; }
        Discarded = (damaged > 0, torn) switch
        {
            (true, true) => $"{damaged} record(s) did not match their checksum (the file was damaged) and its last record was incomplete",
            (true, false) => $"{damaged} record(s) did not match their checksum (the file was damaged)",
            (false, true) => "its last record was incomplete (a run was stopped while writing it, or the file was cut short)",
            _ => null,
        };
    }

    /// <summary>
    /// Reads every whole record once, checking its checksum, and indexes the good ones. Damaged records are closed up
    /// in place (each good record after one moves down), so that they are neither read nor reported on the next run
    /// and no second copy of the file is needed. Returns where the good records end.
    /// </summary>
    long IndexRecords(long size)
    {
        int perChunk = Math.Max(1, (1 << 20) / RecordSize);
        var chunk = new byte[perChunk * RecordSize];
        long read = HeaderSize, written = HeaderSize;
        while (read + RecordSize <= size)
        {
            int records = (int)Math.Min(perChunk, (size - read) / RecordSize);
            var span = chunk.AsSpan(0, records * RecordSize);
            ReadExactly(span, read);
            for (int i = 0; i < records; i++)
            {
                var record = span.Slice(i * RecordSize, RecordSize);
                if (!Verify(record))
                {
                    DiscardedCount++;
                    continue;
                }
                if (written != read + ((long)i * RecordSize)) { RandomAccess.Write(file, record, written); }
                index[Key.From(record)] = written;
                written += RecordSize;
            }
            read += (long)records * RecordSize;
        }
        return written;
    }

    void StartAfresh()
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        MemoryMarshal.Write(header[Magic.Length..], featureSize);
        RandomAccess.SetLength(file, 0);
        RandomAccess.Write(file, header, 0);
        length = HeaderSize;
    }

    bool Verify(ReadOnlySpan<byte> record)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(record[..(KeySize + FeatureBytes)], digest);
        return digest[..ChecksumSize].SequenceEqual(record[(KeySize + FeatureBytes)..]);
    }

    void ReadExactly(Span<byte> buffer, long offset)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(file, buffer[done..], offset + done);
            if (n == 0) { throw Damaged(offset, "it ends before the record does"); }
            done += n;
        }
    }

    /// <summary>Whether the features of <paramref name="key"/> are held.</summary>
    public bool Contains(Key key) => index.ContainsKey(key);

    /// <summary>Where the record of <paramref name="key"/> starts in the file, for <see cref="Read"/>.</summary>
    public bool TryGetOffset(Key key, out long offset) => index.TryGetValue(key, out offset);

    /// <summary>The features of <paramref name="key"/>, read from the file (a new array; for tests and single look-ups).</summary>
    public bool TryGet(Key key, out float[] features)
    {
        features = [];
        if (!index.TryGetValue(key, out long offset)) { return false; }
        var record = new byte[RecordSize];
        features = Read(offset, record).ToArray();
        return true;
    }

    /// <summary>
    /// The features of the record at <paramref name="offset"/>, read into <paramref name="record"/> (at least
    /// <see cref="RecordSize"/> bytes) and returned as a view of it, once its checksum has been checked.
    /// </summary>
    /// <exception cref="InvalidDataException">The record no longer matches its checksum: the file changed on disk since it was opened.</exception>
    public ReadOnlySpan<float> Read(long offset, Span<byte> record)
    {
        var span = record[..RecordSize];
        ReadExactly(span, offset);
        if (!Verify(span)) { throw Damaged(offset, "its checksum does not match"); }
        return MemoryMarshal.Cast<byte, float>(span.Slice(KeySize, FeatureBytes));
    }

    InvalidDataException Damaged(long offset, string why) =>
        new($"The feature cache '{Path}' is damaged: the record at byte {offset} cannot be used ({why}), though it was whole when the run started. Delete the file and run again to compute the features afresh.");

    /// <summary>
    /// Appends the records of <paramref name="keys"/> (their features one after another in <paramref name="features"/>),
    /// written to the operating system before returning.
    /// </summary>
    /// <exception cref="IOException">The file could not be written (a full disk, for one); the records written before stay usable.</exception>
    public void Add(ReadOnlySpan<Key> keys, ReadOnlySpan<float> features)
    {
        if (features.Length != (long)keys.Length * featureSize)
        {
            throw new ArgumentException($"{features.Length} feature values for {keys.Length} keys; expected {featureSize} per key.", nameof(features));
        }
        var buffer = new byte[RecordSize * keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            var record = buffer.AsSpan(i * RecordSize, RecordSize);
            keys[i].WriteTo(record);
            MemoryMarshal.AsBytes(features.Slice(i * featureSize, featureSize)).CopyTo(record[KeySize..]);
        }
        Checksum(buffer);
        try
        {
            RandomAccess.Write(file, buffer, length);
        }
        catch (IOException e)
        {
            throw new IOException($"Could not append {keys.Length} record(s) of features to '{Path}': {e.Message} The features written before are kept; the next run goes on from them.", e);
        }
        for (int i = 0; i < keys.Length; i++) { index[keys[i]] = length + ((long)i * RecordSize); }
        length += buffer.Length;
    }

    /// <summary>Writes each record's checksum after its key and features.</summary>
    void Checksum(Span<byte> records)
    {
        Span<byte> digest = stackalloc byte[32];
        for (int start = 0; start < records.Length; start += RecordSize)
        {
            var record = records.Slice(start, RecordSize);
            SHA256.HashData(record[..(KeySize + FeatureBytes)], digest);
            digest[..ChecksumSize].CopyTo(record[(KeySize + FeatureBytes)..]);
        }
    }

    public void Dispose() => file.Dispose();
}
