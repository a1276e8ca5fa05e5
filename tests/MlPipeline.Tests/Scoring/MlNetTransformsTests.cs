using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;
using MlPipeline.Evaluation;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Tests.Scoring;

/// <summary>
/// MlPipeline's transforms inside ML.NET pipelines written the way an ML.NET user writes them: a CSV read by
/// <c>LoadFromTextFile</c>, ML.NET's own transforms and evaluator, <c>PredictionEngine</c>, <c>Model.Save</c>/<c>Load</c>.
/// </summary>
public sealed class MlNetTransformsTests
{
    string dir = "";
    string folder = "";
    string model = "";

    [SetUp]
    public void SetUp()
    {
        dir = TempDirectory.Create();
        folder = Digits.WritePngFolder(Path.Combine(dir, "digits"), 120);
        model = Path.Combine(dir, "mnist.onnx");
        File.Copy(Repository.File("onnx/mnist-cnn.onnx"), model);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>Writes path,label rows for the digit PNGs (paths relative to the folder) and returns the CSV's path.</summary>
    string WriteCsv(params string[] extraRows)
    {
        var files = ImageClassifier.ListFolder(folder, recursive: true).Images;
        var lines = files.Select(f => $"{Path.GetRelativePath(folder, f)},{Path.GetFileName(Path.GetDirectoryName(f))}").Concat(extraRows);
        string csv = Path.Combine(dir, "labels.csv");
        File.WriteAllLines(csv, lines.Prepend("path,label"));
        return csv;
    }

    sealed class CsvRow
    {
        [LoadColumn(0)]
        public string Path { get; set; } = "";

        [LoadColumn(1)]
        public string Label { get; set; } = "";
    }

    [Test]
    public void TextFile_MapValueToKey_Score_Evaluate_MatchesTheEvaluateFigures()
    {
        string csv = WriteCsv();
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromTextFile<CsvRow>(csv, separatorChar: ',', hasHeader: true);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("LabelKey", nameof(CsvRow.Label), keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.Transforms.ScoreImageClassifier(model, nameof(CsvRow.Path), imageFolder: folder));
        using var fitted = pipeline.Fit(data);
        var scored = fitted.Transform(data);
        var metrics = ml.MulticlassClassification.Evaluate(scored, "LabelKey", "Score", "PredictedLabel");

        using var classifier = ImageClassifier.Load(model);
        var report = classifier.Evaluate(LabelledImages.FromCsv(csv, folder));
        Assert.That(report.Metrics.Count, Is.EqualTo(120));
        Assert.That(metrics.MicroAccuracy, Is.EqualTo(report.Metrics.MicroAccuracy).Within(1e-12));
        Assert.That(metrics.MacroAccuracy, Is.EqualTo(report.Metrics.MacroAccuracy).Within(1e-12));
        Assert.That(metrics.LogLoss, Is.EqualTo(report.Metrics.LogLoss).Within(1e-9));
        var counts = metrics.ConfusionMatrix.Counts.Select(r => r.Select(c => (int)c).ToArray()).ToArray();
        Assert.That(counts, Is.EqualTo(report.Metrics.ConfusionMatrix));
        // The predicted label is a key whose values are the model's labels.
        var predicted = scored.Schema["PredictedLabel"];
        Assert.That(predicted.Type, Is.EqualTo(new KeyDataViewType(typeof(uint), 10)));
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        predicted.GetKeyValues(ref keyValues);
        Assert.That(keyValues.DenseValues().Select(v => v.ToString()), Is.EqualTo(classifier.Labels));
    }

    [Test]
    public void ScoreColumn_EqualsMlNetsStockChain_AndTheRowsKeepTheirOrderAndColumns()
    {
        string csv = WriteCsv();
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromTextFile<CsvRow>(csv, separatorChar: ',', hasHeader: true);
        using var classifier = ImageClassifier.Load(model, new ImageClassifierOptions { BatchSize = 7, IncludeProbabilities = true });
        using var fitted = ml.Transforms.ScoreImageClassifier(classifier, nameof(CsvRow.Path), imageFolder: folder).Fit(data);
        var scored = fitted.Transform(data);

        var paths = scored.GetColumn<string>(nameof(CsvRow.Path)).ToList();
        var scores = scored.GetColumn<float[]>("Score").ToList();
        var expected = StockChain.Scores(classifier, folder, model, paths);

        Assert.That(paths, Is.EqualTo(File.ReadLines(csv).Skip(1).Select(l => l.Split(',')[0])));
        Assert.That(scores, Has.Count.EqualTo(expected.Count));
        for (int i = 0; i < scores.Count; i++) { Assert.That(scores[i], Is.EqualTo(expected[i]).Within(1e-6), paths[i]); }
    }

    [Test]
    public void BadImages_GiveTheirReasonAndNaN_AndTheCursorGoesOn()
    {
        File.WriteAllText(Path.Combine(dir, "text.png"), "not an image");
        string csv = WriteCsv("../text.png,3", "../missing.png,4", ",5");
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromTextFile<CsvRow>(csv, separatorChar: ',', hasHeader: true);
        using var fitted = ml.Transforms.ScoreImageClassifier(model, nameof(CsvRow.Path), imageFolder: folder).Fit(data);
        var scored = fitted.Transform(data);

        var errors = scored.GetColumn<string>("ImageError").ToList();
        var scores = scored.GetColumn<float[]>("Score").ToList();
        var keys = scored.GetColumn<uint>("PredictedLabel").ToList();

        Assert.That(errors, Has.Count.EqualTo(123));
        Assert.That(errors.Take(120), Has.All.Empty);
        Assert.That(errors[120], Does.Contain("PNG").Or.Contain("image").IgnoreCase);
        Assert.That(errors[121], Is.EqualTo("the file does not exist"));
        Assert.That(errors[122], Is.EqualTo("the image path is empty"));
        Assert.That(scores.Skip(120).SelectMany(s => s), Has.All.NaN);
        Assert.That(keys.Skip(120), Has.All.EqualTo(0u), "a failed image's predicted label is the missing key");
        Assert.That(keys.Take(120), Has.All.InRange(1u, 10u));
    }

    sealed class ImageInput
    {
        public string Path { get; set; } = "";
    }

    sealed class ImageOutput
    {
        public float[] Score { get; set; } = [];

        [ColumnName("PredictedLabel")]
        public string Predicted { get; set; } = "";

        public string ImageError { get; set; } = "";
    }

    [Test]
    public void PredictionEngine_ScoresOneImage_AsMlNetsStockChainDoes()
    {
        var ml = new MLContext(seed: 0);
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<ImageInput>());
        using var fitted = ml.Transforms.ScoreImageClassifier(model, nameof(ImageInput.Path))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(empty);
        using var engine = ml.Model.CreatePredictionEngine<ImageInput, ImageOutput>(fitted);
        using var classifier = ImageClassifier.Load(model);
        var files = ImageClassifier.ListFolder(folder, recursive: true).Images.Take(12).ToList();
        var stock = StockChain.Scores(classifier, folder, model, files.Select(f => Path.GetRelativePath(folder, f)));

        foreach (var (file, expected) in files.Zip(stock))
        {
            var output = engine.Predict(new ImageInput { Path = file });
            Assert.That(output.ImageError, Is.Empty);
            Assert.That(output.Predicted, Is.EqualTo(classifier.Labels[Array.IndexOf(expected, expected.Max())]));
            Assert.That(output.Score, Is.EqualTo(expected).Within(1e-6));
        }
        var bad = engine.Predict(new ImageInput { Path = Path.Combine(dir, "missing.png") });
        Assert.That(bad.ImageError, Is.EqualTo("the file does not exist"));
    }

