namespace MlPipeline.Internals;

/// <summary>A temporary file that replaces its target only on <see cref="Commit"/>.</summary>
internal sealed class AtomicWriter : IDisposable
{
    readonly string target;
    readonly string temp;
    bool committed;

    internal AtomicWriter(string target, string temp)
    {
        this.target = target;
        this.temp = temp;
        Stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
    }

    /// <summary>Where the new content goes.</summary>
    public FileStream Stream { get; }

    /// <summary>The file that will be replaced.</summary>
    public string TargetPath => target;

    /// <summary>Flushes the content to disk and renames it over the target.</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(temp, target, overwrite: true);
        committed = true;
    }

    /// <summary>Removes the temporary file unless it was committed.</summary>
    public void Dispose()
    {
        try
        {
            Stream.Dispose();
        }
        catch (IOException) when (!committed)
        {
            // Closing flushes what is buffered; with the disk full that fails again. The temporary file goes anyway.
        }
        if (!committed)
        {
            try { File.Delete(temp); }
            catch (IOException) { /* best effort: a leftover .tmp never replaces the target */ }
        }
    }
}
