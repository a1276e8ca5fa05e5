using MlPipeline.Data;
using MlPipeline.Training.Export;

namespace MlPipeline.Training.Tests.Export;

/// <summary>Every export of a really trained model is proved equal to it in ONNX Runtime.</summary>
[TestFixture("cnn", 28)]
[TestFixture("mlp", 28)]
[TestFixture("resnet", 28)]
[TestFixture("resnet", 48)] // colour 48×48: the resnet pools after its stem and has a fourth block
public sealed class TrainedExportTests(string architecture, int size)
{
    TrainingData data = null!;
    string dir = "";
    TrainedModel? model;
    string onnx = "";

    [OneTimeSetUp]
    public void Train()
    {
        dir = TempDirectory.Create();
        data = size == 28
            ? Digits.Subset(1000, 300)
            : Digits.Mnist with { Train = Digits.Coloured(Digits.Mnist.Train.Take(600), size), Test = Digits.Coloured(Digits.Mnist.Test.Take(300), size) };
        var result = ClassifierTrainer.Train(data, new TrainingOptions
        {
            Run = new RunFolderOptions { OutputDirectory = Path.Combine(dir, "run") },
            Model = architecture,
            Epochs = 1,
            BatchSize = 32,
            Execution = new ExecutionOptions { Threads = 2 },
        });
        model = TrainedModel.Load(result.RunDirectory);
        onnx = Path.Combine(dir, "model.onnx");
        OnnxExporter.Export(model, onnx);
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        model?.Dispose();
        Directory.Delete(dir, recursive: true);
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(256)]
    public void Verify_TrainedModel_AgreesWithinTolerance(int batchSize)
    {
        var result = OnnxVerifier.Verify(model!, onnx, data.Test, count: 300, batchSize: batchSize);

        Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(1e-4));
        Assert.That(result.ArgmaxAgreement, Is.EqualTo(1.0));
        Assert.That(result.MaxProbabilityDifference, Is.LessThanOrEqualTo(1e-5));
        Assert.That(result.Passed, Is.True);
    }
}
