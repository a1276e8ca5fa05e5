using System.Buffers;

namespace MlPipeline.Internals;

/// <summary>Bytes in a buffer rented from <see cref="ArrayPool{T}.Shared"/>; disposing returns it.</summary>
internal sealed class PooledBytes : IDisposable
{
    byte[]? buffer;

    /// <param name="length">The number of bytes held.</param>
    public PooledBytes(int length)
    {
        Length = length;
        buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
    }

    /// <summary>The rented buffer (longer than <see cref="Length"/>).</summary>
    public byte[] Buffer => buffer ?? throw new ObjectDisposedException(nameof(PooledBytes));

    /// <summary>The number of bytes held.</summary>
    public int Length { get; }

    /// <summary>The bytes held.</summary>
    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref buffer, null) is { } rented) { ArrayPool<byte>.Shared.Return(rented); }
    }
}
