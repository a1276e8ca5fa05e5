using System.Security.Cryptography;
using MlPipeline.Evaluation;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Data;

/// <summary>
/// Labelled image collections as training data, the way Keras' <c>image_dataset_from_directory</c> and torchvision's
/// <c>ImageFolder</c> read them: a folder per class (<c>DIR/&lt;class&gt;/…</c>, nested folders allowed, classes in
/// ordinal order) or a <c>path,label</c> CSV. Files are decoded by the strict decoder scoring uses and resized,
/// converted and laid out by the same ML.NET chain, so a file becomes exactly the tensor scoring feeds the model.
/// </summary>
public static partial class ImageFolderData
{
    const int Chunk = 512;

    /// <summary>Loads the images of <paramref name="source"/> (a folder of class folders, or a CSV), splits them and returns them as bytes.</summary>
    /// <exception cref="ArgumentException">An option is invalid, two sets share a file (compared by device and inode), or the images at the size do not fit in memory as bytes.</exception>
    /// <exception cref="InvalidDataException">Fewer than two classes (counted after decoding: a class none of whose files decodes is left out, with a warning), images of different sizes without a size given, or no image could be read.</exception>
    /// <param name="progress">Receives each step's count, rate and time left (decoding, checking a cache), and a line (<see cref="DataProgress.Message"/>) when a step ends or a cache is reused or rebuilt.</param>
    public static ImageFolderLoad Load(string source, ImageFolderOptions? options = null, IProgress<DataProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        options = (options ?? new ImageFolderOptions()).Validate();
        var warnings = new List<string>();
        var unsupported = new List<IReadOnlyDictionary<string, int>>();
        var (items, ignored) = List(source, warnings, unsupported);
        var classes = items.Select(i => i.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (classes.Count < 2)
        {
            throw new InvalidDataException($"'{source}' holds {classes.Count} class{(classes.Count == 1 ? $" ('{classes[0]}')" : "es")}; a classifier needs at least two: a folder per class, or a CSV with two or more labels.");
        }
        // Every set is listed, and checked for files it shares with another, before any file is decoded.
        var validationItems = options.Validation is { } v ? List(v, warnings, unsupported).Items : null;
        var testItems = options.Test is { } t ? List(t, warnings, unsupported).Items : null;
        // Said once for the run, whichever sets held them.
        if (ImageFolder.DescribeUnsupported(unsupported) is { } skipped) { warnings.Add(skipped); }
        bool split = options.Validation is null;
        RequireDisjoint([("training", source, items), ("validation", options.Validation, validationItems), ("test", options.Test, testItems)], split);
        (string, string?, int)[] sets = [("training", source, items.Count), ("validation", options.Validation, validationItems?.Count ?? 0), ("test", options.Test, testItems?.Count ?? 0)];
        // Before any file is decoded with the size given (and the fewest channels its colour mode allows), then with the size and colour read.
        // (In a cache file, the disk bounds them instead: checked for every set before any is decoded.)
        bool cached = options.CacheDirectory is not null;
        if (!cached && options.Width is { } w && options.Height is { } h) { RequireFitsInMemory(sets, w, h, options.ColorMode == ColorMode.Rgb ? 3 : 1, split); }
        var (preprocessing, sharedSize) = Resolve(source, items, options, cancellationToken);
        if (cached) { RequireDiskRoom(options.CacheDirectory!, sets, preprocessing.Width, preprocessing.Height, preprocessing.Channels); }
        else { RequireFitsInMemory(sets, preprocessing.Width, preprocessing.Height, preprocessing.Channels, split); }
        progress?.Report(DataProgress.Note($"{items.Count} images in {classes.Count} classes, read as {preprocessing.Width}x{preprocessing.Height} {preprocessing.ColorMode.ToString().ToLowerInvariant()}"));
        var failed = new List<ScoreResult>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var classChecksums = new List<ClassChecksum>();
        var all = Read(source, "training", items, classes, preprocessing, sharedSize, options.MaxImagePixels, options.CacheDirectory, failed, classChecksums, out string checksum, progress, cancellationToken);
        progress?.Report(DataProgress.Note(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Read {all.Count} images in {clock.Elapsed.TotalSeconds:F1} s ({all.Count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F0} images/s), {(long)all.Count * all.ImageSize / 1e6:F1} MB as bytes{(all.CacheFile is { } file ? $" in {file}" : "")}")));
        if (all.Count == 0) { throw new InvalidDataException($"None of the {items.Count} images in '{source}' could be read; the first failed with: {failed[0].Path}: {failed[0].Error}."); }
        all = KeepDecodedClasses(source, all, items, failed, warnings);
        classes = [.. all.ClassNames];

        ImageSet train, validation;
        var checksums = new Dictionary<string, string>(StringComparer.Ordinal) { ["images"] = checksum };
        if (options.Validation is { } validationSource)
        {
            train = all;
            validation = ReadOther(validationSource, validationItems!, "validation", classes, preprocessing, options, failed, checksums, classChecksums, progress, cancellationToken);
        }
        else
        {
            (train, validation) = Split(all, options.ValidationSplit, options.Seed, warnings);
        }
        ImageSet? test = options.Test is { } testSource ? ReadOther(testSource, testItems!, "test", classes, preprocessing, options, failed, checksums, classChecksums, progress, cancellationToken) : null;
        // Without a test set the validation images are also the test set; Validation is set either way, so that
        // training knows the per-epoch figures come from a validation split (early stopping may watch them).
        var data = new TrainingData(train, test ?? validation, checksums) { Validation = validation, Failed = failed, Source = preprocessing, ClassChecksums = classChecksums };
        return new ImageFolderLoad(data, preprocessing, failed, warnings, ignored);
    }

    /// <summary>The labelled images of a folder or CSV; an empty class folder is warned about, and files in unsupported image formats are added to <paramref name="unsupported"/>.</summary>
    static (List<LabelledImage> Items, int Ignored) List(string source, List<string> warnings, List<IReadOnlyDictionary<string, int>> unsupported)
    {
        if (FileSystem.KindOf(source) == FileSystem.Kind.RegularFile)
        {
            var csv = LabelledImages.FromCsv(source);
            return ([.. csv.Items], csv.Ignored);
        }
        FileSystem.RequireDirectory(source, "Image folder");
        var images = LabelledImages.FromFolder(source);
        unsupported.Add(images.Unsupported);
        var labels = images.Items.Select(i => i.Label).ToHashSet(StringComparer.Ordinal);
        foreach (string folder in Directory.EnumerateDirectories(source).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal))
        {
            if (!labels.Contains(folder)) { warnings.Add($"class folder '{folder}' holds no images in a supported format ({ImageFolder.SupportedFormats}) and is left out"); }
        }
        return ([.. images.Items], images.Ignored);
    }
}
