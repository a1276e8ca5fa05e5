namespace MlPipeline.Cli;

/// <summary>The documented exit codes of <c>mlpipeline</c>.</summary>
internal static class ExitCodes
{
    /// <summary>Everything succeeded.</summary>
    public const int Success = 0;

    /// <summary>The command failed; the message says why.</summary>
    public const int Failure = 1;

    /// <summary>The command line was invalid (unknown option, bad value).</summary>
    public const int Usage = 2;

    /// <summary>The command finished but some inputs could not be processed.</summary>
    public const int PartialFailure = 3;

    /// <summary>Interrupted by Ctrl+C or SIGTERM after saving what was done.</summary>
    public const int Interrupted = 130;
}
