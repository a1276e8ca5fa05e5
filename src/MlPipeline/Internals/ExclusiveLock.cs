namespace MlPipeline.Internals;

/// <summary>
/// The one exclusive file lock of the project (run folders, partial outputs, data-set fetches): a file opened with
/// <see cref="FileShare.None"/>, which .NET takes as an advisory <c>flock</c> on Unix and a share lock on Windows, so
/// the operating system releases it when the process dies however it dies. The lock file itself stays; only who holds
/// it matters.
/// </summary>
internal static class ExclusiveLock
{
    /// <summary>
    /// Takes the lock at <paramref name="path"/> (creating the file when missing), or returns null when another
    /// process, or another handle of this one, holds it. Every other failure throws: a path that is a folder or a
    /// special file (the message names <paramref name="what"/>), a missing folder, no permission, a full disk.
    /// </summary>
    public static FileStream? TryTake(string path, string what)
    {
        FileSystem.RequireFileOrMissing(path, what);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the open failed because the lock is taken: EWOULDBLOCK from <c>flock</c> (11 on Linux, 35 on macOS), or
    /// a sharing or lock violation on Windows (32, 33).
    /// </summary>
    static bool IsHeldElsewhere(IOException e) =>
        e.GetType() == typeof(IOException) && (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 32 or 33 : e.HResult == (OperatingSystem.IsMacOS() ? 35 : 11));
}
