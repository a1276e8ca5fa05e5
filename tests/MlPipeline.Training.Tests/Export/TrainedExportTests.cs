using MlPipeline.Training.Export;

namespace MlPipeline.Training.Tests.Export;

/// <summary>Every export of a really trained model is proved equal to it in ONNX Runtime.</summary>
[TestFixture("cnn")]
[TestFixture("mlp")]
[TestFixture("resnet")]
public sealed class TrainedExportTests(string architecture)
{
    string dir = "";
    TrainedModel? model;
    string onnx = "";

    [OneTimeSetUp]
    public void Train()
    {
        dir = TempDirectory.Create();
        var result = ClassifierTrainer.Train(Digits.Subset(1000, 300), new TrainingOptions
        {
            OutputDirectory = Path.Combine(dir, "run"),
            Model = architecture,
            Epochs = 1,
            BatchSize = 32,
            Threads = 2,
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
        var result = OnnxVerifier.Verify(model!, onnx, Digits.Mnist.Test, count: 300, batchSize: batchSize);

        Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(1e-4));
        Assert.That(result.ArgmaxAgreement, Is.EqualTo(1.0));
        Assert.That(result.MaxProbabilityDifference, Is.LessThanOrEqualTo(1e-5));
        Assert.That(result.Passed, Is.True);
    }
}
