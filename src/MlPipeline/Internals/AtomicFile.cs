namespace MlPipeline.Internals;

/// <summary>Writes files so that a reader sees either the old complete file or the new complete one, never a part.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> through a temporary file in the same folder.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var writer = Begin(path);
        writer.Stream.Write(bytes);
        writer.Commit();
    }

    /// <summary>Writes text (UTF-8) atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Starts an atomic write: write to <see cref="AtomicWriter.Stream"/>, then <see cref="AtomicWriter.Commit"/>; disposing without committing leaves the target untouched.</summary>
    public static AtomicWriter Begin(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        return new AtomicWriter(full, temp);
    }
}
