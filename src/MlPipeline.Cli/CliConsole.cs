namespace MlPipeline.Cli;

/// <summary>Where the CLI writes: results to <see cref="Out"/>, progress and errors to <see cref="Error"/>; injected so tests can read both.</summary>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Interactive">Whether <see cref="Error"/> is a terminal, so progress bars redraw in place.</param>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, bool Interactive)
{
    /// <summary>The environment variable that names a <see cref="Pause"/> point: a test seam, so that a test can signal or kill the process at an exact moment.</summary>
    public const string PauseVariable = "MLPIPELINE_TEST_PAUSE";

    /// <summary>The point at which <see cref="Pause"/> waits (from <see cref="PauseVariable"/>); null: never.</summary>
    public string? PauseAt { get; init; }

    /// <summary>
    /// At the point <see cref="PauseAt"/> names, says so on <see cref="Error"/> ("paused at NAME") and waits until the
    /// run is cancelled (SIGINT/SIGTERM) or the process is killed; a test waits for the line, then signals. Elsewhere,
    /// and in every ordinary run, it does nothing.
    /// </summary>
    public void Pause(string point, CancellationToken cancellationToken)
    {
        if (!string.Equals(PauseAt, point, StringComparison.Ordinal)) { return; }
        Error.WriteLine($"paused at {point}");
        Error.Flush();
        cancellationToken.WaitHandle.WaitOne();
    }
}
