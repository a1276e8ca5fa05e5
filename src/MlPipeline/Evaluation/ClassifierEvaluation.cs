using MlPipeline.Scoring;

namespace MlPipeline.Evaluation;

/// <summary>Evaluates an <see cref="ImageClassifier"/> on labelled images through ML.NET's multiclass evaluator.</summary>
public static class ClassifierEvaluation
{
    /// <summary>
    /// Scores every labelled image (bad files are reported in <see cref="EvaluationReport.Failed"/> and left out of the
    /// metrics) and computes the metrics. Labels are matched to the model's labels by name.
    /// </summary>
    /// <param name="classifier">The model to evaluate.</param>
    /// <param name="images">The images and their true labels.</param>
    /// <param name="topK">K of the top-k accuracy.</param>
    /// <param name="progress">Receives the number of images done after each batch.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <exception cref="InvalidDataException">A label is not one of the model's (all such labels are listed), or no image could be scored.</exception>
    public static EvaluationReport Evaluate(this ImageClassifier classifier, LabelledImages images, int topK = 3, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(images);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < classifier.Labels.Count; i++) { index[classifier.Labels[i]] = i; }
        var unknown = images.Items.Select(i => i.Label).Where(l => !index.ContainsKey(l)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"Label(s) {string.Join(", ", unknown.Take(20).Select(l => $"'{l}'"))}{(unknown.Count > 20 ? $" and {unknown.Count - 20} more" : "")} are not among the labels of model '{classifier.ModelSource}' ({string.Join(", ", classifier.Labels.Take(20))}{(classifier.Labels.Count > 20 ? ", …" : "")}).");
        }

        var actual = new List<int>();
        var probabilities = new List<IReadOnlyList<float>>();
        var paths = new List<string>();
        var failed = new List<ScoreResult>();
        int done = 0;
        var results = classifier.ScoreFiles(images.Root, images.Items.Select(i => i.Path), probabilities: true, cancellationToken);
        foreach (var (item, result) in images.Items.Zip(results))
        {
            if (result.Prediction is { Probabilities: { } p })
            {
                actual.Add(index[item.Label]);
                probabilities.Add(p);
                paths.Add(result.Path);
            }
            else
            {
                failed.Add(result);
            }
            if (++done % 1000 == 0 || done == images.Items.Count) { progress?.Report(done); }
        }
        if (actual.Count == 0)
        {
            throw new InvalidDataException($"None of the {images.Items.Count} images could be scored; the first failed with: {failed[0].Path}: {failed[0].Error}.");
        }

        var metrics = ClassificationMetrics.Compute(classifier.Labels, actual, probabilities, topK);
        var wrong = new List<Misclassification>();
        for (int i = 0; i < actual.Count; i++)
        {
            var p = probabilities[i];
            int predicted = ClassificationMetrics.ArgMax(p);
            if (predicted != actual[i])
            {
                wrong.Add(new Misclassification(paths[i], classifier.Labels[actual[i]], classifier.Labels[predicted], p[predicted], p[actual[i]], p));
            }
        }
        return new EvaluationReport(classifier.ModelSource, images.Root, metrics,
            [.. wrong.OrderByDescending(m => m.Confidence).ThenBy(m => m.Path, StringComparer.Ordinal)], failed, images.Ignored);
    }
}
