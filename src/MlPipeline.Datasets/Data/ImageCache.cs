using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using MlPipeline.Internals;

namespace MlPipeline.Data;

/// <summary>
/// The decoded-image cache file: one set's decoded pixels as uint8 rows, written once and read a few rows at a time,
/// so that training holds a batch of images in memory, not the set. Layout: a 4,096-byte header (<c>MLPIMGC1</c>, a
/// random stamp, where the description is, the description's SHA-256), the rows from byte 4,096, then the description (UTF-8 JSON: format, the
/// version that wrote it, the settings that made the pixels, a SHA-256 of the listing and of every file's content, which
/// file became which row and why the others failed, and a SHA-256 of the rows). The file is written under a temporary
/// name and renamed into place when complete, so a kill leaves the old file or none. A file is reused only when its
/// format, version, settings, listing and contents all match and its rows hash to what it says; otherwise the reason is
/// given and it is rebuilt.
/// </summary>
internal static class ImageCache
{
    static ReadOnlySpan<byte> Magic => "MLPIMGC1"u8;

    /// <summary>Where the rows start.</summary>
    public const int DataOffset = 4096;

    /// <summary>The description's format; another number is rebuilt (2: the header holds the description's SHA-256).</summary>
    const int Format = 2;

    /// <summary>Header bytes in use: the magic, the stamp, where the description is and its length, and its SHA-256.</summary>
    const int HeaderBytes = 8 + 16 + 8 + 8 + 32;

    /// <summary>The most bytes a cache of <paramref name="count"/> images of <paramref name="imageSize"/> bytes takes: the header, the rows, and the description (up to 64 bytes an image and 1 MB).</summary>
    public static long BytesNeeded(int count, long imageSize) => DataOffset + (imageSize * count) + (64L * count) + (1 << 20);

    /// <summary>The cache file of a set in <paramref name="directory"/>: <c>images-training.bin</c>, <c>images-validation.bin</c>, <c>images-test.bin</c>.</summary>
    public static string PathOf(string directory, string role) => System.IO.Path.Combine(directory, FileName(role));

    /// <summary>The cache file's name for a set.</summary>
    public static string FileName(string role) => $"images-{role}.bin";

    /// <summary>
    /// Where a replaced cache is kept (<c>images-training.previous.bin</c>, …) until a run goes ahead with the new one:
    /// a run refused after decoding (a resume with another size) leaves the folder's cache reusable.
    /// </summary>
    public static string PreviousOf(string path) => System.IO.Path.ChangeExtension(path, ".previous.bin");

    static readonly string[] Roles = ["training", "validation", "test"];

    /// <summary>The names of every set's cache file and of the replaced ones kept beside them.</summary>
    public static IReadOnlyList<string> FileNames { get; } = [.. Roles.Select(FileName), .. Roles.Select(r => PreviousOf(FileName(r)))];

    /// <summary>Removes the replaced caches kept in <paramref name="directory"/> (see <see cref="PreviousOf"/>).</summary>
    public static void RemovePrevious(string directory)
    {
        foreach (string role in Roles)
        {
            string previous = PreviousOf(PathOf(directory, role));
            if (FileSystem.KindOf(previous) == FileSystem.Kind.RegularFile) { File.Delete(previous); }
        }
    }

    static string LibraryVersion { get; } =
        typeof(ImageCache).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>What made the pixels: a file is reused only for the same values.</summary>
    internal sealed record Settings(int Width, int Height, string ColorMode, string Resize, int? ResizeShorter, string? Background, bool IgnoreExifOrientation, long MaxImagePixels, string? SharedSize);

    /// <summary>The description at the file's end.</summary>
    internal sealed record Description(int Format, string Version, Settings Settings, int Items, string ListingSha256, int[] Rows, Dictionary<int, string> Failed, string RowsSha256);

