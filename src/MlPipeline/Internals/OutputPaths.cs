namespace MlPipeline.Internals;

/// <summary>
/// The one rule for where a command may write: an output never replaces an input of the same run (compared by file
/// identity, so through <c>..</c>, symbolic links and hard links alike), and an output folder is new, empty, or already
/// the writer's own (it holds the writer's marker file), so that nothing a user keeps there is replaced or deleted.
/// </summary>
internal static class OutputPaths
{
    /// <summary>An input of a run, named as the user gave it (an option): a file, or a folder whose every file is an input.</summary>
    public readonly record struct Input(string? Path, string Name);

    static readonly EnumerationOptions EveryFile = new() { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };

    /// <summary>
    /// Throws <see cref="ArgumentException"/> when <paramref name="output"/> is an existing file that is also one of
    /// <paramref name="inputs"/> (or a file inside an input folder); the message names both.
    /// </summary>
    public static void RequireNotAnInput(string output, string outputName, IEnumerable<Input> inputs)
    {
        if (FileSystem.KindOf(output) != FileSystem.Kind.RegularFile) { return; } // nothing there that writing could destroy
        var id = FileSystem.IdOf(output);
        bool Same(string file) => id is { } x ? FileSystem.IdOf(file) == x : FileSystem.SameFile(output, file);
        foreach (var (path, name) in inputs)
        {
            if (path is null) { continue; }
            var kind = FileSystem.KindOf(path);
            if (kind == FileSystem.Kind.RegularFile && Same(path))
            {
                throw new ArgumentException($"{outputName} '{output}' is the file {name} '{path}' reads; writing there would destroy an input of this run. Choose another path.");
            }
            if (kind == FileSystem.Kind.Directory && Directory.EnumerateFiles(path, "*", EveryFile).FirstOrDefault(Same) is { } inside)
            {
                throw new ArgumentException($"{outputName} '{output}' is '{inside}', one of the files of {name} '{path}'; writing there would destroy an input of this run. Choose another path.");
            }
        }
    }

    /// <summary>
    /// Throws <see cref="IOException"/> unless <paramref name="folder"/> is missing, an empty folder, or a folder that
    /// holds <paramref name="marker"/> (written there by the same kind of writer before). Entries named in
    /// <paramref name="welcome"/> (files the writer reads and checks by content, such as a cache put there to be
    /// reused) do not count. The message names <paramref name="what"/>, a file that is in the way, and
    /// <paramref name="writes"/> (what would happen to it).
    /// </summary>
    public static string RequireNewEmptyOrOwn(string folder, string marker, string what, string writes, params string[] welcome)
    {
        var kind = FileSystem.KindOf(folder);
        if (kind == FileSystem.Kind.Missing) { return folder; }
        if (kind != FileSystem.Kind.Directory) { throw new IOException($"{what} '{folder}' is {FileSystem.Describe(kind)}; expected a folder."); }
        if (File.Exists(Path.Combine(folder, marker))) { return folder; }
        // The marker again: another run may create it between the check above and this listing (it then holds the lock).
        string? first = Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Where(n => n != marker && !welcome.Contains(n, StringComparer.Ordinal)).Order(StringComparer.Ordinal).FirstOrDefault();
        if (first is null) { return folder; }
        throw new IOException($"{what} '{folder}' already holds files that MlPipeline did not write there (for example '{first}'); {writes}. Choose a new or empty folder.");
    }
}
