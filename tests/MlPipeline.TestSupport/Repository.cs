namespace MlPipeline.TestSupport;

/// <summary>Files of this repository, found by walking up from the test binaries to <c>MlPipeline.sln</c>.</summary>
public static class Repository
{
    static readonly Lazy<string> RootDirectory = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "MlPipeline.sln"))) { return dir.FullName; }
        }
        throw new DirectoryNotFoundException($"MlPipeline.sln not found above {AppContext.BaseDirectory}.");
    });

    /// <summary>The repository's root folder.</summary>
    public static string Root => RootDirectory.Value;

    /// <summary>A path inside the repository; throws when the file does not exist.</summary>
    public static string File(string relative)
    {
        string path = Path.Combine(Root, relative);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"{relative} not found in {Root}.", path);
    }
}
