using System.Security.Cryptography;
using MlPipeline.Internals;

namespace MlPipeline.Datasets;

// IdxDataSet: Verifying by MD5: a file is adopted only when its checksum is the canonical one.
public sealed partial class IdxDataSet
{
    /// <summary>MD5 of a file as lower-case hex.</summary>
    internal static string Md5(string path)
    {
        using var stream = FileSystem.OpenRead(path, "Data file");
        return Convert.ToHexStringLower(MD5.HashData(stream));
    }

    // Copies one file into the target folder when its MD5 matches; returns why not otherwise.
    string? Adopt(string name, string targetDir, Func<Stream> open, string source, HashSet<string> missing)
    {
        string target = Path.Combine(targetDir, name);
        bool inPlace = string.Equals(Path.GetFullPath(source), target, StringComparison.Ordinal);
        string actual;
        if (inPlace)
        {
            actual = Md5(target);
        }
        else
        {
            using var writer = AtomicFile.Begin(target);
            using (var input = open())
            using (var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = input.Read(buffer)) > 0)
                {
                    md5.AppendData(buffer, 0, read);
                    writer.Stream.Write(buffer, 0, read);
                }
                actual = Convert.ToHexStringLower(md5.GetHashAndReset());
            }
            if (actual == ExpectedMd5[name]) { writer.Commit(); }
        }
        if (actual != ExpectedMd5[name])
        {
            return $"'{source}' has MD5 {actual}, expected {ExpectedMd5[name]}";
        }
        missing.Remove(name);
        return null;
    }
}
