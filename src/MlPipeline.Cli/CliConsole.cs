namespace MlPipeline.Cli;

/// <summary>Where the CLI writes: results to <see cref="Out"/>, progress and errors to <see cref="Error"/>; injected so tests can read both.</summary>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Interactive">Whether <see cref="Error"/> is a terminal, so progress bars redraw in place.</param>
internal sealed record CliConsole(TextWriter Out, TextWriter Error, bool Interactive);