    [Test]
    public void ModelSaveAndLoad_InAnotherContext_GiveTheSameScoresLabelsAndMetrics()
    {
        File.WriteAllText(Path.Combine(dir, "text.png"), "not an image");
        string csv = WriteCsv("../text.png,3");
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromTextFile<CsvRow>(csv, separatorChar: ',', hasHeader: true);
        using var fitted = ml.Transforms.Conversion.MapValueToKey("LabelKey", nameof(CsvRow.Label), keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.Transforms.ScoreImageClassifier(model, nameof(CsvRow.Path), imageFolder: folder))
            .Fit(data);
        string zip = Path.Combine(dir, "pipeline.zip");
        ml.Model.Save(fitted, data.Schema, zip);
        File.Delete(model);

        var other = new MLContext(seed: 1);
        var loaded = other.Model.Load(zip, out var inputSchema);
        var before = fitted.Transform(data);
        var after = loaded.Transform(other.Data.LoadFromTextFile<CsvRow>(csv, separatorChar: ',', hasHeader: true));

        Assert.That(inputSchema.Select(c => c.Name), Is.EqualTo(data.Schema.Select(c => c.Name)));
        var expectedScores = before.GetColumn<float[]>("Score").ToList();
        var loadedScores = after.GetColumn<float[]>("Score").ToList();
        Assert.That(loadedScores, Has.Count.EqualTo(121));
        for (int i = 0; i < 120; i++) { Assert.That(loadedScores[i], Is.EqualTo(expectedScores[i]).Within(1e-6), $"row {i}"); }
        Assert.That(loadedScores[120], Has.All.NaN);
        Assert.That(after.GetColumn<uint>("PredictedLabel"), Is.EqualTo(before.GetColumn<uint>("PredictedLabel")));
        Assert.That(after.GetColumn<string>("ImageError"), Is.EqualTo(before.GetColumn<string>("ImageError")));
        var good = other.Data.FilterByCustomPredicate<ErrorRow>(after, r => r.ImageError.Length > 0);
        var metrics = other.MulticlassClassification.Evaluate(good, "LabelKey", "Score", "PredictedLabel");
        var expected = ml.MulticlassClassification.Evaluate(ml.Data.FilterByCustomPredicate<ErrorRow>(before, r => r.ImageError.Length > 0), "LabelKey", "Score", "PredictedLabel");
        Assert.That(metrics.MicroAccuracy, Is.EqualTo(expected.MicroAccuracy));
        Assert.That(metrics.LogLoss, Is.EqualTo(expected.LogLoss).Within(1e-6));
    }

