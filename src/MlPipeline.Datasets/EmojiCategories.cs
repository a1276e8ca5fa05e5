using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using MlPipeline.Datasets.Internals;
using MlPipeline.Internals;

namespace MlPipeline.Datasets;

/// <summary>
/// A real colour data set, offline: Google's emoji images (64x64 RGBA PNG) from the npm package
/// <c>emoji-datasource-google@16.0.0</c>, labelled by their Unicode category (9 categories, 1,906 images, unbalanced;
/// the <c>Component</c> category and skin-tone variants are left out), written as a folder per category.
/// </summary>
public static class EmojiCategories
{
    /// <summary>The npm package the images come from.</summary>
    public const string NpmPackage = "emoji-datasource-google@16.0.0";

    /// <summary>The package's SHA-512, as the npm registry publishes it; a package given with <c>--from</c> must match it.</summary>
    public const string Integrity = "sha512-ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4QxZkOPJCoT8DlPhfQ3A==";

    const string ImageFolder = "package/img/google/64/";

    /// <summary>Where the verified package is kept: <c>emoji</c> under MlPipeline's per-user cache.</summary>
    public static string DefaultDirectory => Path.Combine(CacheDirectory.Root, "emoji");

    /// <summary>
    /// Writes the images into <paramref name="outputDirectory"/>/&lt;category&gt;/&lt;code point&gt;.png (each file
    /// atomically) and returns the number written per category. The package is taken from <paramref name="from"/>
    /// (a <c>.tgz</c>), else from the cache, else fetched with <c>npm pack</c> into the cache; it is verified by its
    /// SHA-512 before use.
    /// </summary>
    /// <exception cref="InvalidDataException">The package does not match its checksum or lacks its catalogue.</exception>
    public static IReadOnlyDictionary<string, int> Write(string outputDirectory, string? from = null, string npmCommand = "npm", IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDirectory);
        string package = from is null ? Fetch(npmCommand, progress, cancellationToken) : FileSystem.RequireFile(from, "--from");
        Verify(package);
        var categories = Catalogue(package);
        var written = new SortedDictionary<string, int>(StringComparer.Ordinal);
        using var file = File.OpenRead(package);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entry.DataStream is null || !entry.Name.StartsWith(ImageFolder, StringComparison.Ordinal)) { continue; }
            string name = entry.Name[ImageFolder.Length..];
            if (!categories.TryGetValue(name, out string? category)) { continue; }
            using var memory = new MemoryStream();
            entry.DataStream.CopyTo(memory);
            AtomicFile.WriteAllBytes(Path.Combine(outputDirectory, category, name), memory.GetBuffer().AsSpan(0, (int)memory.Length));
            written[category] = written.GetValueOrDefault(category) + 1;
        }
        return written;
    }

    /// <summary>Image file name → category, for every emoji with a Google image outside the Component category.</summary>
    static Dictionary<string, string> Catalogue(string package)
    {
        using var file = File.OpenRead(package);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.Name != "package/emoji.json" || entry.DataStream is null) { continue; }
            using var json = JsonDocument.Parse(entry.DataStream);
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var emoji in json.RootElement.EnumerateArray())
            {
                if (emoji.TryGetProperty("has_img_google", out var has) && has.ValueKind == JsonValueKind.True
                    && emoji.GetProperty("category").GetString() is { } category && category != "Component"
                    && emoji.GetProperty("image").GetString() is { } image)
                {
                    map[image] = category;
                }
            }
            return map;
        }
        throw new InvalidDataException($"'{package}' holds no package/emoji.json; expected the npm package {NpmPackage}.");
    }

    static void Verify(string package)
    {
        using var stream = File.OpenRead(package);
        string actual = "sha512-" + Convert.ToBase64String(SHA512.HashData(stream));
        if (actual != Integrity)
        {
            throw new InvalidDataException($"'{package}' has checksum {actual}; expected {Integrity} ({NpmPackage}).");
        }
    }

    static string Fetch(string npm, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        string cached = Path.Combine(DefaultDirectory, "emoji-datasource-google-16.0.0.tgz");
        if (File.Exists(cached)) { return cached; }
        using var pack = NpmPack.Fetch(NpmPackage, npm, progress, cancellationToken);
        Verify(pack.Tarball);
        using (var writer = AtomicFile.Begin(cached))
        using (var source = File.OpenRead(pack.Tarball))
        {
            source.CopyTo(writer.Stream);
            writer.Commit();
        }
        return cached;
    }
}
