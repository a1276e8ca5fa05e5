using MlPipeline.Formats;
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
        var results = classifier.ScoreFiles(images.Root, images.Items.Select(i => i.Path), probabilities: true, cancellationToken);
        return Report(classifier.ModelSource, classifier.Labels, images, results, topK, progress);
    }

    /// <summary>
    /// The same report from a predictions file instead of a model: the CSV <c>score --probabilities</c> (or <c>merge</c>)
    /// wrote, whose <c>p_&lt;label&gt;</c> columns give every class probability, and its <c>.errors.csv</c> when there
    /// is one. So a sharded run is evaluated without scoring again. A labelled image the file lacks counts as failed,
    /// with that reason.
    /// </summary>
    /// <exception cref="InvalidDataException">The file has no class probabilities, a row is malformed, or a label is not among its classes.</exception>
    public static EvaluationReport FromPredictions(string predictionsCsv, LabelledImages images, int topK = 3)
    {
        ArgumentNullException.ThrowIfNull(predictionsCsv);
        ArgumentNullException.ThrowIfNull(images);
        var (labels, rows) = PredictionsFile.ReadProbabilities(predictionsCsv);
        var byPath = new Dictionary<string, ScoreResult>(StringComparer.Ordinal);
        foreach (var (line, path, values) in rows)
        {
            if (byPath.ContainsKey(path))
            {
                throw new InvalidDataException($"Predictions file '{predictionsCsv}' line {line}: '{path}' is in the file twice; each image has one row in score's output.");
            }
            int best = ScoreMath.ArgMax(values);
            byPath[path] = new ScoreResult(path, new Prediction(path, labels[best], values[best], [new ClassProbability(labels[best], values[best])], values), null);
        }
        string errors = PredictionsFile.ErrorsPath(predictionsCsv);
        if (File.Exists(errors))
        {
            foreach (var (line, path, error) in PredictionsFile.ReadErrors(errors))
            {
                if (byPath.ContainsKey(path))
                {
                    throw new InvalidDataException($"Errors file '{errors}' line {line}: '{path}' is also in '{predictionsCsv}'; an image is either scored or failed.");
                }
                byPath[path] = new ScoreResult(path, null, error);
            }
        }
        var results = images.Items.Select(item =>
        {
            string path = FolderListing.RelativePath(images.Root, item.Path);
            return byPath.TryGetValue(path, out var result) ? result : new ScoreResult(path, null, $"not in the predictions file '{predictionsCsv}'");
        });
        return Report($"predictions {predictionsCsv}", labels, images, results, topK, null);
    }

    static EvaluationReport Report(string modelSource, IReadOnlyList<string> modelLabels, LabelledImages images, IEnumerable<ScoreResult> results, int topK, IProgress<int>? progress)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < modelLabels.Count; i++) { index[modelLabels[i]] = i; }
        var unknown = images.Items.Select(i => i.Label).Where(l => !index.ContainsKey(l)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"Label(s) {string.Join(", ", unknown.Take(20).Select(l => $"'{l}'"))}{(unknown.Count > 20 ? $" and {unknown.Count - 20} more" : "")} are not among the labels of model '{modelSource}' ({string.Join(", ", modelLabels.Take(20))}{(modelLabels.Count > 20 ? ", …" : "")}).");
        }

        var actual = new List<int>();
        var probabilities = new List<IReadOnlyList<float>>();
        var paths = new List<string>();
        var failed = new List<ScoreResult>();
        int done = 0;
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

        var metrics = ClassificationMetrics.Compute(modelLabels, actual, probabilities, topK);
        var wrong = new List<Misclassification>();
        for (int i = 0; i < actual.Count; i++)
        {
            var p = probabilities[i];
            int predicted = ScoreMath.ArgMax(p as float[] ?? [.. p]);
            if (predicted != actual[i])
            {
                wrong.Add(new Misclassification(paths[i], modelLabels[actual[i]], modelLabels[predicted], p[predicted], p[actual[i]], p));
            }
        }
        return new EvaluationReport(modelSource, images.Root, metrics,
            [.. wrong.OrderByDescending(m => m.Confidence).ThenBy(m => m.Path, StringComparer.Ordinal)], failed, images.Ignored);
    }
}
