using System.Diagnostics;
using System.Globalization;
using MlPipeline.Training;

namespace MlPipeline.Cli;

/// <summary>
/// Draws Keras's per-epoch progress bar (<c>938/938 [=====] - 14s 15ms/step - loss: 0.1 - accuracy: 0.97</c>) on a
/// terminal, redrawn at most ten times a second; when standard error is redirected it writes only each epoch's summary.
/// </summary>
internal sealed class TrainingProgressBar(CliConsole console)
{
    const int Width = 30;
    readonly Stopwatch sinceDraw = Stopwatch.StartNew();
    int epochShown;
    double? firstRate;

    public void Report(TrainingProgress p)
    {
        if (p.Features is { } f)
        {
            string line = $"Backbone features of the {f.Images} images: {f.Done}/{f.Total}";
            if (f.Done == f.Total) { console.Error.WriteLine((console.Interactive ? "\r" : "") + line + $" ({f.Computed} computed, {f.Cached} from the cache so far)" + (console.Interactive ? "\u001b[K" : "")); }
            else if (console.Interactive && (sinceDraw.ElapsedMilliseconds >= 100 || f.Done == 0))
            {
                sinceDraw.Restart();
                console.Error.Write("\r" + line + "\u001b[K");
            }
            return;
        }
        if (p.Epoch != epochShown)
        {
            epochShown = p.Epoch;
            console.Error.WriteLine($"Epoch {p.Epoch}/{p.Epochs}");
        }
        firstRate ??= p.LearningRate;
        if (p.CompletedEpoch is { } m)
        {
            // The learning rate is shown once a schedule has changed it.
            string rate = p.LearningRate != firstRate ? string.Create(CultureInfo.InvariantCulture, $" - lr: {p.LearningRate:G3}") : "";
            string best = p.BestEpoch == p.Epoch ? " (best so far)" : "";
            string line = Bar(p) + string.Create(CultureInfo.InvariantCulture,
                $" - val_loss: {m.TestLoss:F4} - val_accuracy: {m.TestAccuracy:F4}{rate}{best}");
            console.Error.WriteLine(console.Interactive ? "\r" + line : line);
            if (p.StoppingEarly)
            {
                console.Error.WriteLine($"Early stopping: no improvement for {Commands.TrainCommand.EpochCount(p.Epoch - (p.BestEpoch ?? 0))}; keeping the weights of epoch {p.BestEpoch}.");
            }
            return;
        }
        if (!console.Interactive || (sinceDraw.ElapsedMilliseconds < 100 && p.Step != 1)) { return; }
        sinceDraw.Restart();
        console.Error.Write("\r" + Bar(p) + "\u001b[K");
    }

    /// <summary>Keras's bar for <paramref name="done"/> of <paramref name="total"/>: <c>=====&gt;....</c>, full when the total is 0.</summary>
    internal static string Meter(long done, long total)
    {
        int filled = total == 0 ? Width : (int)(Width * done / total);
        return filled >= Width ? new string('=', Width) : new string('=', filled) + ">" + new string('.', Width - filled - 1);
    }

    static string Bar(TrainingProgress p)
    {
        string bar = Meter(p.Step, p.Steps);
        double perStep = p.Step == 0 ? 0 : p.Elapsed.TotalMilliseconds / p.Step;
        string timing = p.Step >= p.Steps
            ? string.Create(CultureInfo.InvariantCulture, $"{p.Elapsed.TotalSeconds:F0}s {perStep:F0}ms/step")
            : string.Create(CultureInfo.InvariantCulture, $"ETA: {TimeSpan.FromMilliseconds(perStep * (p.Steps - p.Step)):m\\:ss}");
        string width = p.Steps.ToString(CultureInfo.InvariantCulture).Length.ToString(CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"{p.Step.ToString(CultureInfo.InvariantCulture).PadLeft(int.Parse(width, CultureInfo.InvariantCulture))}/{p.Steps} [{bar}] - {timing} - loss: {p.Loss:F4} - accuracy: {p.Accuracy:F4} - {p.ImagesPerSecond:F0} img/s");
    }
}
