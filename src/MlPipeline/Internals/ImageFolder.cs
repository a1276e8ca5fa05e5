namespace MlPipeline.Internals;

/// <summary>The image files of a folder in a deterministic order (ordinal by relative path), and what else it held.</summary>
internal static class ImageFolder
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>
    /// Lists image files (extensions matched case-insensitively) and counts the other files. With
    /// <paramref name="recursive"/>, subfolders are walked too, following symbolic links to folders once each (a loop is
    /// cut where a folder's real path was already visited).
    /// </summary>
    public static (IReadOnlyList<string> Images, int Ignored) List(string folder, bool recursive)
    {
        if (!Directory.Exists(folder)) { throw new DirectoryNotFoundException($"Input folder '{folder}' does not exist."); }
        var images = new List<string>();
        int ignored = 0;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        pending.Push(Path.GetFullPath(folder));
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            string real = new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dir;
            if (!visited.Add(real)) { continue; }
            foreach (string file in Directory.EnumerateFiles(dir))
            {
                if (Extensions.Contains(Path.GetExtension(file))) { images.Add(file); }
                else { ignored++; }
            }
            if (!recursive) { continue; }
            foreach (string sub in Directory.EnumerateDirectories(dir)) { pending.Push(sub); }
        }
        string root = Path.GetFullPath(folder);
        images.Sort((a, b) => string.CompareOrdinal(Relative(root, a), Relative(root, b)));
        return (images, ignored);
    }

    /// <summary>Path relative to the folder, with forward slashes.</summary>
    public static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');
}
