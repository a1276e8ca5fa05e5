using System.CommandLine;
using System.Globalization;
using MlPipeline.Training;
using MlPipeline.Training.Data;
using MlPipeline.Training.Export;

namespace MlPipeline.Cli.Commands;

/// <summary><c>mlpipeline export</c>: writes a run's model as ONNX and, with --verify, proves it equal to the trained model.</summary>
internal static class ExportCommand
{
    static readonly Option<string> Run = new("--run") { Description = "Run folder written by 'mlpipeline train'", Required = true };
    static readonly Option<string> Out = new("--out") { Description = "ONNX file to write", Required = true };
    static readonly Option<int> Opset = CreateOpset();
    static readonly Option<bool> Verify = new("--verify") { Description = "Compare ONNX Runtime with TorchSharp on MNIST test images" };
    static readonly Option<int> VerifyImages = CliOptions.Positive("--verify-images", "Test images compared by --verify", 1000);
    static readonly Option<string?> Data = new("--data") { Description = "MNIST folder for --verify (default: the per-user cache)" };

    public static Command Create(CliConsole console)
    {
        var command = new Command("export", "Export a trained run to ONNX.") { Run, Out, Opset, Verify, VerifyImages, Data };
        command.SetAction((parse, cancellationToken) =>
        {
            using var model = TrainedModel.Load(parse.GetValue(Run)!);
            bool passed = ExportAndReport(model, parse.GetValue(Out)!, parse.GetValue(Opset), parse.GetValue(Verify),
                parse.GetValue(VerifyImages), parse.GetValue(Data), console, cancellationToken);
            return Task.FromResult(passed ? ExitCodes.Success : ExitCodes.Failure);
        });
        return command;
    }

    static Option<int> CreateOpset()
    {
        var option = new Option<int>("--opset") { Description = $"ONNX opset, {OnnxExportOptions.MinOpset} to {OnnxExportOptions.MaxOpset} (default 17)", DefaultValueFactory = _ => 17 };
        option.Validators.Add(result =>
        {
            if (CliOptions.TryGet(result, out int value) && value is < OnnxExportOptions.MinOpset or > OnnxExportOptions.MaxOpset)
            {
                result.AddError($"--opset must be from {OnnxExportOptions.MinOpset} to {OnnxExportOptions.MaxOpset}, but was {value}.");
            }
        });
        return option;
    }

    /// <summary>Exports, optionally verifies, and prints what happened; false when verification failed.</summary>
    public static bool ExportAndReport(TrainedModel model, string path, int opset, bool verify, int images, string? data, CliConsole console, CancellationToken cancellationToken)
    {
        OnnxExporter.Export(model, path, new OnnxExportOptions { Opset = opset });
        console.Out.WriteLine($"Wrote {Path.GetFullPath(path)} (opset {opset}, {new FileInfo(path).Length / 1024.0:F0} KiB).");
        if (!verify) { return true; }
        var test = Mnist.Load(DataCommand.EnsureMnist(data, console, cancellationToken)).Test;
        var result = OnnxVerifier.Verify(model, path, test, images);
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Verified on {result.Images} test images: max |logit difference| {result.MaxAbsDifference:E2} (tolerance {ExportVerification.Tolerance:E0}), argmax agreement {result.ArgmaxAgreement:P2}, max |probability difference| {result.MaxProbabilityDifference:E2}: {(result.Passed ? "PASSED" : "FAILED")}"));
        return result.Passed;
    }
}