    [Test]
    public void NonFiniteModelOutput_IsTheSameErrorLiveAndAfterSaveAndLoad()
    {
        // Pixels times 1e36 stay finite (at most 2.55e38) but overflow the model's logits: the wrong preprocessing.
        string csv = WriteCsv();
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromTextFile<CsvRow>(csv, separatorChar: ',', hasHeader: true);
        using var fitted = ml.Transforms.ScoreImageClassifier(model, nameof(CsvRow.Path), new ImageClassifierOptions { Scales = [1e36f] }, folder).Fit(data);
        string zip = Path.Combine(dir, "pipeline.zip");
        ml.Model.Save(fitted, data.Schema, zip);
        var loaded = new MLContext(seed: 1).Model.Load(zip, out _);

        var live = Assert.Catch(() => fitted.Transform(data).GetColumn<float[]>("Score").ToList());
        var saved = Assert.Catch(() => loaded.Transform(data).GetColumn<float[]>("Score").ToList());

        foreach (var (path, e) in new[] { ("live", live), ("saved", saved) })
        {
            var innermost = e!;
            while (innermost.InnerException is { } inner && innermost is not InvalidDataException) { innermost = inner; }
            Assert.That(innermost, Is.TypeOf<InvalidDataException>(), $"{path}: {e}");
            Assert.That(innermost.Message, Does.StartWith($"Model '{model}' output '").And.Contain("the model produced non-finite scores")
                .And.Contain("scale 1E+36 its inputs range from 0 to "), path);
        }
    }

    sealed class ErrorRow
    {
        public string ImageError { get; set; } = "";
    }

