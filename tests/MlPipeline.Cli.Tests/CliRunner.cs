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
}
