using System.Security.Cryptography;
using System.Text.Json;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Formats;

/// <summary>
/// What <c>score --shard</c> writes beside its output (<c>OUTPUT.shard.json</c>) and <c>merge</c> checks: which shard of
/// which folder, how many images it was given and how each ended, the run's settings (model by content, preprocessing),
/// and the SHA-256 of the published files, so that a shard cut short or changed afterwards is refused by name.
/// </summary>
/// <param name="Shard">The shard as K/N.</param>
/// <param name="Index">K.</param>
/// <param name="Count">N.</param>
/// <param name="Images">The images of the folder in this shard.</param>
/// <param name="FolderImages">The images of the whole folder when it was listed.</param>
/// <param name="ListingSha256">The SHA-256 of that listing (every image's relative path, in order): shards of one listing have the same.</param>
/// <param name="Scored">The predictions in the output.</param>
/// <param name="Failed">The rows of the errors file (0 when there is none).</param>
/// <param name="PredictionsSha256">The output's SHA-256.</param>
/// <param name="ErrorsSha256">The errors file's SHA-256, or null when none was written.</param>
/// <param name="Run">What the shard was scored with.</param>
internal sealed record ShardManifest(string Shard, int Index, int Count, int Images, int FolderImages, string ListingSha256, int Scored, int Failed, string PredictionsSha256, string? ErrorsSha256, ScoringRun Run)
{
    /// <summary>The manifest text of a published shard output.</summary>
    public static string Write(Shard shard, int images, IReadOnlyList<string> listing, int scored, int failed, ScoringRun run, string output)
    {
        string errors = PredictionsFile.ErrorsPath(output);
        var manifest = new ShardManifest(shard.ToString(), shard.Index, shard.Count, images, listing.Count, ListingHash(listing), scored, failed, HashOf(output), failed > 0 ? HashOf(errors) : null, run);
        return JsonSerializer.Serialize(manifest, ScoringRun.Json) + "\n";
    }

    /// <summary>The SHA-256 of relative paths, each ended by a NUL (a character no file name holds).</summary>
    public static string ListingHash(IReadOnlyList<string> relativePaths)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string path in relativePaths)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(path));
            hash.AppendData([0]);
        }
        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>A file's SHA-256 as <c>sha256:</c> and hex digits.</summary>
    public static string HashOf(string file)
    {
        using var stream = FileSystem.OpenRead(file, "Shard file");
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
