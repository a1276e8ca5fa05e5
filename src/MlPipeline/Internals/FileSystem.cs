using System.Runtime.InteropServices;

namespace MlPipeline.Internals;

/// <summary>
/// What a path is (regular file, folder, FIFO, device…) and where it really lives (symbolic links resolved), for checks
/// that must name the wrong kind of path and for folder walks that must not block on special files or loop forever.
/// </summary>
internal static partial class FileSystem
{
    /// <summary>The kind of thing at a path, following symbolic links.</summary>
    public enum Kind { Missing, RegularFile, Directory, Special }

    /// <summary>What <paramref name="path"/> is, following symbolic links.</summary>
    public static Kind KindOf(string path)
    {
        if (Directory.Exists(path)) { return Kind.Directory; }
        if (!File.Exists(path)) { return Kind.Missing; }
        return OperatingSystem.IsWindows() || IsRegular(path) ? Kind.RegularFile : Kind.Special;
    }

    /// <summary>A phrase for what the path is: "a folder", "a file", "a special file (FIFO or device)", "missing".</summary>
    public static string Describe(Kind kind) => kind switch
    {
        Kind.Directory => "a folder",
        Kind.RegularFile => "a file",
        Kind.Special => "a special file (a FIFO, socket or device), not a regular file",
        _ => "missing",
    };

    /// <summary>Throws unless <paramref name="path"/> is an existing folder; the message names <paramref name="what"/> and what the path is instead.</summary>
    public static string RequireDirectory(string path, string what)
    {
        var kind = KindOf(path);
        return kind switch
        {
            Kind.Directory => path,
            Kind.Missing => throw new DirectoryNotFoundException($"{what} '{path}' does not exist."),
            _ => throw new IOException($"{what} '{path}' is {Describe(kind)}; expected a folder."),
        };
    }

    /// <summary>The bytes available on the disk of <paramref name="folder"/>, which need not exist yet (its nearest existing ancestor is on the same disk).</summary>
    public static long FreeSpace(string folder)
    {
        string? existing = Path.GetFullPath(folder);
        while (existing is not null && !Directory.Exists(existing)) { existing = Path.GetDirectoryName(existing); }
        return new DriveInfo(existing ?? Path.GetPathRoot(Path.GetFullPath(folder))!).AvailableFreeSpace;
    }

    /// <summary>Throws unless <paramref name="path"/> is an existing regular file; the message names <paramref name="what"/> and what the path is instead.</summary>
    public static string RequireFile(string path, string what)
    {
        var kind = KindOf(path);
        return kind switch
        {
            Kind.RegularFile => path,
            Kind.Missing => throw new FileNotFoundException($"{what} '{path}' does not exist.", path),
            _ => throw new IOException($"{what} '{path}' is {Describe(kind)}; expected a file."),
        };
    }

    /// <summary>
    /// Checks, before any work starts, that a file can be written at <paramref name="path"/>: it is not a folder or a
    /// special file, and no parent is a file.
    /// </summary>
    public static string RequireWritableFile(string path, string what)
    {
        string full = Path.GetFullPath(path);
        var kind = KindOf(full);
        if (kind is Kind.Directory or Kind.Special) { throw new IOException($"{what} '{path}' is {Describe(kind)}; expected a file to write."); }
        for (string? dir = Path.GetDirectoryName(full); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            var parent = KindOf(dir);
            if (parent == Kind.Directory) { break; }
            if (parent != Kind.Missing) { throw new IOException($"{what} '{path}' cannot be written: '{dir}' is {Describe(parent)}, not a folder."); }
        }
        return full;
    }

    /// <summary>Checks, before any work, that a folder can be written at <paramref name="path"/>: missing or a folder, not a file or a special file.</summary>
    public static string RequireWritableFolder(string path, string what)
    {
        var kind = KindOf(path);
        return kind is Kind.Missing or Kind.Directory ? path : throw new IOException($"{what} '{path}' is {Describe(kind)}; expected a folder.");
    }

    /// <summary>Whether two paths name one file: the same full path (existing or not), or the same file once symbolic links are resolved.</summary>
    public static bool SamePath(string a, string b) => Path.GetFullPath(a) == Path.GetFullPath(b) || SameFile(a, b);

