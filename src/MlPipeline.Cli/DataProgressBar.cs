using System.Diagnostics;
using System.Globalization;
using MlPipeline.Data;

namespace MlPipeline.Cli;

/// <summary>
/// Shows a data step's progress (<c>Decoding the training images into the cache: 2048/7624 [=====>....] - 850 img/s -
/// ETA: 0:06</c>) on a terminal, redrawn at most ten times a second, and each step's end and every message as a line
/// (the only output when standard error is redirected).
/// </summary>
internal sealed class DataProgressBar(CliConsole console)
{
    readonly Stopwatch sinceDraw = Stopwatch.StartNew();
    bool drawn;

    public void Report(DataProgress p)
    {
        if (p.Message is { } message)
        {
            Line(message);
            return;
        }
        if (p.Done >= p.Total)
        {
            Line(string.Create(CultureInfo.InvariantCulture, $"{p.Step}: {p.Done}/{p.Total} in {p.Elapsed.TotalSeconds:F1} s ({p.ImagesPerSecond:F0} images/s)"));
            return;
        }
        if (!console.Interactive || (sinceDraw.ElapsedMilliseconds < 100 && drawn)) { return; }
        sinceDraw.Restart();
        drawn = true;
        console.Error.Write("\r" + Bar(p) + "\u001b[K");
    }

    void Line(string text)
    {
        console.Error.WriteLine((drawn && console.Interactive ? "\r" : "") + text + (drawn && console.Interactive ? "\u001b[K" : ""));
        drawn = false;
    }

    /// <summary>The step, the count, a bar, the rate and the time left.</summary>
    internal static string Bar(DataProgress p)
    {
        string bar = TrainingProgressBar.Meter(p.Done, p.Total);
        string left = p.Remaining is { } r ? r.ToString(r.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture) : "?";
        return string.Create(CultureInfo.InvariantCulture, $"{p.Step}: {p.Done}/{p.Total} [{bar}] - {p.ImagesPerSecond:F0} img/s - ETA: {left}");
    }
}
