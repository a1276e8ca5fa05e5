// Trains a small CNN on a folder of labelled images (one sub-folder per class) with MlPipeline.Training's NuGet
// package, exports it to ONNX, proves the export against TorchSharp and scores the folder with the exported file.
// Prints one line of figures; exits 1 when the export is not equal to the trained model.
using System.Globalization;
using MlPipeline.Data;
using MlPipeline.Scoring;
using MlPipeline.Training;
using MlPipeline.Training.Export;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: MlPipeline.PackageConsumer.Training IMAGE_FOLDER WORK_FOLDER");
    return 2;
}

string images = args[0];
string work = args[1];
ImageFolderLoad load = ImageFolderData.Load(images);   // 20 % of each class held out (the test set here)
TrainingResult result = ClassifierTrainer.Train(load.Data,
    new TrainingOptions { Run = new RunFolderOptions { OutputDirectory = Path.Combine(work, "run") }, Epochs = 2, Execution = new ExecutionOptions { Threads = 1 } });

string onnx = Path.Combine(work, "model.onnx");
using TrainedModel model = TrainedModel.Load(result.RunDirectory);
OnnxExporter.Export(model, onnx);
ExportVerification check = OnnxVerifier.Verify(model, onnx, load.Data.Test);

using ImageClassifier classifier = ImageClassifier.Load(onnx);
int scored = classifier.ScoreFolder(images, recursive: true).Count(r => r.Succeeded);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"trained {load.Data.Train.Count} images, {result.History.Count} epochs, accuracy {result.TestAccuracy:P1} on {load.Data.Test.Count}; " +
    $"export max |dlogit| {check.MaxAbsDifference:E1}, argmax agreement {check.ArgmaxAgreement:P0}: {(check.Passed ? "PASSED" : "FAILED")}; " +
    $"scored {scored} files with it"));
return check.Passed && scored > 0 ? 0 : 1;
