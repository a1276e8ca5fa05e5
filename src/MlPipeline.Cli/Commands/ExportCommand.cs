using System.CommandLine;
using System.Globalization;
using MlPipeline.Data;
using MlPipeline.Datasets;
using MlPipeline.Internals;
using MlPipeline.Training;
using MlPipeline.Training.Export;

namespace MlPipeline.Cli.Commands;

/// <summary><c>mlpipeline export</c>: writes a run's model as ONNX and, with --verify, proves it equal to the trained model.</summary>
internal static class ExportCommand
{
    static readonly Option<string> Run = new("--run") { Description = "Run folder written by 'mlpipeline train'", Required = true };
    static readonly Option<string> Out = new("--out") { Description = "ONNX file to write", Required = true };
    static readonly Option<int> Opset = CreateOpset();
    static readonly Option<bool> Verify = new("--verify") { Description = "Compare ONNX Runtime with TorchSharp on images (MNIST's test set, or --data)" };
    static readonly Option<int> VerifyImages = CliOptions.Positive("--verify-images", "Test images compared by --verify", 1000);
    static readonly Option<string?> Data = new("--data") { Description = "Images for --verify: a folder per class, a CSV or MNIST idx files [default: the MNIST test set]" };

    public static Command Create(CliConsole console)
    {
        var command = new Command("export", "Export a trained run to ONNX.") { Run, Out, Opset, Verify, VerifyImages, Data };
        command.SetAction((parse, cancellationToken) =>
        {
            string run = parse.GetValue(Run)!;
            RequireNotARunFile(parse.GetValue(Out)!, run);
            OutputPaths.RequireNotAnInput(parse.GetValue(Out)!, "--out", [new(run, "--run"), .. RunInputs.Data(parse.GetValue(Data), "--data")]);
            using var model = TrainedModel.Load(run);
            var images = parse.GetValue(Verify) ? VerificationImages(model, parse.GetValue(Data), console, cancellationToken) : null;
            bool passed = ExportAndReport(model, parse.GetValue(Out)!, parse.GetValue(Opset), images, parse.GetValue(VerifyImages), console, cancellationToken);
            return Task.FromResult(passed ? ExitCodes.Success : ExitCodes.Failure);
        });
        return command;
    }

    static Option<int> CreateOpset() =>
        CliOptions.Range("--opset", $"ONNX opset, {OnnxExportOptions.MinOpset} to {OnnxExportOptions.MaxOpset}", new OnnxExportOptions().Opset, OnnxExportOptions.MinOpset, OnnxExportOptions.MaxOpset);

    /// <summary>
    /// Refuses an output that would overwrite a run's own files: this run's (its checkpoint, model.json, …, or its
    /// folder), or, by its name, those of any other run folder (one that holds run.lock, model.json or checkpoint.bin).
    /// </summary>
    internal static void RequireNotARunFile(string output, string run, string option = "--out")
    {
        if (Path.EndsInDirectorySeparator(output) || Directory.Exists(output))
        {
            throw new ArgumentException($"{option} '{output}' names a folder; the model is a file: give a path such as {Path.Combine(Path.TrimEndingDirectorySeparator(output), "model.onnx")}.");
        }
        if (FileSystem.SamePath(output, run))
        {
            throw new ArgumentException($"{option} '{output}' is the run folder itself; the model is a file: choose a path such as {Path.Combine(run, "model.onnx")}.");
        }
        foreach (string file in RunFolder.Files)
        {
            if (FileSystem.SamePath(output, Path.Combine(run, file)))
            {
                throw new ArgumentException($"{option} '{output}' is the run's own {file}; writing the model there would destroy the run. Choose another path, for example {Path.Combine(run, "model.onnx")}.");
            }
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(output))!;
        string name = Path.GetFileName(output);
        if (RunFolder.Files.Contains(name, StringComparer.Ordinal) && new[] { RunFolder.LockFile, RunFolder.ModelFile, RunFolder.CheckpointFile }.Any(f => File.Exists(Path.Combine(folder, f))))
        {
            throw new ArgumentException($"{option} '{output}' is the {name} of the run in '{folder}'; writing the model there would destroy that run. Choose another path, for example {Path.Combine(folder, "model.onnx")}.");
        }
        FileSystem.RequireWritableFile(output, option);
    }

    /// <summary>Exports, verifies on <paramref name="images"/> when given, and prints what happened; false when verification failed.</summary>
    public static bool ExportAndReport(TrainedModel model, string path, int opset, ImageSet? images, int count, CliConsole console, CancellationToken cancellationToken)
    {
        OnnxExporter.Export(model, path, new OnnxExportOptions { Opset = opset });
        console.Out.WriteLine($"Wrote {Path.GetFullPath(path)} (opset {opset}, {new FileInfo(path).Length / 1024.0:F0} KiB).");
        console.Pause("export.written", cancellationToken);
        if (images is null) { return true; }
        var result = OnnxVerifier.Verify(model, path, images, count, cancellationToken: cancellationToken);
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Verified on {result.Images} images: max |logit difference| {result.MaxAbsDifference:E2} (tolerance {ExportVerification.Tolerance:E0}), argmax agreement {result.ArgmaxAgreement:P2}, max |probability difference| {result.MaxProbabilityDifference:E2}: {(result.Passed ? "PASSED" : "FAILED")}"));
        return result.Passed;
    }

    /// <summary>
    /// The images <c>export --verify</c> compares on: <c>--data</c> (image folders or idx files) read with the run's own
    /// size and colour, else the MNIST test set for a model of MNIST's shape.
    /// </summary>
    static ImageSet VerificationImages(TrainedModel model, string? data, CliConsole console, CancellationToken cancellationToken)
    {
        var p = model.Info.Preprocessing;
        bool idx = data is null || IdxDataSet.Mnist.HoldsFiles(data);
        if (idx)
        {
            if (p.Channels != 1 || p.Width != 28 || p.Height != 28)
            {
                throw new ArgumentException($"The model takes {p.Channels}x{p.Height}x{p.Width} images, not MNIST's 1x28x28: give images to verify on with --data (a folder per class or a CSV).");
            }
            return Mnist.Load(DataCommand.EnsureMnist(data, console, cancellationToken)).Test;
        }
        var options = new ImageFolderOptions { Width = p.Width, Height = p.Height, ColorMode = p.ColorMode, ValidationSplit = 0.5 };
        var loaded = ImageFolderData.Load(data!, options, cancellationToken: cancellationToken).Data;
        return loaded.Validation ?? loaded.Test;
    }
}
