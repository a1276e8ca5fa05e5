using Microsoft.Win32.SafeHandles;
using MlPipeline.Internals;

namespace MlPipeline.Data;

/// <summary>Where an <see cref="ImageSet"/>'s pixels are: fixed-size rows, read by row number.</summary>
internal abstract class ImageStore
{
    protected ImageStore(int imageSize, int count)
    {
        ImageSize = imageSize;
        Count = count;
    }

    /// <summary>Bytes per image.</summary>
    public int ImageSize { get; }

    /// <summary>Rows held.</summary>
    public int Count { get; }

    /// <summary>Copies rows <paramref name="rows"/>, in that order, into <paramref name="destination"/> (rows × <see cref="ImageSize"/> bytes).</summary>
    public abstract void Read(ReadOnlySpan<int> rows, Span<byte> destination);
}

/// <summary>Rows in one array in memory.</summary>
internal sealed class MemoryImageStore(byte[] pixels, int imageSize, int count) : ImageStore(imageSize, count)
{
    /// <summary>The array, for sets built from bytes.</summary>
    public byte[] Pixels => pixels;

    /// <inheritdoc/>
    public override void Read(ReadOnlySpan<int> rows, Span<byte> destination)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            pixels.AsSpan(checked((int)((long)rows[i] * ImageSize)), ImageSize).CopyTo(destination.Slice(i * ImageSize, ImageSize));
        }
    }
}

/// <summary>
/// Rows in a decoded-image cache file (see <see cref="ImageCache"/>), read with positional reads (<c>pread</c>) at each
/// call: the file is opened for the call and checked to be the one written (its stamp and length), so that memory
/// holds only what a call asks for (a memory map would count the pages read in the process's resident memory), and a
/// file replaced, cut or removed while it is used is an error naming it, never other pixels.
/// </summary>
internal sealed class FileImageStore(string path, long dataOffset, Guid stamp, FileSystem.FileId? id, int imageSize, int count) : ImageStore(imageSize, count)
{
    /// <summary>The cache file.</summary>
    public string Path => path;

    /// <summary>The same rows once the file was renamed to <paramref name="newPath"/> (its stamp is checked there).</summary>
    public FileImageStore MovedTo(string newPath) => new(newPath, dataOffset, stamp, id, ImageSize, Count);

    /// <inheritdoc/>
    public override void Read(ReadOnlySpan<int> rows, Span<byte> destination)
    {
        using var handle = Open();
        int i = 0;
        while (i < rows.Length)
        {
            // Runs of consecutive rows (validation and test are read in order) are read in one call.
            int run = 1;
            while (i + run < rows.Length && rows[i + run] == rows[i] + run) { run++; }
            ReadExactly(handle, destination.Slice(i * ImageSize, run * ImageSize), dataOffset + (long)rows[i] * ImageSize);
            i += run;
        }
    }

    SafeFileHandle Open()
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The decoded-image cache '{path}' can no longer be read ({e.Message}); it was removed or changed while in use. Run the command again to rebuild it.", e);
        }
        try
        {
            long expected = dataOffset + (long)Count * ImageSize;
            // The stamp and length catch another cache or a cut one; the identity (device and inode) a copy of this one
            // put in its place, whose header is the same.
            if (!ImageCache.HasStamp(handle, stamp) || RandomAccess.GetLength(handle) < expected || (id is not null && FileSystem.IdOf(handle) != id))
            {
                throw new IOException($"The decoded-image cache '{path}' was replaced or cut while in use (expected the file written at the start of this run, {expected:N0} bytes or more); run the command again to rebuild it.");
            }
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(handle, destination, offset);
            if (read == 0) { throw new IOException($"The decoded-image cache '{path}' ends at byte {offset:N0}, before the rows it should hold; run the command again to rebuild it."); }
            destination = destination[read..];
            offset += read;
        }
    }
}
