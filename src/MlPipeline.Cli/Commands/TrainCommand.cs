using System.CommandLine;
using System.Globalization;
using MlPipeline.Data;
using MlPipeline.Training;
using MlPipeline.Training.Export;
using MlPipeline.Training.Models;

namespace MlPipeline.Cli.Commands;

/// <summary><c>mlpipeline train</c>: trains a classifier on MNIST with a Keras-like progress bar.</summary>
internal static class TrainCommand
{
    static readonly Option<string?> Data = new("--data") { Description = "MNIST folder [default: the per-user cache, fetched when missing]" };
    static readonly Option<string> Model = CliOptions.OneOf("--model", "Architecture", "cnn", ModelSpec.BuiltInNames);
    static readonly Option<int> Epochs = CliOptions.Positive("--epochs", "Passes over the training set", 5);
    static readonly Option<int> BatchSize = CliOptions.Range("--batch-size", "Images per step", 64, 1, TrainingOptions.MaxBatchSize);
    static readonly Option<double> LearningRate = CreateLearningRate();
    static readonly Option<int> Seed = new("--seed") { Description = "Seed for weights and shuffling", DefaultValueFactory = _ => 42 };
    static readonly Option<int?> Threads = CliOptions.OptionalRange("--threads", $"libtorch threads, 1 to {TrainingOptions.MaxThreads} [default: one per core]", 1, TrainingOptions.MaxThreads);
    static readonly Option<int?> Limit = CliOptions.OptionalPositive("--limit", "Train on the first N images only");
    static readonly Option<string> Out = new("--out") { Description = "Run folder [default: runs/mnist-<model>]" };
    static readonly Option<string> Init = CliOptions.OneOf("--init", "Weight initialisation", "glorot", ["glorot", "pytorch"]);
    static readonly Option<string?> Onnx = new("--onnx") { Description = "Export the trained model to this ONNX file and verify it" };
    static readonly Option<bool> Resume = new("--resume") { Description = "Continue the run in --out from its checkpoint" };
    static readonly Option<bool> Normalize = new("--normalize") { Description = "Standardise pixels with the training mean and std instead of scaling to [0,1]" };

    public static Command Create(CliConsole console)
    {
        var command = new Command("train", "Train a classifier on MNIST.")
        {
            Data, Model, Epochs, BatchSize, LearningRate, Seed, Threads, Limit, Out, Resume, Normalize, Init, Onnx,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(parse, console, cancellationToken)));
        return command;
    }

    static Option<double> CreateLearningRate()
    {
        var option = new Option<double>("--lr") { Description = $"Adam learning rate, above 0 and at most {TrainingOptions.MaxLearningRate}", DefaultValueFactory = _ => 0.001 };
        option.Validators.Add(result =>
        {
            if (CliOptions.TryGet(result, out double value) && !(value > 0 && value <= TrainingOptions.MaxLearningRate))
            {
                result.AddError($"--lr must be a positive number no larger than {TrainingOptions.MaxLearningRate.ToString(CultureInfo.InvariantCulture)}, but was {value.ToString(CultureInfo.InvariantCulture)}.");
            }
        });
        return option;
    }

    /// <summary>"1 epoch", "5 epochs".</summary>
    internal static string EpochCount(int count) => count == 1 ? "1 epoch" : $"{count} epochs";

    static int Run(ParseResult parse, CliConsole console, CancellationToken cancellationToken)
    {
        string model = parse.GetValue(Model)!;
        var options = new TrainingOptions
        {
            Model = model,
            Epochs = parse.GetValue(Epochs),
            BatchSize = parse.GetValue(BatchSize),
            LearningRate = parse.GetValue(LearningRate),
            Seed = parse.GetValue(Seed),
            Threads = parse.GetValue(Threads),
            Limit = parse.GetValue(Limit),
            OutputDirectory = parse.GetValue(Out) ?? Path.Combine("runs", $"mnist-{model}"),
            Resume = parse.GetValue(Resume),
            Normalize = parse.GetValue(Normalize),
            Initialization = parse.GetValue(Init) == "pytorch" ? WeightInitialization.PyTorch : WeightInitialization.Glorot,
        };
        if (parse.GetValue(Onnx) is { } target) { ExportCommand.RequireNotARunFile(target, options.OutputDirectory); }
        string dir = DataCommand.EnsureMnist(parse.GetValue(Data), console, cancellationToken);
        var data = Mnist.Load(dir);
        var bar = new TrainingProgressBar(console);
        var result = ClassifierTrainer.Train(data, options, new SyncProgress<TrainingProgress>(bar.Report), cancellationToken);
        if (!result.Completed)
        {
            console.Error.WriteLine($"Stopped; checkpoint saved. Continue with: mlpipeline train --out {result.RunDirectory} --resume (and the same options).");
            return ExitCodes.Interrupted;
        }
        if (result.TestMetrics is { } metrics)
        {
            console.Out.WriteLine();
            console.Out.WriteLine($"Test set ({EpochCount(result.History.Count)}):");
            console.Out.Write(metrics.ToTable());
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Test accuracy {metrics.MicroAccuracy:P2} after {EpochCount(result.History.Count)}. Run folder: {result.RunDirectory}"));
        }
        if (parse.GetValue(Onnx) is { } onnx)
        {
            using var trained = TrainedModel.Load(result.RunDirectory);
            if (!ExportCommand.ExportAndReport(trained, onnx, new OnnxExportOptions().Opset, verify: true, images: 1000, dir, console, cancellationToken)) { return ExitCodes.Failure; }
        }
        return ExitCodes.Success;
    }
}
