namespace MlPipeline.Cli.Tests;

/// <summary>Runs the CLI in-process with captured output.</summary>
internal static class CliRunner
{
    public static async Task<(int Exit, string Out, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await CliApp.RunAsync(args, new CliConsole(output, error, Interactive: false), CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlpipeline-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A file of the repository, found by walking up from the test folder to MlPipeline.sln.</summary>
    public static string RepositoryFile(string relative)
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "MlPipeline.sln")))
        {
            dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("MlPipeline.sln not found above the test folder.");
        }
        return Path.Combine(dir, relative);
    }

    /// <summary>Writes the first <paramref name="count"/> MNIST test digits as PNG files in FOLDER/&lt;label&gt;/ and returns the folder.</summary>
    public static string WriteDigits(string folder, int count)
    {
        MlPipeline.Training.Data.Mnist.Load(MlPipeline.Training.Data.Mnist.Ensure()).Test.WritePngFolder(folder, count);
        return folder;
    }
}
