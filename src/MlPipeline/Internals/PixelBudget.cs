namespace MlPipeline.Internals;

/// <summary>
/// A ceiling on the decoded pixels held at once by parallel decoding: a decode asks for its image's pixel count
/// before allocating and waits while the others hold too much. An image larger than the whole budget runs alone.
/// </summary>
internal sealed class PixelBudget
{
    readonly object gate = new();
    long used;

    /// <param name="capacity">Pixels that may be decoded at once.</param>
    public PixelBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>Pixels that may be decoded at once.</summary>
    public long Capacity { get; }

    /// <summary>The most pixels held at once so far (for tests and benchmarks).</summary>
    public long Peak { get; private set; }

    /// <summary>The largest single request so far: the most pixels one image was decoded to (twice that for an image whose EXIF orientation was applied: both copies are held while it is).</summary>
    public long LargestRequest { get; private set; }

    /// <summary>Waits until <paramref name="pixels"/> (at most the whole budget) fit, and holds them until the lease is disposed.</summary>
    public IDisposable Acquire(long pixels)
    {
        long amount = Math.Clamp(pixels, 0, Capacity);
        lock (gate)
        {
            LargestRequest = Math.Max(LargestRequest, pixels);
            while (used + amount > Capacity) { Monitor.Wait(gate); }
            used += amount;
            Peak = Math.Max(Peak, used);
        }
        return new Lease(this, amount);
    }

    void Release(long amount)
    {
        lock (gate)
        {
            used -= amount;
            Monitor.PulseAll(gate);
        }
    }

    sealed class Lease(PixelBudget budget, long amount) : IDisposable
    {
        int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) { budget.Release(amount); }
        }
    }
}