    /// <summary>
    /// Whether two paths name the same existing file: the same device and inode (so through <c>..</c>, symbolic links
    /// and hard links alike), or on Windows the same path once links are resolved. False when either is missing.
    /// </summary>
    public static bool SameFile(string a, string b)
    {
        if (!File.Exists(a) || !File.Exists(b)) { return false; }
        if (IdOf(a) is { } x && IdOf(b) is { } y) { return x == y; }
        return string.Equals(RealPath(a), RealPath(b), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>What makes a file itself on Unix: its device and inode, the same for every name (link) it has.</summary>
    public readonly record struct FileId(long Device, long Inode);

    /// <summary>The identity of the file or folder at <paramref name="path"/> (links followed); null when it is missing, or on Windows.</summary>
    public static FileId? IdOf(string path)
    {
        if (OperatingSystem.IsWindows()) { return null; }
        Span<byte> status = stackalloc byte[256];
        if (Stat(path, status) != 0) { return null; }
        return IdIn(status);
    }

    /// <summary>The identity of the open file <paramref name="handle"/>; null on Windows or when it cannot be read.</summary>
    public static FileId? IdOf(SafeHandle handle)
    {
        if (OperatingSystem.IsWindows()) { return null; }
        Span<byte> status = stackalloc byte[256];
        if (FStat(handle, status) != 0) { return null; }
        return IdIn(status);
    }

    static FileId IdIn(ReadOnlySpan<byte> status) => new(BitConverter.ToInt64(status[DeviceOffset..]), BitConverter.ToInt64(status[InodeOffset..]));

    /// <summary>Throws unless <paramref name="path"/> is missing or a regular file: what a file the program creates or appends to may be (a FIFO would block the open for ever).</summary>
    public static string RequireFileOrMissing(string path, string what)
    {
        var kind = KindOf(path);
        return kind is Kind.Missing or Kind.RegularFile ? path : throw new IOException($"{what} '{path}' is {Describe(kind)}; expected a file.");
    }

    /// <summary>Opens an existing regular file for reading; anything else (missing, a folder, a FIFO that would block) is an error naming <paramref name="what"/>.</summary>
    public static FileStream OpenRead(string path, string what) => File.OpenRead(RequireFile(path, what));

    /// <summary>The text of an existing regular file; anything else is an error naming <paramref name="what"/>.</summary>
    public static string ReadAllText(string path, string what) => File.ReadAllText(RequireFile(path, what));

    /// <summary>The absolute path with every symbolic link on the way resolved (the parts that exist).</summary>
    public static string RealPath(string path) => RealPath(Path.GetFullPath(path), 0);

    static string RealPath(string full, int depth)
    {
        if (depth > 40) { throw new IOException($"Too many levels of symbolic links resolving '{full}'."); }
        string root = Path.GetPathRoot(full) ?? "";
        string current = root;
        foreach (string part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            var info = new FileInfo(next);
            if (info.Exists || Directory.Exists(next))
            {
                FileSystemInfo entry = Directory.Exists(next) ? new DirectoryInfo(next) : info;
                if (entry.LinkTarget is not null && entry.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                {
                    next = RealPath(target.FullName, depth + 1);
                }
            }
            current = next;
        }
        return current;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="ancestor"/> or lies inside it (both real, absolute paths).</summary>
    public static bool IsSameOrInside(string path, string ancestor) =>
        path == ancestor || path.StartsWith(ancestor.EndsWith(Path.DirectorySeparatorChar) ? ancestor : ancestor + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// Whether the path (links followed) is a FIFO, socket or device: something whose reading can block forever. One
    /// system call, for the per-file hot path; false for regular files, folders and paths that cannot be examined.
    /// </summary>
    public static bool IsSpecial(string path) => !OperatingSystem.IsWindows() && FileType(path) is { } type && type != Regular && type != DirectoryType;

    static bool IsRegular(string path) => FileType(path) is not { } type || type == Regular; // vanished or unreadable: let the read report it

    const int TypeMask = 0xF000, Regular = 0x8000, DirectoryType = 0x4000;

    // System.Native's FileStatus (pal_io.h): Flags, Mode, Uid, Gid (int32 each), then int64 Size, ATime, ATimeNsec,
    // MTime, MTimeNsec, CTime, CTimeNsec, BirthTime, BirthTimeNsec, Dev, RDev, Ino. A test checks these against stat(1).
    const int DeviceOffset = 88, InodeOffset = 104;

    static int? FileType(string path)
    {
        // .NET has no public API for the file type; the runtime's own System.Native shim gives stat() with a fixed,
        // architecture-independent layout (Flags, then Mode) on every Unix.
        Span<byte> status = stackalloc byte[256];
        if (Stat(path, status) != 0) { return null; }
        return BitConverter.ToInt32(status[4..]) & TypeMask;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, Span<byte> status);

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_FStat")]
    private static partial int FStat(SafeHandle fd, Span<byte> status);
}