    [Test]
    public void LoadImageTensor_SavedAndLoaded_GivesTheSameTensorsOfTheSameSize_FromPathsAndBytes()
    {
        File.WriteAllText(Path.Combine(dir, "text.png"), "not an image");
        string csv = WriteCsv("../text.png,3");
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromTextFile<CsvRow>(csv, separatorChar: ',', hasHeader: true);
        var preprocessing = new ImagePreprocessing(20, 24, ColorMode.Rgb, [10f, 20f, 30f], [0.01f, 0.02f, 0.03f]) { Layout = TensorLayout.Nhwc, Resize = ResizeMode.Pad };
        var fitted = ml.Transforms.LoadImageTensor("Tensor", nameof(CsvRow.Path), preprocessing, folder).Fit(data);
        string zip = Path.Combine(dir, "tensor.zip");
        ml.Model.Save(fitted, data.Schema, zip);
        var bytes = ml.Data.LoadFromEnumerable(File.ReadLines(csv).Skip(1).Take(5).Select(l => new BytesInput { Image = File.ReadAllBytes(Path.Combine(folder, l.Split(',')[0])) }));
        var fromBytes = ml.Transforms.LoadImageTensor("Tensor", nameof(BytesInput.Image), preprocessing).Fit(bytes);
        string bytesZip = Path.Combine(dir, "bytes.zip");
        ml.Model.Save(fromBytes, bytes.Schema, bytesZip);

        var loaded = new MLContext(seed: 1).Model.Load(zip, out _);
        var before = fitted.Transform(data);
        var after = loaded.Transform(data);
        var loadedBytes = new MLContext(seed: 1).Model.Load(bytesZip, out _);

        Assert.That(((VectorDataViewType)after.Schema["Tensor"].Type).Size, Is.EqualTo(3 * 20 * 24), "a known-size vector after loading too");
        var expected = before.GetColumn<float[]>("Tensor").ToList();
        var actual = after.GetColumn<float[]>("Tensor").ToList();
        for (int i = 0; i < 120; i++) { Assert.That(actual[i], Is.EqualTo(expected[i]), $"row {i}"); }
        Assert.That(actual[120], Has.All.NaN);
        Assert.That(after.GetColumn<string>("ImageError"), Is.EqualTo(before.GetColumn<string>("ImageError")));
        Assert.That(loadedBytes.Transform(bytes).GetColumn<float[]>("Tensor"), Is.EqualTo(fromBytes.Transform(bytes).GetColumn<float[]>("Tensor")));
    }

    sealed class BytesInput
    {
        public byte[] Image { get; set; } = [];
    }

    [Test]
    public void LoadImageTensor_FromPathsAndBytes_EqualsTheStockChainBitForBit([Values] ColorMode color, [Values] ResizeMode resize)
    {
        // A colour image larger than the model input, so that resizing and (for gray) the colour conversion both run.
        var files = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            string file = Path.Combine(dir, $"colour{i}.png");
            WriteColourPng(file, 40 + (i * 7), 33 + (i * 5), i);
            files.Add(file);
        }
        var preprocessing = new ImagePreprocessing(24, 20, color, 17f, 1f / 97f) { Resize = resize };
        var ml = new MLContext(seed: 0);
        var paths = ml.Data.LoadFromEnumerable(files.Select(f => new ImageInput { Path = f }));
        var bytes = ml.Data.LoadFromEnumerable(files.Select(f => new BytesInput { Image = File.ReadAllBytes(f) }));

        var ours = ml.Transforms.LoadImageTensor("Tensor", nameof(ImageInput.Path), preprocessing).Fit(paths).Transform(paths).GetColumn<float[]>("Tensor").ToList();
        var fromBytes = ml.Transforms.LoadImageTensor("Tensor", nameof(BytesInput.Image), preprocessing).Fit(bytes).Transform(bytes).GetColumn<float[]>("Tensor").ToList();
        // The stock chain, written here from ML.NET's public transforms.
        IEstimator<ITransformer> stock = ml.Transforms.LoadImages("image", null, nameof(ImageInput.Path))
            .Append(ml.Transforms.ResizeImages("image", 24, 20, "image", resize switch
            {
                ResizeMode.Pad => ImageResizingEstimator.ResizingKind.IsoPad,
                ResizeMode.Crop => ImageResizingEstimator.ResizingKind.IsoCrop,
                _ => ImageResizingEstimator.ResizingKind.Fill,
            }));
        if (color == ColorMode.Gray) { stock = stock.Append(ml.Transforms.ConvertToGrayscale("image", "image")); }
        stock = stock.Append(ml.Transforms.ExtractPixels("Tensor", "image",
            color == ColorMode.Gray ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb,
            color == ColorMode.Bgr ? ImagePixelExtractingEstimator.ColorsOrder.ABGR : ImagePixelExtractingEstimator.ColorsOrder.ARGB,
            interleavePixelColors: false, offsetImage: 17f, scaleImage: 1f / 97f));
        var reference = stock.Fit(paths).Transform(paths).GetColumn<float[]>("Tensor").ToList();

