using MlPipeline.Scoring;

namespace MlPipeline.Internals;

/// <summary>The image files of a folder in a deterministic order (ordinal by relative path), and what else it held.</summary>
internal static class ImageFolder
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>Image formats torchvision's <c>ImageFolder</c> lists that the decoder (SkiaSharp) does not read: they are counted, not silently taken for other files.</summary>
    public static readonly IReadOnlySet<string> UnsupportedExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".tif", ".tiff", ".ppm", ".pgm", ".pbm", ".pnm" };

    /// <summary>The formats read, in words, for messages: "png, jpg, jpeg, bmp, gif, webp".</summary>
    public const string SupportedFormats = "png, jpg, jpeg, bmp, gif, webp";

    /// <summary>
    /// One sentence on files skipped for their format, or null when there were none: how many of each format (summed
    /// over <paramref name="counts"/>, one per listed folder, so that a run says it once) and which formats are read.
    /// </summary>
    public static string? DescribeUnsupported(IEnumerable<IReadOnlyDictionary<string, int>> counts)
    {
        var total = counts.SelectMany(c => c).GroupBy(p => p.Key, StringComparer.Ordinal).Select(g => (Extension: g.Key, Count: g.Sum(p => p.Value))).OrderBy(p => p.Extension, StringComparer.Ordinal).ToList();
        if (total.Count == 0) { return null; }
        int files = total.Sum(p => p.Count);
        return $"{files} file(s) in an image format that is not supported ({string.Join(", ", total.Select(p => $"{p.Count} {p.Extension}"))}) were skipped; the supported formats are {SupportedFormats}: convert them (for example to PNG) to use them";
    }

    /// <summary>
    /// Lists regular image files (extensions matched case-insensitively) and counts the rest. With
    /// <paramref name="recursive"/>, subfolders are walked too. A symbolic link to a folder is followed (it says so
    /// explicitly, even when it leads outside the input folder), each real folder is listed once (under its own path when
    /// one reaches it without a link), and a link whose
    /// real target is a folder on the current walk or one of its ancestors is a loop and is cut.
    /// </summary>
    public static FolderListing List(string folder, bool recursive)
    {
        FileSystem.RequireDirectory(folder, "Input folder");
        string root = Path.GetFullPath(folder);
        var images = new List<string>();
        int ignored = 0, special = 0, loops = 0;
        var unsupported = new Dictionary<string, int>(StringComparer.Ordinal);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        // Folders reached without a link are walked before any reached through one, and each in ordinal order, so
        // that a real folder is listed under its own path when it has one (a link from one class folder into another
        // does not move the other's images), and the listing does not depend on the order the file system returns.
        var pending = new Stack<(string Dir, string[] Chain)>();
        var linked = new Queue<(string Dir, string[] Chain)>();
        pending.Push((root, []));
        while (pending.Count > 0 || linked.Count > 0)
        {
            var (dir, chain) = pending.Count > 0 ? pending.Pop() : linked.Dequeue();
            string real = FileSystem.RealPath(dir);
            if (chain.Any(c => FileSystem.IsSameOrInside(c, real)))
            {
                loops++;
                continue;
            }
            if (!visited.Add(real)) { continue; }
            foreach (string file in Directory.EnumerateFiles(dir))
            {
                string extension = Path.GetExtension(file);
                if (!Extensions.Contains(extension))
                {
                    ignored++;
                    if (UnsupportedExtensions.Contains(extension)) { unsupported[extension.ToLowerInvariant()] = unsupported.GetValueOrDefault(extension.ToLowerInvariant()) + 1; }
                }
                else if (FileSystem.IsSpecial(file)) { special++; }
                else { images.Add(file); }
            }
            if (!recursive) { continue; }
            string[] next = [.. chain, real];
            var subs = Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal).ToList();
            foreach (string sub in subs.Where(IsLink)) { linked.Enqueue((sub, next)); }
            // Pushed last first, so that they are walked in order.
            foreach (string sub in Enumerable.Reverse(subs).Where(s => !IsLink(s))) { pending.Push((sub, next)); }
        }
        // Each relative path is made once, not once per comparison.
        // Names that are not UTF-8 reach .NET with U+FFFD in place of their bytes, so two of them can read alike: the
        // path is listed once (and reported as a name that cannot be opened), never as two rows with one path.
        var sorted = images.Distinct(StringComparer.Ordinal).Select(f => (Key: Relative(root, f), File: f)).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.File).ToList();
        return new FolderListing(sorted, ignored, special, loops) { Unsupported = unsupported };
    }

    static bool IsLink(string path) => new DirectoryInfo(path).LinkTarget is not null;

    /// <summary>Path relative to the folder, with forward slashes (a backslash is a separator only where the platform says so).</summary>
    public static string Relative(string root, string path)
    {
        string relative = Path.GetRelativePath(root, path);
        return Path.DirectorySeparatorChar == '/' ? relative : relative.Replace(Path.DirectorySeparatorChar, '/');
    }
}
