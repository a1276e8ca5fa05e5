using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MlPipeline.Data;
using MlPipeline.Datasets;
using MlPipeline.Evaluation;
using MlPipeline.Scoring;
using MlPipeline.Training;
using MlPipeline.Training.Export;

namespace MlPipeline.Cli.Commands;

/// <summary>
/// <c>mlpipeline demo</c>: the whole lifecycle on MNIST in one command: fetch, train (or reuse the finished run), export
/// ONNX with verification, write the test set as PNG files, score that folder through the ML.NET pipeline, evaluate.
/// </summary>
internal static class DemoCommand
{
    static readonly Option<bool> Quick = new("--quick") { Description = "A short run: 1 training epoch instead of 5 (under a minute)" };
    static readonly Option<string?> Out = new("--out") { Description = "Demo folder [default: runs/demo, or runs/demo-quick with --quick]" };
    static readonly Option<int?> Threads = CliOptions.OptionalRange("--threads", $"libtorch threads for training, 1 to {ExecutionOptions.MaxThreads} [default: one per core]", 1, ExecutionOptions.MaxThreads);
    static readonly Option<string?> Data = new("--data") { Description = "MNIST folder [default: the per-user cache, fetched when missing]" };

    public static Command Create(CliConsole console)
    {
        var command = new Command("demo", "Run the whole lifecycle on MNIST: fetch, train, export ONNX, score PNGs with ML.NET, evaluate.") { Quick, Out, Threads, Data };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(parse, console, cancellationToken)));
        return command;
    }

    static int Run(ParseResult parse, CliConsole console, CancellationToken cancellationToken)
    {
        bool quick = parse.GetValue(Quick);
        string root = Path.GetFullPath(parse.GetValue(Out) ?? Path.Combine("runs", quick ? "demo-quick" : "demo"));
        var clock = Stopwatch.StartNew();
        void Step(int n, string what) => console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\n[{n}/6] {what} ({clock.Elapsed.TotalSeconds:F0} s)"));

        Step(1, "MNIST: fetch and verify");
        string mnist = DataCommand.EnsureMnist(parse.GetValue(Data), console, cancellationToken);
        var data = Mnist.Load(mnist);
        console.Out.WriteLine($"{data.Train.Count:N0} training and {data.Test.Count:N0} test images in {mnist}");

        Step(2, "Train the CNN with TorchSharp");
        string run = Path.Combine(root, "run");
        var trained = Train(parse, data, run, quick, console, cancellationToken);
        if (!trained.Completed)
        {
            console.Error.WriteLine("Stopped; the checkpoint is saved and the next 'mlpipeline demo' continues from it.");
            return ExitCodes.Interrupted;
        }
        double trainingAccuracy = trained.TestMetrics!.MicroAccuracy;
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Test accuracy in the training loop: {trainingAccuracy:P2} ({TrainCommand.EpochCount(trained.History.Count)})"));

        Step(3, "Export ONNX and verify it against TorchSharp");
        string onnx = Path.Combine(root, "mnist-cnn.onnx");
        using (var model = TrainedModel.Load(run))
        {
            if (!ExportCommand.ExportAndReport(model, onnx, new OnnxExportOptions().Opset, data.Test, 1000, console, cancellationToken))
            {
                return ExitCodes.Failure;
            }
        }

        Step(4, "Write the test set as PNG files");
        string png = Path.Combine(root, "test-png");
        int count = data.Test.Count;
        WritePngFolder(data.Test, png, cancellationToken);
        console.Out.WriteLine($"{count:N0} PNG files in {png}");

        Step(5, "Score the folder through the ML.NET pipeline");
        using var classifier = ImageClassifier.Load(onnx);
        int scored = ScoreCommand.ScoreFolder(classifier, png, recursive: true, Path.Combine(root, "predictions.csv"), console, cancellationToken);
        if (scored != ExitCodes.Success) { return scored; }

        Step(6, "Evaluate");
        var report = EvaluateCommand.Evaluate(classifier, LabelledImages.FromFolder(png), 3, console, cancellationToken);
        int code = EvaluateCommand.Print(report, Path.Combine(root, "report"), run, console);
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\nDemo finished in {clock.Elapsed.TotalSeconds:F0} s: TorchSharp test accuracy {trainingAccuracy:P2}; ONNX model through ML.NET on {count:N0} PNG files {report.Metrics.MicroAccuracy:P2}."));
        console.Out.WriteLine($"Everything is in {root} (run/, mnist-cnn.onnx, test-png/, predictions.csv, report/).");
        return code;
    }

    /// <summary>Trains the demo's CNN into <paramref name="run"/>, resuming its checkpoint or reusing the finished run.</summary>
    static TrainingResult Train(ParseResult parse, TrainingData data, string run, bool quick, CliConsole console, CancellationToken cancellationToken)
    {
        var options = new TrainingOptions
        {
            Run = new RunFolderOptions { OutputDirectory = run, Resume = File.Exists(Path.Combine(run, RunFolder.CheckpointFile)) },
            Epochs = quick ? 1 : 5,
            Execution = new ExecutionOptions { Threads = parse.GetValue(Threads) },
        };
        if (File.Exists(Path.Combine(run, ClassifierTrainer.ModelInfoFileName))) { console.Out.WriteLine($"Reusing the finished run in {run}"); }
        var bar = new TrainingProgressBar(console);
        return ClassifierTrainer.Train(data, options, new SyncProgress<TrainingProgress>(bar.Report), cancellationToken);
    }

    /// <summary>Writes the test set as PNG files into <paramref name="png"/>, unless it already holds one file per image.</summary>
    static void WritePngFolder(ImageSet test, string png, CancellationToken cancellationToken)
    {
        int count = test.Count;
        if (!Directory.Exists(png) || ImageClassifier.ListFolder(png, recursive: true).Images.Count != count)
        {
            if (Directory.Exists(png)) { Directory.Delete(png, recursive: true); }
            test.WritePngFolder(png, count, cancellationToken);
        }
    }
}
