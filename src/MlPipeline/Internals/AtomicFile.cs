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

    /// <summary>The most bytes a temporary file's name adds to its target's: <c>.NAME.PID.GUID.tmp</c>, the process ID up to 10 digits.</summary>
    public const int TempNameOverhead = 1 + 1 + 10 + 1 + 32 + 4;

    /// <summary>
    /// Removes temporary files that writes of <paramref name="path"/> left when their process was killed (SIGKILL, power
    /// loss). Call it only while no other process can be writing <paramref name="path"/> (under its lock).
    /// </summary>
    public static void RemoveLeftovers(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!, prefix = "." + Path.GetFileName(full) + ".";
        if (!Directory.Exists(dir)) { return; }
        foreach (string file in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
        {
            string rest = Path.GetFileName(file)[prefix.Length..^4];
            int dot = rest.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && rest[..dot].All(char.IsAsciiDigit) && rest[(dot + 1)..] is { Length: 32 } guid && guid.All(char.IsAsciiHexDigitLower))
            {
                File.Delete(file);
            }
        }
    }

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
