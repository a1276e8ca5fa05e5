using System.Globalization;
using System.Text.Json;
using MlPipeline.Internals;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using SkiaSharp;

namespace MlPipeline.Evaluation;

/// <summary>
/// PNG plots of an evaluation (OxyPlot charts rendered through SkiaSharp): the confusion-matrix heat map, a gallery
/// of the worst mistakes, and training curves from a run's <c>history.json</c>. Each returns the PNG bytes, ready to
/// save or to show in a notebook.
/// </summary>
public static class EvaluationPlots
{
    /// <summary>
    /// The confusion matrix as a heat map: rows are actual classes, columns predicted; the colour is the share of the
    /// actual class (so small classes show as clearly as large ones) and each cell is labelled with its count.
    /// </summary>
    public static byte[] ConfusionMatrix(ClassificationMetrics metrics, int width = 800, int height = 720)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        RequireSize(width, height);
        int k = metrics.Labels.Count;
        var model = new PlotModel { Title = $"Confusion matrix ({metrics.Count} images, accuracy {metrics.MicroAccuracy.ToString("P2", CultureInfo.InvariantCulture)})", Background = OxyColors.White };
        var predicted = new CategoryAxis { Position = AxisPosition.Bottom, Title = "predicted", Key = "x", GapWidth = 0, IsZoomEnabled = false };
        var actual = new CategoryAxis { Position = AxisPosition.Left, Title = "actual", Key = "y", GapWidth = 0, StartPosition = 1, EndPosition = 0, IsZoomEnabled = false };
        predicted.Labels.AddRange(metrics.Labels);
        actual.Labels.AddRange(metrics.Labels);
        model.Axes.Add(predicted);
        model.Axes.Add(actual);
        model.Axes.Add(new LinearColorAxis { Position = AxisPosition.Right, Palette = OxyPalette.Interpolate(200, OxyColors.White, OxyColor.FromRgb(8, 69, 148)), Minimum = 0, Maximum = 1, Title = "share of actual class" });
        var share = new double[k, k];
        for (int a = 0; a < k; a++)
        {
            int support = metrics.ConfusionMatrix[a].Sum();
            for (int p = 0; p < k; p++) { share[p, a] = support == 0 ? 0 : (double)metrics.ConfusionMatrix[a][p] / support; }
        }
        model.Series.Add(new HeatMapSeries { X0 = 0, X1 = k - 1, Y0 = 0, Y1 = k - 1, XAxisKey = "x", YAxisKey = "y", Data = share, RenderMethod = HeatMapRenderMethod.Rectangles, Interpolate = false });
        if (k <= 30)
        {
            for (int a = 0; a < k; a++)
            {
                for (int p = 0; p < k; p++)
                {
                    int count = metrics.ConfusionMatrix[a][p];
                    if (count == 0) { continue; }
                    model.Annotations.Add(new TextAnnotation
                    {
                        Text = count.ToString(CultureInfo.InvariantCulture),
                        TextPosition = new DataPoint(p, a),
                        TextHorizontalAlignment = HorizontalAlignment.Center,
                        TextVerticalAlignment = VerticalAlignment.Middle,
                        Stroke = OxyColors.Transparent,
                        TextColor = share[p, a] > 0.5 ? OxyColors.White : OxyColors.Black,
                        FontSize = Math.Clamp(240.0 / k, 7, 14),
                        XAxisKey = "x",
                        YAxisKey = "y",
                    });
                }
            }
        }
        return Render(model, width, height);
    }

    /// <summary>
    /// A gallery of the most confident mistakes (up to <paramref name="count"/>), each image captioned with its true
    /// and predicted label and the confidence. Images that cannot be read any more are drawn as an empty frame.
    /// </summary>
    public static byte[] Mistakes(EvaluationReport report, int count = 24, int columns = 6, int cellSize = 120)
    {
        ArgumentNullException.ThrowIfNull(report);
        CheckGrid(count, columns, cellSize);
        var shown = report.Misclassified.Take(count).ToList();
        const int title = 36, caption = 34, pad = 8;
        var (surface, cellWidth, cellHeight) = Grid(shown.Count, columns, cellSize, title, caption, pad);
        using var owned = surface;
        var canvas = surface.Canvas;
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true, TextSize = 16 };
        using var small = new SKPaint { Color = SKColors.DimGray, IsAntialias = true, TextSize = 11 };
        using var frame = new SKPaint { Color = SKColors.LightGray, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawText(shown.Count == 0 ? "No mistakes" : $"Most confident mistakes ({shown.Count} of {report.Misclassified.Count})", pad, 24, text);
        text.TextSize = 13;
        for (int i = 0; i < shown.Count; i++)
        {
            var m = shown[i];
            float x = i % columns * cellWidth + pad, y = title + i / columns * cellHeight;
            var box = SKRect.Create(x, y, cellSize, cellSize);
            using (var bitmap = Decode(Path.Combine(report.Root, m.Path)))
            {
                if (bitmap is not null)
                {
                    using var image = SKImage.FromBitmap(bitmap);
                    // Small images (digits) are enlarged with nearest-neighbour sampling so that their pixels stay visible.
                    var sampling = bitmap.Width < cellSize ? SKFilterQuality.None : SKFilterQuality.Medium;
                    using var paint = new SKPaint { FilterQuality = sampling };
                    canvas.DrawImage(image, Fit(bitmap.Width, bitmap.Height, box), paint);
                }
            }
            canvas.DrawRect(box, frame);
            // Long class names ("Animals & Nature → People & Body") would run into the next cell: the caption is set
            // smaller to fit, down to 8 px, and cut at the end beyond that.
            string label = $"{m.Actual} → {m.Predicted} ({m.Confidence.ToString("P0", CultureInfo.InvariantCulture)})";
            text.TextSize = Math.Max(8, Math.Min(13, 13 * cellSize / Math.Max(1, text.MeasureText(label) * 13 / text.TextSize)));
            canvas.DrawText(ShortenEnd(label, cellSize, text), x, y + cellSize + 15, text);
            canvas.DrawText(Shorten(m.Path, cellSize, small), x, y + cellSize + 29, small);
        }
        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>
    /// A grid of the images of <paramref name="images"/> (up to <paramref name="count"/>), each captioned with its class;
    /// small images are enlarged with nearest-neighbour sampling so that their pixels stay visible.
    /// </summary>
    public static byte[] Images(Data.ImageSet images, string title, int count = 32, int columns = 8, int cellSize = 96)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(title);
        CheckGrid(count, columns, cellSize);
        int shown = Math.Min(count, images.Count);
        const int heading = 36, caption = 20, pad = 8;
        var (surface, cellWidth, cellHeight) = Grid(shown, columns, cellSize, heading, caption, pad);
        using var owned = surface;
        var canvas = surface.Canvas;
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true, TextSize = 16 };
        using var frame = new SKPaint { Color = SKColors.LightGray, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawText(title, pad, 24, text);
        text.TextSize = 12;
        int plane = images.Height * images.Width;
        for (int i = 0; i < shown; i++)
        {
            float x = i % columns * cellWidth + pad, y = heading + i / columns * cellHeight;
            var box = SKRect.Create(x, y, cellSize, cellSize);
            var pixels = images.Image(i);
            using var bitmap = new SKBitmap(new SKImageInfo(images.Width, images.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
            for (int p = 0; p < plane; p++)
            {
                byte r = pixels[p], g = images.Channels == 3 ? pixels[plane + p] : r, b = images.Channels == 3 ? pixels[(2 * plane) + p] : r;
                bitmap.SetPixel(p % images.Width, p / images.Width, new SKColor(r, g, b));
            }
            using var image = SKImage.FromBitmap(bitmap);
            using var paint = new SKPaint { FilterQuality = images.Width < cellSize ? SKFilterQuality.None : SKFilterQuality.Medium };
            canvas.DrawImage(image, Fit(images.Width, images.Height, box), paint);
            canvas.DrawRect(box, frame);
            canvas.DrawText(ShortenEnd(images.ClassNames[images.Labels.Span[i]], cellSize, text), x, y + cellSize + 15, text);
        }
        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>Loss and accuracy per epoch, train and test, from a training run's <c>history.json</c> (a run folder is accepted too).</summary>
    /// <exception cref="FileNotFoundException">The history file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a training history; the message says what is wrong.</exception>
    public static byte[] TrainingCurves(string historyPath, int width = 900, int height = 500)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(historyPath);
        RequireSize(width, height);
        var epochs = TrainingHistory.Read(historyPath);
        var model = new PlotModel { Title = "Training curves", Background = OxyColors.White };
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.RightMiddle, LegendPlacement = LegendPlacement.Inside });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "epoch", MinimumMajorStep = 1, MinimumMinorStep = 1 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "loss", Key = "loss", Minimum = 0 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Right, Title = "accuracy", Key = "accuracy", StringFormat = "P1" });
        void Line(string title, string axis, OxyColor color, LineStyle style, Func<EpochMetrics, double> value)
        {
            bool train = style == LineStyle.Dash;
            var series = new LineSeries { Title = title, YAxisKey = axis, Color = color, LineStyle = style, MarkerType = train ? MarkerType.Square : MarkerType.Circle, MarkerSize = 3, MarkerFill = train ? OxyColors.White : color, MarkerStroke = color };
            series.Points.AddRange(epochs.Select(e => new DataPoint(e.Epoch, value(e))));
            model.Series.Add(series);
        }
        Line("train loss", "loss", OxyColors.SteelBlue, LineStyle.Dash, e => e.TrainLoss);
        Line("test loss", "loss", OxyColors.SteelBlue, LineStyle.Solid, e => e.TestLoss);
        Line("train accuracy", "accuracy", OxyColors.DarkOrange, LineStyle.Dash, e => e.TrainAccuracy);
        Line("test accuracy", "accuracy", OxyColors.DarkOrange, LineStyle.Solid, e => e.TestAccuracy);
        // A schedule's learning rate, on its own axis, once it changes.
        if (epochs.Select(e => e.LearningRate).Where(r => r > 0).Distinct().Count() > 1)
        {
            model.Axes.Add(new LinearAxis { Position = AxisPosition.Right, PositionTier = 1, Title = "learning rate", Key = "lr", Minimum = 0, StringFormat = "G2" });
            Line("learning rate", "lr", OxyColors.Gray, LineStyle.Dot, e => e.LearningRate);
        }
        // Early stopping's kept epoch.
        if (epochs.FirstOrDefault(e => e.Best) is { } best)
        {
            model.Annotations.Add(new LineAnnotation
            {
                Type = LineAnnotationType.Vertical,
                X = best.Epoch,
                Color = OxyColors.SeaGreen,
                LineStyle = LineStyle.Dash,
                Text = $"best epoch {best.Epoch} (kept)",
                TextColor = OxyColors.SeaGreen,
            });
        }
        return Render(model, width, height);
    }

    static void CheckGrid(int count, int columns, int cellSize)
    {
        if (count < 1) { throw new ArgumentOutOfRangeException(nameof(count), count, "Count must be at least 1."); }
        if (columns < 1) { throw new ArgumentOutOfRangeException(nameof(columns), columns, "Columns must be at least 1."); }
        if (cellSize < 32) { throw new ArgumentOutOfRangeException(nameof(cellSize), cellSize, "Cell size must be at least 32 pixels."); }
    }

    /// <summary>A white surface for a headed grid of <paramref name="shown"/> cells, <paramref name="columns"/> per row, and the size of one cell.</summary>
    static (SKSurface Surface, int CellWidth, int CellHeight) Grid(int shown, int columns, int cellSize, int heading, int caption, int pad)
    {
        int rows = Math.Max(1, (shown + columns - 1) / columns);
        int cellWidth = cellSize + (2 * pad), cellHeight = cellSize + caption + pad;
        var surface = SKSurface.Create(new SKImageInfo(columns * cellWidth, heading + (rows * cellHeight), SKColorType.Rgba8888, SKAlphaType.Premul));
        surface.Canvas.Clear(SKColors.White);
        return (surface, cellWidth, cellHeight);
    }

    /// <summary>The file decoded strictly and upright by its EXIF orientation, as viewers show it; null when it cannot be read any more.</summary>
    static SKBitmap? Decode(string path)
    {
        try
        {
            return Internals.ImageDecoder.DecodeBitmap(Internals.ImageDecoder.ReadFile(path), Scoring.ImageClassifierOptions.DefaultMaxImagePixels);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return null;
        }
    }

    static SKRect Fit(int width, int height, SKRect box)
    {
        float scale = Math.Min(box.Width / width, box.Height / height);
        float w = width * scale, h = height * scale;
        return SKRect.Create(box.MidX - w / 2, box.MidY - h / 2, w, h);
    }

    static string ShortenEnd(string text, float width, SKPaint paint)
    {
        if (paint.MeasureText(text) <= width) { return text; }
        while (text.Length > 1 && paint.MeasureText(text + "…") > width) { text = text[..^1]; }
        return text + "…";
    }

    static string Shorten(string text, float width, SKPaint paint)
    {
        if (paint.MeasureText(text) <= width) { return text; }
        while (text.Length > 1 && paint.MeasureText("…" + text) > width) { text = text[1..]; }
        return "…" + text;
    }

    static void RequireSize(int width, int height)
    {
        if (width < 100 || height < 100 || width > 10_000 || height > 10_000)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Plot size {width}x{height} is invalid; expected 100 to 10000 pixels each way.");
        }
    }

    static byte[] Render(PlotModel model, int width, int height)
    {
        using var stream = new MemoryStream();
        new OxyPlot.SkiaSharp.PngExporter { Width = width, Height = height }.Export(model, stream);
        return stream.ToArray();
    }
}
