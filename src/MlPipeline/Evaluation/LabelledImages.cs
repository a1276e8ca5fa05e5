using MlPipeline.Internals;

namespace MlPipeline.Evaluation;

/// <summary>
/// Images with their true labels, from a folder per class (<c>DIR/&lt;label&gt;/…</c>) or a <c>path,label</c> CSV file.
/// Result paths are relative to <see cref="Root"/>, with forward slashes.
/// </summary>
public sealed record LabelledImages(string Root, IReadOnlyList<LabelledImage> Items, int Ignored)
{
    /// <summary>Of <see cref="Ignored"/>, the files in image formats MlPipeline does not read (TIFF, Netpbm), by extension. Default: none.</summary>
    public IReadOnlyDictionary<string, int> Unsupported { get; init; } = new Dictionary<string, int>();

    /// <summary>A sentence on the files of <see cref="Unsupported"/> and the formats that are read; null when there are none.</summary>
    public string? UnsupportedNote => ImageFolder.DescribeUnsupported([Unsupported]);

    /// <summary>
    /// Every image under <c>folder/&lt;label&gt;/</c> (subfolders of a class folder included), labelled by its class
    /// folder's name, in ordinal path order. Non-image files are counted in <see cref="Ignored"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder has images outside class folders, or no images at all.</exception>
    public static LabelledImages FromFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var listing = ImageFolder.List(folder, recursive: true);
        var (images, ignored) = listing;
        string root = Path.GetFullPath(folder);
        var items = new List<LabelledImage>(images.Count);
        var loose = new List<string>();
        foreach (string image in images)
        {
            string relative = ImageFolder.Relative(root, image);
            int slash = relative.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0) { loose.Add(relative); }
            else { items.Add(new LabelledImage(image, relative[..slash])); }
        }
        if (loose.Count > 0)
        {
            throw new InvalidDataException($"Folder '{folder}' has {loose.Count} image(s) outside class folders ({string.Join(", ", loose.Take(3))}{(loose.Count > 3 ? ", …" : "")}); expected {folder}/<label>/<image>, or give a labels CSV.");
        }
        if (items.Count == 0)
        {
            string skipped = ImageFolder.DescribeUnsupported([listing.Unsupported]) is { } note ? $" ({note})" : "";
            throw new InvalidDataException($"Folder '{folder}' holds no images in class folders; expected {folder}/<label>/<image> ({ImageFolder.SupportedFormats}){skipped}.");
        }
        return new LabelledImages(root, items, ignored) { Unsupported = listing.Unsupported };
    }

    /// <summary>Words a labels CSV's header may name its path column with (case and surrounding spaces aside).</summary>
    internal static readonly IReadOnlyList<string> PathColumnNames = ["path", "file", "filename", "file_name", "filepath", "file_path", "image", "image_path", "image_file", "img", "name", "id", "image_id"];

    /// <summary>Words a labels CSV's header may name its label column with (case and surrounding spaces aside).</summary>
    internal static readonly IReadOnlyList<string> LabelColumnNames = ["label", "labels", "class", "classes", "class_name", "classname", "category", "target", "y", "digit", "species", "breed", "emotion"];

    /// <summary>
    /// The one rule for a labels CSV's header, wherever one is read (<c>train --data</c>, <c>--val</c>, <c>--test</c>,
    /// <c>evaluate --labels</c>): a first row of two fields that are column words, a path word
    /// (<see cref="PathColumnNames"/>) then a label word (<see cref="LabelColumnNames"/>), unless its first field names
    /// an existing file under <paramref name="baseDir"/>.
    /// </summary>
    internal static bool IsHeader(IReadOnlyList<string> fields, string baseDir) =>
        fields.Count == 2
        && PathColumnNames.Contains(fields[0].Trim(), StringComparer.OrdinalIgnoreCase)
        && LabelColumnNames.Contains(fields[1].Trim(), StringComparer.OrdinalIgnoreCase)
        && !File.Exists(Path.Combine(baseDir, fields[0]));

    /// <summary>
    /// The images listed in a CSV file with columns <c>path,label</c> (a header row is optional: one whose fields are
    /// column words such as <c>path,label</c>, <c>file,class</c> or <c>filename,category</c>).
    /// Relative paths are taken against <paramref name="root"/>, or the CSV file's folder when it is null.
    /// </summary>
    /// <exception cref="FileNotFoundException">The CSV file does not exist.</exception>
    /// <exception cref="InvalidDataException">A row does not have two fields, a field is empty, a path repeats, or there are no rows; the message names the line.</exception>
    public static LabelledImages FromCsv(string csvPath, string? root = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(csvPath);
        if (root is not null) { FileSystem.RequireDirectory(root, "Input folder"); }
        FileSystem.RequireFile(csvPath, "Labels file");
        if (ImageFolder.Extensions.Contains(Path.GetExtension(csvPath)) || ImageFolder.UnsupportedExtensions.Contains(Path.GetExtension(csvPath)))
        {
            throw new InvalidDataException($"Labels file '{csvPath}' is an image, not a CSV of path,label rows; give a folder with a subfolder per class, or a labels CSV.");
        }
        string baseDir = Path.GetFullPath(root ?? Path.GetDirectoryName(Path.GetFullPath(csvPath))!);
        var items = new List<LabelledImage>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, fields) in Csv.Read(csvPath))
        {
            if (line == 1 && IsHeader(fields, baseDir)) { continue; }
            if (fields.Count != 2)
            {
                throw new InvalidDataException($"Labels file '{csvPath}' line {line} has {fields.Count} field(s); expected 2: path,label.");
            }
            // Paths are taken exactly as written (a quoted name may start with spaces); labels are trimmed.
            string path = fields[0], label = fields[1].Trim();
            if (path.Length == 0 || label.Length == 0)
            {
                throw new InvalidDataException($"Labels file '{csvPath}' line {line} has an empty {(path.Length == 0 ? "path" : "label")}; expected path,label.");
            }
            string full;
            try
            {
                full = Path.GetFullPath(path, baseDir);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"Labels file '{csvPath}' line {line} has an invalid path: {e.Message}", e);
            }
            // A labels file names images inside the input folder; it must not reach other files on the machine.
            if (Path.IsPathRooted(path) || !FileSystem.IsSameOrInside(full, baseDir) || full == baseDir)
            {
                string problem = Path.IsPathRooted(path) ? "is absolute" : full == baseDir ? $"is the input folder '{baseDir}' itself" : $"leads outside the input folder '{baseDir}'";
                throw new InvalidDataException($"Labels file '{csvPath}' line {line} has the path '{path}', which {problem}; expected the path of an image relative to the input folder '{baseDir}', inside it.");
            }
            if (seen.TryGetValue(full, out int first))
            {
                throw new InvalidDataException($"Labels file '{csvPath}' lists '{path}' twice (lines {first} and {line}); expected each image once.");
            }
            seen[full] = line;
            items.Add(new LabelledImage(full, label));
        }
        if (items.Count == 0) { throw new InvalidDataException($"Labels file '{csvPath}' lists no images; expected rows of path,label."); }
        return new LabelledImages(baseDir, items, 0);
    }
}
