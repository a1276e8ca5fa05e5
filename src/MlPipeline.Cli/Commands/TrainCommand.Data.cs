using System.CommandLine;
using MlPipeline.Data;
using MlPipeline.Datasets;
using MlPipeline.Training;

namespace MlPipeline.Cli.Commands;

// TrainCommand: the data --data and --dataset name.
internal static partial class TrainCommand
{
    /// <summary>A short name of the data for the default run folder: the data set's, or the folder's (or CSV's, without extension).</summary>
    static string DataName(ParseResult parse)
    {
        string? source = parse.GetValue(Data);
        var set = IdxDataSet.ByName[parse.GetValue(Dataset)!];
        if (source is null || set.HoldsFiles(source)) { return set.CacheName; }
        return Path.GetFileNameWithoutExtension(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(source))));
    }

    /// <summary>The data --data and --dataset name; image folders' decoded images go to cache files in <paramref name="cacheDirectory"/> when it is given.</summary>
    static TrainingData LoadData(ParseResult parse, string? backbone, string? cacheDirectory, CliConsole console, CancellationToken cancellationToken)
    {
        string? source = parse.GetValue(Data);
        var set = IdxDataSet.ByName[parse.GetValue(Dataset)!];
        bool idx = source is null || set.HoldsFiles(source);
        if (idx && backbone is not null)
        {
            throw new ArgumentException($"--backbone {backbone} trains on image folders read as 224x224 RGB; write {set.Name} as PNG folders first (mlpipeline data png --set {set.CacheName} --split train --out DIR, and --split test for --test) and pass --data DIR.");
        }
        if (idx) { return LoadIdx(parse, set, source, console, cancellationToken); }
        var folderOptions = FolderOptions(parse, backbone, cacheDirectory, console);
        var bar = new DataProgressBar(console);
        var loaded = ImageFolderData.Load(source!, folderOptions, new SyncProgress<DataProgress>(bar.Report), cancellationToken);
        ReportLoaded(parse, loaded, console);
        return loaded.Data;
    }

    /// <summary>How --data's image folders are read: --size, --color and the rest, or a backbone's own size and RGB.</summary>
    static ImageFolderOptions FolderOptions(ParseResult parse, string? backbone, string? cacheDirectory, CliConsole console)
    {
        var size = CliOptions.ParseSize(parse.GetValue(Size), "--size", ImageFolderOptions.MaxSide);
        var color = parse.GetValue(Color);
        if (backbone is not null)
        {
            // The backbone fixes the input: its size and RGB.
            int side = MlPipeline.Training.Transfer.Backbone.Locate(backbone).InputSize;
            if (size is { } s && (s.Width != side || s.Height != side))
            {
                throw new ArgumentException($"--size {s.Width}x{s.Height} does not fit the {backbone} backbone, which takes {side}x{side} images; leave --size out.");
            }
            if (color == MlPipeline.Scoring.ColorMode.Gray)
            {
                console.Error.WriteLine($"note: the {backbone} backbone takes RGB images; gray images are read as three equal channels.");
            }
            size = (side, side);
            color = MlPipeline.Scoring.ColorMode.Rgb;
        }
        return new ImageFolderOptions
        {
            Width = size?.Width,
            Height = size?.Height,
            ColorMode = color,
            Resize = parse.GetValue(Resize) ?? MlPipeline.Scoring.ResizeMode.Stretch,
            Background = parse.GetValue(Background),
            IgnoreExifOrientation = parse.GetValue(IgnoreExif),
            ValidationSplit = parse.GetValue(ValSplit),
            Seed = parse.GetValue(Seed),
            Validation = parse.GetValue(Val),
            Test = parse.GetValue(Test),
            CacheDirectory = cacheDirectory,
        };
    }

    /// <summary>The loader's warnings, the files it left out and what was read.</summary>
    static void ReportLoaded(ParseResult parse, ImageFolderLoad loaded, CliConsole console)
    {
        foreach (string warning in loaded.Warnings) { console.Error.WriteLine($"warning: {warning}"); }
        if (loaded.Failed.Count > 0)
        {
            console.Error.WriteLine($"warning: {loaded.Failed.Count} file(s) could not be read and are left out (the run folder's {RunFolder.DataErrorsFile} lists them all), for example:");
            foreach (var f in loaded.Failed.Take(5)) { console.Error.WriteLine($"  {f.Path}: {f.Error}"); }
        }
        var d = loaded.Data;
        string limited = parse.GetValue(Limit) is { } n && n < d.Train.Count ? $" (of which --limit trains on the first {n})" : "";
        console.Error.WriteLine($"{d.Train.Count} training{limited}, {(d.Validation ?? d.Test).Count} validation{(d.Validation is null || ReferenceEquals(d.Validation, d.Test) ? "" : $" and {d.Test.Count} test")} images; classes: {string.Join(", ", d.Train.ClassNames)}");
    }

    /// <summary>MNIST or Fashion-MNIST, from the cache or --data's idx files.</summary>
    static TrainingData LoadIdx(ParseResult parse, IdxDataSet set, string? source, CliConsole console, CancellationToken cancellationToken)
    {
        if (parse.GetResult(ImageCacheOption) is { Implicit: false })
        {
            throw new ArgumentException($"--image-cache applies to image folders; {set.Name}'s images are held in memory as bytes ({set.Name} is small: 60,000 images of 28x28 take 47 MB).");
        }
        if (parse.GetValue(Size) is not null || parse.GetValue(Color) is not null || parse.GetValue(Resize) is not null || parse.GetValue(Background) is not null || parse.GetValue(IgnoreExif) || parse.GetValue(Val) is not null || parse.GetValue(Test) is not null)
        {
            throw new ArgumentException($"--size, --color, --resize, --background, --ignore-exif, --val and --test apply to image folders; {set.Name} comes with its own 28x28 gray images and test set.");
        }
        try
        {
            return set.Load(DataCommand.EnsureDataSet(set, source, console, cancellationToken));
        }
        catch (InvalidDataException e) when (source is not null)
        {
            string others = string.Join(" or ", IdxDataSet.ByName.Keys.Where(k => k != set.CacheName).Select(k => $"--dataset {k}"));
            throw new InvalidDataException($"{e.Message}{Environment.NewLine}If '{source}' holds another data set's idx files, say which: {others}.", e);
        }
    }
}
