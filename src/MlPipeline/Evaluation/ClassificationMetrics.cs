using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlPipeline.Scoring;

namespace MlPipeline.Evaluation;

/// <summary>
/// Multiclass metrics computed by ML.NET's <c>MulticlassClassification.Evaluate</c> (accuracies, log loss, log-loss
/// reduction, top-k accuracy, confusion matrix), plus per-class precision, recall, F1 and support and the most
/// confused pairs. <see cref="ConfusionMatrix"/> rows are actual classes, columns predicted, in <see cref="Labels"/> order.
/// </summary>
public sealed record ClassificationMetrics(
    IReadOnlyList<string> Labels,
    int Count,
    double MicroAccuracy,
    double MacroAccuracy,
    double LogLoss,
    double LogLossReduction,
    int TopK,
    double TopKAccuracy,
    IReadOnlyList<ClassMetrics> PerClass,
    IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix,
    IReadOnlyList<ConfusedPair> MostConfused)
{
    /// <summary>The most classes whose confusion matrix <see cref="ToTable"/> draws: 20 (a matrix of 1,000 classes is 6 MB of text; <see cref="ConfusionMatrix"/>, <see cref="ToJson"/> and <see cref="ConfusionCsv"/> keep it whole).</summary>
    public const int MaxMatrixClassesShown = 20;

    static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>
    /// Computes the metrics for <paramref name="actual"/> class indices and the model's <paramref name="probabilities"/>
    /// (one row of <c>labels.Count</c> values per image). The predicted class is the most probable one (lowest index on ties).
    /// </summary>
    /// <exception cref="ArgumentException">The inputs are empty, of different lengths, or a row or index does not fit the labels.</exception>
    public static ClassificationMetrics Compute(IReadOnlyList<string> labels, IReadOnlyList<int> actual, IReadOnlyList<IReadOnlyList<float>> probabilities, int topK = 3)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(probabilities);
        int k = labels.Count;
        if (k < 2) { throw new ArgumentException($"Evaluation needs at least 2 classes; got {k}.", nameof(labels)); }
        if (actual.Count == 0) { throw new ArgumentException("Evaluation needs at least one image; got none.", nameof(actual)); }
        if (actual.Count != probabilities.Count)
        {
            throw new ArgumentException($"Got {actual.Count} actual labels but {probabilities.Count} probability rows; expected one row per label.", nameof(probabilities));
        }
        if (topK < 1) { throw new ArgumentOutOfRangeException(nameof(topK), topK, "TopK must be at least 1."); }
        topK = Math.Min(topK, k);
        var rows = new List<Row>(actual.Count);
        for (int i = 0; i < actual.Count; i++)
        {
            if (actual[i] < 0 || actual[i] >= k) { throw new ArgumentException($"Actual class index {actual[i]} at row {i} is outside 0..{k - 1}.", nameof(actual)); }
            var p = probabilities[i];
            if (p.Count != k) { throw new ArgumentException($"Probability row {i} has {p.Count} values; expected {k} (one per label).", nameof(probabilities)); }
            float[] score = [.. p];
            rows.Add(new Row { Label = (uint)actual[i], Score = score, PredictedLabel = (uint)ScoreMath.ArgMax(score) });
        }

        var ml = new MLContext(seed: 0);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), k);
        schema[nameof(Row.PredictedLabel)].ColumnType = new KeyDataViewType(typeof(uint), k);
        schema[nameof(Row.Score)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, k);
        var data = ml.Data.LoadFromEnumerable(rows, schema);
        var m = ml.MulticlassClassification.Evaluate(data, nameof(Row.Label), nameof(Row.Score), nameof(Row.PredictedLabel), topK);

        int[][] confusion = [.. m.ConfusionMatrix.Counts.Select(r => r.Select(c => (int)Math.Round(c)).ToArray())];
        var perClass = new List<ClassMetrics>(k);
        for (int c = 0; c < k; c++)
        {
            int support = confusion[c].Sum();
            int predicted = confusion.Sum(r => r[c]);
            int hit = confusion[c][c];
            double precision = predicted == 0 ? 0 : (double)hit / predicted;
            double recall = support == 0 ? 0 : (double)hit / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassMetrics(labels[c], precision, recall, f1, support, support == 0 ? 0 : m.PerClassLogLoss[c]));
        }
        var confused = new List<ConfusedPair>();
        for (int a = 0; a < k; a++)
        {
            for (int p = 0; p < k; p++)
            {
                if (a != p && confusion[a][p] > 0) { confused.Add(new ConfusedPair(labels[a], labels[p], confusion[a][p])); }
            }
        }
        return new ClassificationMetrics([.. labels], actual.Count, m.MicroAccuracy, m.MacroAccuracy, m.LogLoss, m.LogLossReduction, topK, m.TopKAccuracy,
            perClass, confusion, [.. confused.OrderByDescending(c => c.Count).ThenBy(c => c.Actual, StringComparer.Ordinal).ThenBy(c => c.Predicted, StringComparer.Ordinal).Take(10)]);
    }

    /// <summary>The metrics as JSON with the keys <c>microAccuracy</c>, <c>macroAccuracy</c>, <c>logLoss</c>,
    /// <c>logLossReduction</c>, <c>topKAccuracy</c>, <c>perClass</c>, <c>confusionMatrix</c> and the rest in camelCase.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The confusion matrix as CSV: a header <c>actual\predicted,label…</c>, then one row per actual class.</summary>
    public string ConfusionCsv()
    {
        List<IReadOnlyList<string>> rows = [[.. Labels.Prepend("actual\\predicted")]];
        for (int a = 0; a < Labels.Count; a++)
        {
            rows.Add([.. ConfusionMatrix[a].Select(c => c.ToString(CultureInfo.InvariantCulture)).Prepend(Labels[a])]);
        }
        return Internals.Csv.Format(rows);
    }

    /// <summary>
    /// A plain-text report: overall figures, a per-class table, the confusion matrix and the most confused pairs; with
    /// more than <see cref="MaxMatrixClassesShown"/> classes, the most confused pairs instead of the matrix.
    /// </summary>
    public string ToTable()
    {
        var t = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        t.AppendLine(inv, $"{Count} images, {Labels.Count} classes");
        t.AppendLine(inv, $"  micro accuracy       {MicroAccuracy,9:P2}");
        t.AppendLine(inv, $"  macro accuracy       {MacroAccuracy,9:P2}");
        t.AppendLine(inv, $"  top-{TopK} accuracy       {TopKAccuracy,9:P2}");
        t.AppendLine(inv, $"  log loss             {LogLoss,9:F4}");
        t.AppendLine(inv, $"  log-loss reduction   {LogLossReduction,9:F4}");
        t.AppendLine();
        int width = Math.Max(5, Labels.Max(l => l.Length));
        t.AppendLine(inv, $"  {"class".PadRight(width)}  precision  recall      F1  support");
        foreach (var c in PerClass)
        {
            t.AppendLine(inv, $"  {c.Label.PadRight(width)}  {c.Precision,9:P2}  {c.Recall,6:P1}  {c.F1,6:F4}  {c.Support,7}");
        }
        t.AppendLine();
        if (Labels.Count > MaxMatrixClassesShown)
        {
            t.AppendLine(inv, $"  confusion matrix: {Labels.Count} classes, more than the {MaxMatrixClassesShown} a table shows (the report files hold it whole); most confused pairs (actual as predicted):");
            foreach (var p in MostConfused) { t.AppendLine(inv, $"    {p.Actual} as {p.Predicted} ({p.Count})"); }
            return t.ToString();
        }
        int cell = Math.Max(width, ConfusionMatrix.SelectMany(r => r).Max().ToString(inv).Length);
        t.AppendLine("  confusion matrix (rows actual, columns predicted)");
        t.Append("  ").Append(new string(' ', width)).AppendLine(string.Concat(Labels.Select(l => " " + l.PadLeft(cell))));
        for (int a = 0; a < Labels.Count; a++)
        {
            t.Append("  ").Append(Labels[a].PadRight(width)).AppendLine(string.Concat(ConfusionMatrix[a].Select(c => " " + c.ToString(inv).PadLeft(cell))));
        }
        if (MostConfused.Count > 0)
        {
            t.AppendLine();
            t.AppendLine("  most confused: " + string.Join(", ", MostConfused.Take(5).Select(p => $"{p.Actual} as {p.Predicted} ({p.Count.ToString(inv)})")));
        }
        return t.ToString();
    }

    /// <summary>One evaluated image. LoadFromEnumerable stores a key-typed property as value + 1 (0 means missing), so
    /// the 0-based class indices go in as they are.</summary>
    sealed class Row
    {
        public uint Label { get; set; }

        public float[] Score { get; set; } = [];

        public uint PredictedLabel { get; set; }
    }
}
