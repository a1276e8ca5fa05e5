namespace MlPipeline.Internals;

/// <summary>The per-user cache folder: <c>$MLPIPELINE_CACHE</c>, else <c>$XDG_CACHE_HOME/mlpipeline</c>, else <c>~/.cache/mlpipeline</c>.</summary>
internal static class CacheDirectory
{
    /// <summary>The root of MlPipeline's cache.</summary>
    public static string Root
    {
        get
        {
            string? explicitRoot = Environment.GetEnvironmentVariable("MLPIPELINE_CACHE");
            if (!string.IsNullOrWhiteSpace(explicitRoot)) { return explicitRoot; }
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string baseDir = !string.IsNullOrWhiteSpace(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(baseDir, "mlpipeline");
        }
    }
}