        Assert.That(ours, Has.Count.EqualTo(6));
        for (int i = 0; i < 6; i++)
        {
            Assert.That(ours[i], Is.EqualTo(reference[i]), files[i]);
            Assert.That(fromBytes[i], Is.EqualTo(reference[i]), files[i]);
        }
    }

    static void WriteColourPng(string path, int width, int height, int seed)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(width, height, SKColorType.Bgra8888, SKAlphaType.Unpremul);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)(x * 255 / width), (byte)(y * 255 / height), 255));
            }
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Test]
    public void LoadImageTensor_ThenScoreTheTensors_EqualsScoringThePaths_AndPassesErrorsOn()
    {
        string csv = WriteCsv("../missing.png,1");
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromTextFile<CsvRow>(csv, separatorChar: ',', hasHeader: true);
        using var classifier = ImageClassifier.Load(model);
        var twoSteps = ml.Transforms.LoadImageTensor("input", nameof(CsvRow.Path), classifier.Preprocessing, folder)
            .Append(ml.Transforms.ScoreImageClassifier(classifier, "input"));
        var oneStep = ml.Transforms.ScoreImageClassifier(classifier, nameof(CsvRow.Path), folder);

        var a = twoSteps.Fit(data).Transform(data);
        var b = oneStep.Fit(data).Transform(data);

        Assert.That(a.GetColumn<float[]>("Score").Take(120), Is.EqualTo(b.GetColumn<float[]>("Score").Take(120)));
        Assert.That(a.GetColumn<string>("ImageError").Last(), Is.EqualTo("the file does not exist"));
        Assert.That(a.GetColumn<uint>("PredictedLabel").Last(), Is.EqualTo(0u));
    }

    [Test]
    public void WrongInputColumns_AreNamedWithWhatWasExpected()
    {
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Value = 1 } });
        var preprocessing = ImagePreprocessing.UnitRange(28, 28, ColorMode.Gray);

        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.LoadImageTensor("t", "Path", preprocessing).Fit(data));
        var wrongType = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.LoadImageTensor("t", nameof(NumberRow.Value), preprocessing).Fit(data));
        var wrongTensor = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ScoreImageClassifier(model, nameof(NumberRow.Value)).Fit(data));
        var sameNames = Assert.Throws<ArgumentException>(() => ml.Transforms.ScoreImageClassifier(model, "Path", scoreColumnName: "X", errorColumnName: "X"));

        Assert.That(missing!.Message, Does.Contain("no column 'Path'").And.Contain("Value"));
        Assert.That(wrongType!.Message, Does.Contain("'Value' is Single").And.Contain("expected text (image paths) or a vector of bytes"));
        Assert.That(wrongTensor!.Message, Does.Contain("a vector of 784 floats, 1x28x28"));
        Assert.That(sameNames!.Message, Does.Contain("'X' is given twice"));
    }

    [Test]
    public void AnInputThatGivesCursorsDifferentRows_IsAnErrorSayingSo()
    {
        string csv = WriteCsv();
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromTextFile<CsvRow>(csv, separatorChar: ',', hasHeader: true);
        var shuffled = ml.Data.ShuffleRows(data, seed: 7);
        var unstable = new FirstCursorFrom(data, shuffled);
        var scored = ml.Transforms.ScoreImageClassifier(model, nameof(CsvRow.Path), imageFolder: folder).Fit(data).Transform(unstable);

        // Score needs the lead cursor and Label a second cursor over the input; one of the two reads other rows.
        var e = Assert.Throws<InvalidOperationException>(() => ml.Data.CreateEnumerable<LabelAndScore>(scored, reuseRowObject: false).ToList());

        Assert.That(e!.Message, Does.Contain("gave two cursors different rows").And.Contain("as IDataView promises"));
    }

    sealed class LabelAndScore
    {
        public string Label { get; set; } = "";

        public float[] Score { get; set; } = [];
    }

    /// <summary>An input that breaks IDataView's promise: its first cursor reads one view, every later one another.</summary>
    sealed class FirstCursorFrom(IDataView first, IDataView later) : IDataView
    {
        int cursors;

        public DataViewSchema Schema => first.Schema;

        public bool CanShuffle => false;

        public long? GetRowCount() => first.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            (cursors++ == 0 ? first : later).GetRowCursor(columnsNeeded.Select(c => (cursors == 1 ? first : later).Schema[c.Index]));

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];
    }

    sealed class NumberRow
    {
        public float Value { get; set; }
    }
}
