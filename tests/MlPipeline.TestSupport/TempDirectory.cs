namespace MlPipeline.TestSupport;

/// <summary>Fresh folders for tests under the system temp folder (<c>mlpipeline-tests/&lt;guid&gt;</c>).</summary>
public static class TempDirectory
{
    /// <summary>Creates an empty folder and returns its full path; the caller deletes it.</summary>
    public static string Create()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlpipeline-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
