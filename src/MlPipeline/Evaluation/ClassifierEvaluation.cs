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
        Internals.FileSystem.RequireFile(predictionsCsv, "Predictions file");
        if (predictionsCsv.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"Predictions file '{predictionsCsv}' is JSON Lines; evaluation reads score's CSV output, whose p_<label> columns name the classes: score to a .csv file with --probabilities.");
        }
        var records = Internals.Csv.Read(predictionsCsv).ToList();
        var header = records.Count > 0 ? records[0].Fields : [];
        var columns = header.Select((name, i) => (name, i)).Where(c => c.name.StartsWith("p_", StringComparison.Ordinal)).ToList();
        if (header.Count == 0 || header[0] != "path" || columns.Count == 0)
        {
            throw new InvalidDataException($"Predictions file '{predictionsCsv}' has no class probabilities (p_<label> columns); score with --probabilities.");
        }
        var labels = columns.Select(c => c.name[2..]).ToList();
        var byPath = new Dictionary<string, ScoreResult>(StringComparer.Ordinal);
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.Count != header.Count)
            {
                throw new InvalidDataException($"Predictions file '{predictionsCsv}' line {line} has {fields.Count} field(s), but its header has {header.Count}: the row is cut short or the file was changed.");
            }
            var values = new float[columns.Count];
            for (int k = 0; k < columns.Count; k++)
            {
                if (columns[k].i >= fields.Count || !float.TryParse(fields[columns[k].i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[k]) || !float.IsFinite(values[k]))
                {
                    throw new InvalidDataException($"Predictions file '{predictionsCsv}' line {line}: column {columns[k].name} is not a probability.");
                }
            }
            RequireDistribution(predictionsCsv, line, values);
            if (byPath.ContainsKey(fields[0]))
            {
                throw new InvalidDataException($"Predictions file '{predictionsCsv}' line {line}: '{fields[0]}' is in the file twice; each image has one row in score's output.");
            }
            int best = ScoreMath.ArgMax(values);
            byPath[fields[0]] = new ScoreResult(fields[0], new Prediction(fields[0], labels[best], values[best], [new ClassProbability(labels[best], values[best])], values), null);
        }
        string errors = predictionsCsv + ".errors.csv";
        if (File.Exists(errors))
        {
            var failed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (line, fields) in Internals.Csv.Read(errors).Skip(1))
            {
                if (fields.Count != 2) { throw new InvalidDataException($"Errors file '{errors}' line {line} has {fields.Count} field(s); expected 2: path,error."); }
                if (byPath.ContainsKey(fields[0]) && !failed.Contains(fields[0]))
                {
                    throw new InvalidDataException($"Errors file '{errors}' line {line}: '{fields[0]}' is also in '{predictionsCsv}'; an image is either scored or failed.");
                }
                if (!failed.Add(fields[0])) { throw new InvalidDataException($"Errors file '{errors}' line {line}: '{fields[0]}' is in the file twice."); }
                byPath[fields[0]] = new ScoreResult(fields[0], null, fields[1]);
            }
        }
        var results = images.Items.Select(item =>
        {
            string path = FolderListing.RelativePath(images.Root, item.Path);
            return byPath.TryGetValue(path, out var result) ? result : new ScoreResult(path, null, $"not in the predictions file '{predictionsCsv}'");
        });
        return Report($"predictions {predictionsCsv}", labels, images, results, topK, null);
    }

    /// <summary>
    /// Throws unless <paramref name="values"/> are probabilities of one distribution: each from 0 to 1 and summing to 1
    /// within 1e-5 plus 5e-7 per class (the rounding of score's six decimals).
    /// </summary>
    static void RequireDistribution(string file, int line, float[] values)
    {
        double sum = 0;
        for (int k = 0; k < values.Length; k++)
        {
            if (values[k] is < 0 or > 1)
            {
                throw new InvalidDataException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Predictions file '{file}' line {line}: probability {values[k]} of class {k + 1} is outside 0 to 1."));
            }
            sum += values[k];
        }
        // Each value is written with six decimals (off by at most 5e-7) from float32 probabilities whose sum is 1 within float rounding.
        double tolerance = 1e-5 + (values.Length * 5e-7);
        if (Math.Abs(sum - 1) > tolerance)
        {
            throw new InvalidDataException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Predictions file '{file}' line {line}: the class probabilities sum to {sum:0.######}; expected 1 (within {tolerance:0.######}), as score writes them."));
        }
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
