using System.Diagnostics;
using System.Globalization;

namespace MlPipeline.Cli.Commands;

/// <summary>score's progress line on an interactive terminal: done/total, a bar and the rate, redrawn at most every 100 ms.</summary>
internal sealed class ScoreProgress(CliConsole console, int total)
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly Stopwatch draw = Stopwatch.StartNew();

    /// <summary>Redraws the line for <paramref name="done"/> results when it is due.</summary>
    public void Report(int done)
    {
        if (!console.Interactive || draw.ElapsedMilliseconds <= 100) { return; }
        draw.Restart();
        double rate = done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        int filled = total == 0 ? 30 : 30 * done / total;
        string bar = new string('=', filled) + new string('.', 30 - filled);
        console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{done}/{total} [{bar}] {rate:F0} img/s\u001b[K"));
    }
}
