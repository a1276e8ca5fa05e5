using System.Text.RegularExpressions;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MlPipeline.Data;
using MlPipeline.Datasets;
using MlPipeline.Evaluation;
using MlPipeline.Scoring;

namespace MlPipeline.Training.Tests;

/// <summary>Runs the README's C# examples and checks the README shows them exactly as they are here, so the docs cannot drift.</summary>
public sealed partial class ReadMeTests
{
    /// <summary>The code between "// README:NAME" and "// END" in this file, as the README shows it.</summary>
    static string Example(string name)
    {
        string source = File.ReadAllText(Repository.File(Path.Combine("tests", "MlPipeline.Training.Tests", "ReadMeTests.cs")));
        var match = Regex.Match(source, $@"// README:{name}\r?\n(.*?)\r?\n\s*// END", RegexOptions.Singleline);
        var lines = match.Groups[1].Value.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    [TestCase("train")]
    [TestCase("score")]
    [TestCase("evaluate")]
    [TestCase("mlnet")]
    [TestCase("mlnet-rows")]
    public void ReadMe_ShowsExample_Verbatim(string name)
    {
        string readme = File.ReadAllText(Repository.File("README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);

        Assert.That(readme, Does.Contain("```csharp\n" + Example(name) + "\n```"));
    }

    [Test]
    public void ReadMe_Architecture_NamesEveryProjectAndItsFolders()
    {
        string readme = File.ReadAllText(Repository.File("README.md"));
        string architecture = readme[readme.IndexOf("\n## Architecture", StringComparison.Ordinal)..];
        foreach (string project in Directory.GetDirectories(Path.Combine(Repository.Root, "src")))
        {
            string name = Path.GetFileName(project);
            Assert.That(architecture, Does.Contain($"`src/{name}`"), $"the Architecture section does not name src/{name}");
            foreach (string folder in Directory.GetDirectories(project).Select(d => Path.GetFileName(d)).Where(f => f is not ("bin" or "obj")))
            {
                Assert.That(architecture, Does.Contain($"`{folder}/`"), $"the Architecture section does not name {name}'s folder {folder}/");
            }
        }
    }

    [Test]
    public void ReadMe_TrainExample_Runs()
    {
        var lines = new List<string>();
        void WriteLine(string line) => lines.Add(line);
        // README:train
        string mnist = Mnist.Ensure();          // verified idx files, fetched once into ~/.cache/mlpipeline/mnist
        TrainingData data = Mnist.Load(mnist);
        string workFolder = Directory.CreateTempSubdirectory("mlpipeline-").FullName;   // or a folder of yours
        var options = new TrainingOptions { Run = new RunFolderOptions { OutputDirectory = Path.Combine(workFolder, "quick") }, Epochs = 1, Execution = new ExecutionOptions { Limit = 2000, Threads = 2 } };
        var progress = new Progress<TrainingProgress>(p =>
        {
            if (p.CompletedEpoch is { } epoch) { WriteLine($"epoch {epoch.Epoch}: test accuracy {epoch.TestAccuracy:P2}"); }
        });
        TrainingResult result = ClassifierTrainer.Train(data, options, progress, CancellationToken.None);
        WriteLine($"{result.TestAccuracy:P2}, run folder {result.RunDirectory}");
        // END

        try
        {
            Assert.That(result.Completed, Is.True);
            Assert.That(result.History, Has.Count.EqualTo(1));
            Assert.That(result.RunDirectory, Is.EqualTo(Path.Combine(workFolder, "quick")));
            Assert.That(File.Exists(Path.Combine(result.RunDirectory, "model.json")), Is.True);
        }
        finally
        {
            Directory.Delete(workFolder, recursive: true);
        }
    }

    [Test]
    public void ReadMe_ScoreExample_Runs()
    {
        string folder = TempDirectory.Create();
        try
        {
            Digits.Mnist.Test.WritePngFolder(folder, 12);
            string digitPng = Directory.GetFiles(Path.Combine(folder, "7")).First();
            byte[] pngBytes = File.ReadAllBytes(digitPng), otherPngBytes = File.ReadAllBytes(Directory.GetFiles(Path.Combine(folder, "1")).First());
            var lines = new List<string>();
            void WriteLine(string line) => lines.Add(line);
            // README:score
            using var classifier = ImageClassifier.LoadBuiltInMnist();   // or ImageClassifier.Load("model.onnx", options)
            Prediction one = classifier.Predict(digitPng);                // also a Stream or byte[]
            IReadOnlyList<ScoreResult> batch = classifier.ScoreImages([("a", pngBytes), ("b", otherPngBytes)]);
            foreach (ScoreResult r in classifier.ScoreFolder(folder, recursive: true))
            {
                WriteLine(r.Succeeded ? $"{r.Path}: {r.Prediction!.Label} {r.Prediction.Confidence:P1}" : $"{r.Path}: {r.Error}");
            }
            // END

            Assert.That(one.Label, Is.EqualTo("7"));
            Assert.That(batch.Select(r => r.Prediction!.Label), Is.EqualTo(new[] { "7", "1" }));
            Assert.That(lines, Has.Count.EqualTo(12));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void ReadMe_EvaluateExample_Runs()
    {
        string testFolder = TempDirectory.Create(), reportFolder = Path.Combine(testFolder, "..", Path.GetFileName(testFolder) + "-report");
        try
        {
            Digits.Mnist.Test.WritePngFolder(testFolder, 100);
            var lines = new List<string>();
            void WriteLine(string line) => lines.Add(line);
            // README:evaluate
            using var classifier = ImageClassifier.LoadBuiltInMnist();
            EvaluationReport report = classifier.Evaluate(LabelledImages.FromFolder(testFolder));   // or LabelledImages.FromCsv("labels.csv")
            ClassificationMetrics m = report.Metrics;
            WriteLine($"accuracy {m.MicroAccuracy:P2}, macro {m.MacroAccuracy:P2}, log loss {m.LogLoss:F4}, top-{m.TopK} {m.TopKAccuracy:P2}");
            WriteLine(m.ToTable());                                  // per-class precision/recall/F1/support, confusion matrix
            byte[] heatMap = EvaluationPlots.ConfusionMatrix(m);     // PNG bytes: save them or show them in a notebook
            report.WriteTo(reportFolder);                            // metrics.json, CSVs, confusion.png, mistakes.png
            // END

            Assert.That(m.Count, Is.EqualTo(100));
            Assert.That(lines[1], Does.Contain("confusion matrix (rows actual, columns predicted)"), "the table ToTable printed");
            Assert.That(heatMap, Is.Not.Empty);
            Assert.That(File.Exists(Path.Combine(reportFolder, "mistakes.png")), Is.True);
        }
        finally
        {
            Directory.Delete(testFolder, recursive: true);
            if (Directory.Exists(reportFolder)) { Directory.Delete(reportFolder, recursive: true); }
        }
    }

    // README:mlnet-rows
    sealed class ImageRow                       // one line of a path,label CSV
    {
        [LoadColumn(0)] public string Path { get; set; } = "";
        [LoadColumn(1)] public string Label { get; set; } = "";
    }

    sealed class ErrorRow
    {
        public string ImageError { get; set; } = "";
    }
    // END

    [Test]
    public void ReadMe_MlNetExample_Runs()
    {
        string folder = TempDirectory.Create();
        try
        {
            Digits.Mnist.Test.WritePngFolder(folder, 100);
            string csvPath = Path.Combine(folder, "labels.csv");
            File.WriteAllLines(csvPath, Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories)
                .Select(f => $"{Path.GetRelativePath(folder, f)},{Path.GetFileName(Path.GetDirectoryName(f))}").Prepend("path,label"));
            string modelPath = Repository.File("onnx/mnist-cnn.onnx");
            var lines = new List<string>();
            void WriteLine(string line) => lines.Add(line);
            // README:mlnet
            var ml = new MLContext(seed: 0);
            IDataView rows = ml.Data.LoadFromTextFile<ImageRow>(csvPath, separatorChar: ',', hasHeader: true);
            var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(ImageRow.Label), keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
                .Append(ml.Transforms.ScoreImageClassifier(modelPath, nameof(ImageRow.Path), imageFolder: folder));
            using var model = pipeline.Fit(rows);
            IDataView scored = model.Transform(rows);                // adds Score, PredictedLabel (key) and ImageError
            IDataView readable = ml.Data.FilterByCustomPredicate<ErrorRow>(scored, r => r.ImageError.Length > 0);
            MulticlassClassificationMetrics metrics = ml.MulticlassClassification.Evaluate(readable, "Label", "Score", "PredictedLabel");
            WriteLine($"accuracy {metrics.MicroAccuracy:P2}");
            ml.Model.Save(model, rows.Schema, Path.Combine(folder, "pipeline.zip"));   // ml.Model.Load reads it back
            // END

            Assert.That(metrics.MicroAccuracy, Is.GreaterThan(0.95));
            Assert.That(lines, Has.Count.EqualTo(1));
            var loaded = new MLContext().Model.Load(Path.Combine(folder, "pipeline.zip"), out _);
            Assert.That(loaded.Transform(rows).GetColumn<uint>("PredictedLabel"), Is.EqualTo(scored.GetColumn<uint>("PredictedLabel")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
