using System.Text.Json;
using MlPipeline.Evaluation;

namespace MlPipeline.Tests.Evaluation;

/// <summary>ML.NET's evaluator and the figures added to it, against a case worked out by hand.</summary>
public sealed class ClassificationMetricsTests
{
    // Four images, three classes. Predictions: A (right), A for a B (wrong), C (right), B (right).
    static readonly string[] Labels = ["A", "B", "C"];
    static readonly int[] Actual = [0, 1, 2, 1];
    static readonly float[][] Probabilities = [[0.7f, 0.2f, 0.1f], [0.5f, 0.4f, 0.1f], [0.1f, 0.2f, 0.7f], [0.2f, 0.6f, 0.2f]];

    [Test]
    public void Compute_HandWorkedCase_GivesTheHandValues()
    {
        var m = ClassificationMetrics.Compute(Labels, Actual, Probabilities, topK: 2);

        Assert.That(m.Count, Is.EqualTo(4));
        Assert.That(m.MicroAccuracy, Is.EqualTo(3.0 / 4).Within(1e-9));
        Assert.That(m.MacroAccuracy, Is.EqualTo((1 + 0.5 + 1) / 3).Within(1e-9));
        double logLoss = -(Math.Log(0.7) + Math.Log(0.4) + Math.Log(0.7) + Math.Log(0.6)) / 4;
        Assert.That(m.LogLoss, Is.EqualTo(logLoss).Within(1e-6));
        double prior = -(0.25 * Math.Log(0.25) + 0.5 * Math.Log(0.5) + 0.25 * Math.Log(0.25));
        Assert.That(m.LogLossReduction, Is.EqualTo((prior - logLoss) / prior).Within(1e-6));
        Assert.That(m.TopK, Is.EqualTo(2));
        Assert.That(m.TopKAccuracy, Is.EqualTo(1.0).Within(1e-9));
        Assert.That(m.ConfusionMatrix, Is.EqualTo(new[] { new[] { 1, 0, 0 }, new[] { 1, 1, 0 }, new[] { 0, 0, 1 } }));
        Assert.That(m.PerClass.Select(c => c.Label), Is.EqualTo(Labels));
        Assert.That(m.PerClass.Select(c => c.Precision), Is.EqualTo(new[] { 0.5, 1, 1 }).Within(1e-9));
        Assert.That(m.PerClass.Select(c => c.Recall), Is.EqualTo(new[] { 1, 0.5, 1 }).Within(1e-9));
        Assert.That(m.PerClass.Select(c => c.F1), Is.EqualTo(new[] { 2.0 / 3, 2.0 / 3, 1 }).Within(1e-9));
        Assert.That(m.PerClass.Select(c => c.Support), Is.EqualTo(new[] { 1, 2, 1 }));
        Assert.That(m.PerClass[1].LogLoss, Is.EqualTo(-(Math.Log(0.4) + Math.Log(0.6)) / 2).Within(1e-6));
        Assert.That(m.MostConfused, Is.EqualTo(new[] { new ConfusedPair("B", "A", 1) }));
    }

    [Test]
    public void Compute_TopOne_EqualsMicroAccuracy()
    {
        var m = ClassificationMetrics.Compute(Labels, Actual, Probabilities, topK: 1);

        Assert.That(m.TopKAccuracy, Is.EqualTo(0.75).Within(1e-9));
    }

    [Test]
    public void ToJson_HasTheDocumentedKeys()
    {
        var m = ClassificationMetrics.Compute(Labels, Actual, Probabilities);

        using var json = JsonDocument.Parse(m.ToJson());

        foreach (string key in new[] { "microAccuracy", "macroAccuracy", "logLoss", "logLossReduction", "topKAccuracy", "perClass", "confusionMatrix" })
        {
            Assert.That(json.RootElement.TryGetProperty(key, out _), Is.True, key);
        }
        Assert.That(json.RootElement.GetProperty("microAccuracy").GetDouble(), Is.EqualTo(0.75).Within(1e-9));
        Assert.That(json.RootElement.GetProperty("confusionMatrix")[1][0].GetInt32(), Is.EqualTo(1));
        Assert.That(json.RootElement.GetProperty("perClass")[0].GetProperty("precision").GetDouble(), Is.EqualTo(0.5).Within(1e-9));
    }

    [Test]
    public void ToTable_ShowsOverallPerClassAndConfusion()
    {
        string table = ClassificationMetrics.Compute(Labels, Actual, Probabilities).ToTable();

        Assert.That(table, Does.Contain("micro accuracy").And.Contain("75.00 %"));
        Assert.That(table, Does.Contain("confusion matrix"));
        Assert.That(table, Does.Contain("B as A (1)"));
    }

    [TestCase(20, true)]
    [TestCase(21, false)]
    [TestCase(1000, false)]
    public void ToTable_ManyClasses_DrawsTheMatrixOnlyUpToTwentyAndNamesTheMostConfusedPairs(int classes, bool drawn)
    {
        string[] labels = [.. Enumerable.Range(0, classes).Select(c => $"c{c}")];
        // Each class once, predicted as the next one, except class 0 twice as class 1: the most confused pair.
        int[] actual = [0, .. Enumerable.Range(0, classes)];
        IReadOnlyList<float>[] probabilities = [.. actual.Select(a => OneHot(classes, (a + 1) % classes))];

        var metrics = ClassificationMetrics.Compute(labels, actual, probabilities);
        string table = metrics.ToTable();

        Assert.That(table, drawn ? Does.Contain("confusion matrix (rows actual, columns predicted)") : Does.Not.Contain("rows actual, columns predicted"));
        Assert.That(table, drawn ? Does.Not.Contain("a table shows") : Does.Contain($"confusion matrix: {classes} classes, more than the 20 a table shows"));
        Assert.That(table, Does.Contain("c0 as c1 (2)"));
        // The per-class table keeps every class; the matrix, when left out, costs no line per class.
        Assert.That(table.Split('\n').Length, Is.LessThan(classes + 50 + (drawn ? classes : 0)));
        Assert.That(metrics.ConfusionCsv().TrimEnd().Split('\n'), Has.Length.EqualTo(classes + 1), "the CSV keeps the whole matrix");
    }

    static float[] OneHot(int length, int index)
    {
        var values = new float[length];
        values[index] = 1;
        return values;
    }

    [Test]
    public void ConfusionCsv_HasHeaderAndOneRowPerClass()
    {
        string[] lines = ClassificationMetrics.Compute(Labels, Actual, Probabilities).ConfusionCsv().TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

        Assert.That(lines, Is.EqualTo(new[] { "actual\\predicted,A,B,C", "A,1,0,0", "B,1,1,0", "C,0,0,1" }));
    }

    [Test]
    public void Compute_RowOfWrongWidth_ThrowsNamingTheRow()
    {
        var ex = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute(Labels, [0, 1], [[0.5f, 0.5f, 0f], [1f, 0f]]));

        Assert.That(ex!.Message, Does.Contain("row 1").And.Contain("expected 3"));
    }

    [Test]
    public void Compute_ActualOutsideTheLabels_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute(Labels, [3], [[0.5f, 0.5f, 0f]]));

        Assert.That(ex!.Message, Does.Contain("index 3").And.Contain("0..2"));
    }
}
