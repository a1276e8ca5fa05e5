using MlPipeline.Training.Models;
using TorchSharp;

namespace MlPipeline.Training.Tests.Reliability;

/// <summary>The training library's readers of run files (checkpoint, model.json) against seeded mutations (see <see cref="Fuzzer"/>).</summary>
[Category("Slow")]
public sealed class FuzzTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>A finished one-epoch run on 64 images, whose files the fuzzers start from.</summary>
    string TinyRun()
    {
        string run = Path.Combine(dir, "run");
        ClassifierTrainer.Train(Digits.Subset(64, 20), new TrainingOptions { Run = new RunFolderOptions { OutputDirectory = run }, Epochs = 1, Execution = new ExecutionOptions { Limit = 64, Threads = 1 }, BatchSize = 32 });
        return run;
    }

    [Test]
    public void LoadCheckpoint_MutatedBytes_LoadsOrInvalidData()
    {
        string checkpoint = Path.Combine(TinyRun(), Checkpoint.FileName);
        byte[] valid = File.ReadAllBytes(checkpoint);
        using var scope = torch.NewDisposeScope();
        var model = ModuleFactory.Build(ModelSpec.Cnn(10, 1, 28, 28));
        var optimizer = torch.optim.Adam(model.parameters());

        Fuzzer.Run<InvalidDataException>("checkpoint", valid, bytes =>
        {
            File.WriteAllBytes(checkpoint, bytes);
            Checkpoint.Load(checkpoint, model, optimizer);
        });
    }

    [Test]
    public void LoadRun_MutatedModelJson_LoadsOrInvalidData()
    {
        string run = TinyRun();
        string info = Path.Combine(run, ClassifierTrainer.ModelInfoFileName);
        byte[] valid = File.ReadAllBytes(info);

        Fuzzer.Run<InvalidDataException>("model.json", valid, bytes =>
        {
            File.WriteAllBytes(info, bytes);
            using var model = TrainedModel.Load(run);
        });
    }

}
