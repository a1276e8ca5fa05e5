namespace MlPipeline.Scoring;

/// <summary>The image files of a folder in scoring order, and what else it held.</summary>
/// <param name="Images">Image files (png, jpg, jpeg, bmp, gif, webp), ordinal by relative path.</param>
/// <param name="Ignored">Regular files with other extensions, not scored.</param>
/// <param name="Special">Entries with an image extension that are not regular files (FIFOs, sockets, devices), skipped because reading them could block forever.</param>
/// <param name="LoopsCut">Symbolic links to folders that were not followed because they lead back to a folder being walked (or to one of its ancestors).</param>
public sealed record FolderListing(IReadOnlyList<string> Images, int Ignored, int Special, int LoopsCut)
{
    /// <summary>
    /// Of <see cref="Ignored"/>, the files in image formats that torchvision's <c>ImageFolder</c> lists but MlPipeline
    /// does not read (TIFF and the Netpbm formats), by extension (lower case, with the dot). Default: none.
    /// </summary>
    public IReadOnlyDictionary<string, int> Unsupported { get; init; } = new Dictionary<string, int>();

    /// <summary>A sentence on the files of <see cref="Unsupported"/> and the formats that are read; null when there are none.</summary>
    public string? UnsupportedNote => Internals.ImageFolder.DescribeUnsupported([Unsupported]);

    /// <summary>Deconstructs into the images and the number of other entries skipped (ignored plus special).</summary>
    public void Deconstruct(out IReadOnlyList<string> images, out int ignored)
    {
        images = Images;
        ignored = Ignored + Special;
    }

    /// <summary>The path scoring reports for <paramref name="file"/> of <paramref name="folder"/>: relative to the folder, with forward slashes.</summary>
    public static string RelativePath(string folder, string file) =>
        Internals.ImageFolder.Relative(Path.GetFullPath(folder), Path.GetFullPath(file));
}
