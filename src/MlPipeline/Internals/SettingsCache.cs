namespace MlPipeline.Internals;

/// <summary>
/// What a saved chain's mapping makes from its settings text (parsed settings, an image loader), so a row does not
/// parse them again. Each mapping instance owns one (ML.NET creates a mapping's factory per loaded model), so the cache
/// lives and dies with the loaded transformer rather than the process. Bounded: it holds at most
/// <see cref="Capacity"/> values and evicts the least recently used one to make room (a saved chain's settings column
/// is constant, so one value is the usual case).
/// </summary>
internal sealed class SettingsCache<T>(Func<string, T> create) where T : class
{
    /// <summary>The most values held at once.</summary>
    public const int Capacity = 4;

    readonly Lock gate = new();
    readonly List<Entry> entries = new(Capacity);
    volatile Entry? last;

    /// <summary>The values held now (at most <see cref="Capacity"/>).</summary>
    public int Count
    {
        get
        {
            lock (gate) { return entries.Count; }
        }
    }

    /// <summary>The value for <paramref name="settings"/>, made once while it stays cached.</summary>
    public T Get(string settings)
    {
        // Every row of a chain carries the same settings: the last one answers without the lock.
        if (last is { } recent && string.Equals(recent.Settings, settings, StringComparison.Ordinal)) { return recent.Value; }
        lock (gate)
        {
            int at = entries.FindIndex(e => string.Equals(e.Settings, settings, StringComparison.Ordinal));
            Entry entry;
            if (at >= 0)
            {
                entry = entries[at];
                entries.RemoveAt(at);
            }
            else
            {
                entry = new Entry(settings, create(settings));
                if (entries.Count == Capacity) { entries.RemoveAt(0); }
            }
            entries.Add(entry);
            last = entry;
            return entry.Value;
        }
    }

    sealed record Entry(string Settings, T Value);
}