    /// <summary>A SHA-256 over every listed file's relative path, label and content digest (zeros for a file that could not be read), in order.</summary>
    public static string ListingSha256(IReadOnlyList<string> relativePaths, IReadOnlyList<string> labels, IReadOnlyList<byte[]?> digests)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> zeros = stackalloc byte[32];
        for (int i = 0; i < relativePaths.Count; i++)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(relativePaths[i] + "\n" + labels[i] + "\n"));
            hash.AppendData(digests[i] ?? zeros);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Whether the open file carries <paramref name="stamp"/> (is the file that was written with it).</summary>
    public static bool HasStamp(SafeFileHandle handle, Guid stamp)
    {
        Span<byte> header = stackalloc byte[Magic.Length + 16];
        return RandomAccess.Read(handle, header, 0) == header.Length && header[..Magic.Length].SequenceEqual(Magic) && new Guid(header[Magic.Length..]) == stamp;
    }

    /// <summary>
    /// Opens the cache at <paramref name="path"/> when it holds exactly these settings and this listing, and its rows are
    /// whole and unchanged; otherwise null, with the reason (null reason: there is no file).
    /// </summary>
    public static (FileImageStore Store, Description Description)? TryOpen(string path, Settings settings, int items, string listing, int imageSize, out string? reason)
    {
        reason = null;
        if (FileSystem.KindOf(path) == FileSystem.Kind.Missing) { return null; }
        if (FileSystem.KindOf(path) != FileSystem.Kind.RegularFile) { throw new IOException($"The decoded-image cache '{path}' is {FileSystem.Describe(FileSystem.KindOf(path))}; expected a regular file (or none). Move it away."); }
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = RandomAccess.GetLength(handle);
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (length < DataOffset || RandomAccess.Read(handle, header, 0) != header.Length || !header[..Magic.Length].SequenceEqual(Magic))
        {
            reason = "it is not a decoded-image cache of this version (or it is cut short)";
            return null;
        }
        var stamp = new Guid(header.Slice(Magic.Length, 16));
        long at = BitConverter.ToInt64(header.Slice(Magic.Length + 16, 8));
        long size = BitConverter.ToInt64(header.Slice(Magic.Length + 24, 8));
        if (at < DataOffset || size <= 0 || size > 1L << 30 || at + size != length)
        {
            reason = $"it is cut short or damaged ({length:N0} bytes do not end with its description)";
            return null;
        }
        var json = new byte[size];
        if (RandomAccess.Read(handle, json, at) != size) { reason = "it is cut short"; return null; }
        Description? d;
        try
        {
            d = JsonSerializer.Deserialize<Description>(json);
        }
        catch (JsonException)
        {
            d = null;
        }
        if (d is null || d.Rows is null || d.Failed is null || d.Settings is null) { reason = "its description is damaged"; return null; }
        if (d.Format != Format || d.Version != LibraryVersion) { reason = $"it was written by MlPipeline {d.Version} (format {d.Format}), not {LibraryVersion} (format {Format})"; return null; }
        // The description says which file became which row: an edit there (two rows swapped) would pair pixels with the wrong files.
        if (!SHA256.HashData(json).AsSpan().SequenceEqual(header.Slice(Magic.Length + 32, 32))) { reason = "its description does not match its checksum (the file was changed or damaged)"; return null; }
        if (d.Settings != settings) { reason = $"it holds images read with other settings ({Differences(d.Settings, settings)})"; return null; }
        if (d.Items != items || d.ListingSha256 != listing) { reason = $"the files changed since it was written ({d.Items} files then, {items} now, or other names, labels or contents)"; return null; }
        if (d.Rows.Any(r => (uint)r >= (uint)items) || at != DataOffset + (long)d.Rows.Length * imageSize) { reason = "its rows do not match its description (it is damaged)"; return null; }
        if (RowsSha256(handle, at - DataOffset) != d.RowsSha256) { reason = "its rows do not match their checksum (the file was changed or damaged)"; return null; }
        return (new FileImageStore(path, DataOffset, stamp, FileSystem.IdOf(handle), imageSize, d.Rows.Length), d);
    }

    static string Differences(Settings a, Settings b)
    {
        var differ = typeof(Settings).GetProperties().Where(p => !Equals(p.GetValue(a), p.GetValue(b)))
            .Select(p => $"{p.Name} {p.GetValue(a) ?? "none"}, now {p.GetValue(b) ?? "none"}");
        return string.Join("; ", differ);
    }

    static string RowsSha256(SafeFileHandle handle, long bytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long done = 0; done < bytes;)
        {
            int read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, bytes - done)), DataOffset + done);
            if (read == 0) { break; }
            hash.AppendData(buffer, 0, read);
            done += read;
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Starts a new cache file for <paramref name="path"/>, written under a temporary name until <see cref="Writer.Commit"/>.</summary>
    public static Writer Create(string path, int imageSize) => new(path, imageSize);

    /// <summary>Rows appended in order, then the description; the file replaces any old one only when committed.</summary>
    internal sealed class Writer : IDisposable
    {
        readonly AtomicWriter file;
        readonly IncrementalHash rowsHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        readonly int imageSize;
        readonly Guid stamp = Guid.NewGuid();

        internal Writer(string path, int imageSize)
        {
            this.imageSize = imageSize;
            file = AtomicFile.Begin(path);
            Path = file.TargetPath;
            file.Stream.Write(new byte[DataOffset]);
        }

        /// <summary>The file this writer will replace.</summary>
        public string Path { get; }

        /// <summary>Rows written.</summary>
        public int Rows { get; private set; }

        /// <summary>Appends one image's pixels.</summary>
        public void Add(ReadOnlySpan<byte> pixels)
        {
            if (pixels.Length != imageSize) { throw new ArgumentException($"An image of {pixels.Length} bytes; this cache holds images of {imageSize}."); }
            file.Stream.Write(pixels);
            rowsHash.AppendData(pixels);
            Rows++;
        }

        /// <summary>Writes the description and the header, flushes to disk, renames the file into place and returns a store reading it.</summary>
        public FileImageStore Commit(Settings settings, int items, string listing, int[] rows, Dictionary<int, string> failed)
        {
            var description = new Description(Format, LibraryVersion, settings, items, listing, rows, failed, Convert.ToHexStringLower(rowsHash.GetHashAndReset()));
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(description);
            long at = file.Stream.Position;
            file.Stream.Write(json);
            var header = new byte[HeaderBytes];
            Magic.CopyTo(header);
            stamp.TryWriteBytes(header.AsSpan(Magic.Length));
            BitConverter.TryWriteBytes(header.AsSpan(Magic.Length + 16), at);
            BitConverter.TryWriteBytes(header.AsSpan(Magic.Length + 24), (long)json.Length);
            SHA256.HashData(json).CopyTo(header.AsSpan(Magic.Length + 32));
            file.Stream.Position = 0;
            file.Stream.Write(header);
            file.Stream.Flush();
            // The file's identity, kept by the rename: each read checks that the path still names this file.
            var id = FileSystem.IdOf(file.Stream.SafeFileHandle);
            file.Commit();
            return new FileImageStore(Path, DataOffset, stamp, id, imageSize, Rows);
        }

        public void Dispose()
        {
            rowsHash.Dispose();
            file.Dispose();
        }
    }
}
