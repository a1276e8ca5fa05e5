using MlPipeline.Scoring;

namespace MlPipeline.Internals;

/// <summary>The image files of a folder in a deterministic order (ordinal by relative path), and what else it held.</summary>
internal static class ImageFolder
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>
    /// Lists regular image files (extensions matched case-insensitively) and counts the rest. With
    /// <paramref name="recursive"/>, subfolders are walked too. A symbolic link to a folder is followed (it says so
    /// explicitly, even when it leads outside the input folder), each real folder is listed once, and a link whose
    /// real target is a folder on the current walk or one of its ancestors is a loop and is cut.
    /// </summary>
    public static FolderListing List(string folder, bool recursive)
    {
        FileSystem.RequireDirectory(folder, "Input folder");
        string root = Path.GetFullPath(folder);
        var images = new List<string>();
        int ignored = 0, special = 0, loops = 0;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(string Dir, string[] Chain)>();
        pending.Push((root, []));
        while (pending.Count > 0)
        {
            var (dir, chain) = pending.Pop();
            string real = FileSystem.RealPath(dir);
            if (chain.Any(c => FileSystem.IsSameOrInside(c, real)))
            {
                loops++;
                continue;
            }
            if (!visited.Add(real)) { continue; }
            foreach (string file in Directory.EnumerateFiles(dir))
            {
                if (!Extensions.Contains(Path.GetExtension(file))) { ignored++; }
                else if (FileSystem.IsSpecial(file)) { special++; }
                else { images.Add(file); }
            }
            if (!recursive) { continue; }
            string[] next = [.. chain, real];
            foreach (string sub in Directory.EnumerateDirectories(dir)) { pending.Push((sub, next)); }
        }
        // Each relative path is made once, not once per comparison.
        var sorted = images.Select(f => (Key: Relative(root, f), File: f)).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.File).ToList();
        return new FolderListing(sorted, ignored, special, loops);
    }

    /// <summary>Path relative to the folder, with forward slashes (a backslash is a separator only where the platform says so).</summary>
    public static string Relative(string root, string path)
    {
        string relative = Path.GetRelativePath(root, path);
        return Path.DirectorySeparatorChar == '/' ? relative : relative.Replace(Path.DirectorySeparatorChar, '/');
    }
}
