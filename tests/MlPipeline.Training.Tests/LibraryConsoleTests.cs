using MlPipeline.Evaluation;
using MlPipeline.Scoring;
using MlPipeline.Training.Export;

namespace MlPipeline.Training.Tests;

/// <summary>The libraries report through <see cref="IProgress{T}"/> and results, never by writing to the console.</summary>
public sealed class LibraryConsoleTests
{
    [Test]
    public void TrainExportScoreEvaluate_WriteNothingToTheConsole()
    {
        string dir = TempDirectory.Create();
        var (originalOut, originalError) = (Console.Out, Console.Error);
        using var output = new StringWriter();
        using var error = new StringWriter();
        try
        {
            Console.SetOut(output);
            Console.SetError(error);
            string run = Path.Combine(dir, "run");
            ClassifierTrainer.Train(Digits.Subset(128, 64), new TrainingOptions { Run = new RunFolderOptions { OutputDirectory = run }, Epochs = 1, Execution = new ExecutionOptions { Threads = 1 } });
            string onnx = Path.Combine(dir, "m.onnx");
            using (var model = TrainedModel.Load(run))
            {
                OnnxExporter.Export(model, onnx);
                OnnxVerifier.Verify(model, onnx, Digits.Mnist.Test, 64);
            }
            string folder = Digits.WritePngFolder(Path.Combine(dir, "png"), 30);
            File.WriteAllText(Path.Combine(folder, "3", "broken.png"), "not an image");
            using var classifier = ImageClassifier.Load(onnx);
            _ = classifier.ScoreFolder(folder, recursive: true).ToList();
            classifier.Evaluate(LabelledImages.FromFolder(folder)).WriteTo(Path.Combine(dir, "report"), Path.Combine(run, "history.json"));
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
            Directory.Delete(dir, recursive: true);
        }

        Assert.That(output.ToString(), Is.Empty);
        Assert.That(error.ToString(), Is.Empty);
    }
}
