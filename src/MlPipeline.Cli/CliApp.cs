using System.CommandLine;
using MlPipeline.Cli.Commands;

namespace MlPipeline.Cli;

/// <summary>Builds the command tree and runs one command line, mapping failures to the documented exit codes.</summary>
internal static class CliApp
{
    internal static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show stack traces with errors.",
        Recursive = true,
    };

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        // A command named mlpipeline rather than a RootCommand, whose name is the entry assembly's (MlPipeline.Cli under
        // dotnet run): the usage line names the command users type. It takes RootCommand's help and version options.
        var root = new Command("mlpipeline", "MlPipeline: train, export, score and evaluate image classifiers.")
        {
            DataCommand.Create(console),
            TrainCommand.Create(console),
            ExportCommand.Create(console),
            ScoreCommand.Create(console),
            MergeCommand.Create(console),
            EvaluateCommand.Create(console),
            DemoCommand.Create(console),
        };
        foreach (var option in new RootCommand().Options) { root.Options.Add(option); }
        root.Options.Add(Verbose);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) { await console.Error.WriteLineAsync($"error: {error.Message}"); }
            await console.Error.WriteLineAsync("Run 'mlpipeline --help' for usage.");
            return ExitCodes.Usage;
        }
        var configuration = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            ProcessTerminationTimeout = null,
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            return await parse.InvokeAsync(configuration, cancellationToken);
        }
        catch (Exception e) when (IsUserError(e))
        {
            await console.Error.WriteLineAsync($"error: {UserMessage(e)}");
            if (parse.GetValue(Verbose)) { await console.Error.WriteLineAsync(e.ToString()); }
            // Option values are checked as options are turned into library options; those errors are usage errors.
            return e is ArgumentException ? ExitCodes.Usage : ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            await console.Error.WriteLineAsync("Interrupted.");
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>
    /// The message without .NET's "(Parameter 'Name')" and "Actual value was" tails, which name C# parameters, not
    /// options, and with the library options it names worded as the flags that set them (<see cref="LibraryWording"/>).
    /// </summary>
    internal static string UserMessage(Exception e) => LibraryWording.ToFlags(
        e is ArgumentException ? System.Text.RegularExpressions.Regex.Replace(e.Message, @"\s*\(Parameter '[^']*'\)|\s*Actual value was [^\n]*", "").Trim() : e.Message);

    static bool IsUserError(Exception e) => e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException
        or InvalidOperationException or NotSupportedException or FormatException;
}
