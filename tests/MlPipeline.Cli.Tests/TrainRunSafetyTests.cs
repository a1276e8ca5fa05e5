namespace MlPipeline.Cli.Tests;

/// <summary>
/// A trained run and its neighbours are safe from the next command: outputs never land on another run's files, a
/// resume with other preprocessing or another model is refused by name before any weight is loaded, a limit that
/// drops a class is refused, and a two-class model is scored and evaluated with the default top-k.
/// </summary>
public sealed class TrainRunSafetyTests
{
    string dir = "";
    string data = "";

    [SetUp]
    public void SetUp()
    {
        dir = TempDirectory.Create();
        // Two classes, a and b, of 6 MNIST digits each: the folder is read class by class.
        data = Path.Combine(dir, "data");
        for (int i = 0; i < 12; i++)
        {
            string label = i < 6 ? "a" : "b";
            Directory.CreateDirectory(Path.Combine(data, label));
            File.WriteAllBytes(Path.Combine(data, label, $"{label}{i % 6}.png"), Digits.Png(i));
        }
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string F(string name) => Path.Combine(dir, name);

    string[] Train(string run, params string[] more) => ["train", "--data", data, "--val-split", "0.5", "--batch-size", "4", "--threads", "1", "--epochs", "1", "--out", run, .. more];

    [Test]
    public async Task TrainOnnxAndExportOut_AnotherRunsFile_ExitTwoLeavingItUntouched()
    {
        var (exit, _, error) = await CliRunner.Run(Train(F("runA")));
        Assert.That(exit, Is.Zero, error);
        byte[] checkpoint = File.ReadAllBytes(F("runA/checkpoint.bin")), model = File.ReadAllBytes(F("runA/model.json"));

        var (onnxExit, _, onnxError) = await CliRunner.Run(Train(F("runB"), "--onnx", F("runA/checkpoint.bin")));
        var (exportExit, _, exportError) = await CliRunner.Run("export", "--run", F("runA"), "--out", F("runB-model.onnx"));
        var (overExit, _, overError) = await CliRunner.Run("export", "--run", F("runA"), "--out", F("runA/model.json"));
        var (folderExit, _, folderError) = await CliRunner.Run(Train(F("runC"), "--onnx", F("runC")));
        var (slashExit, _, slashError) = await CliRunner.Run(Train(F("runD"), "--onnx", F("new") + "/"));
        var (otherFolderExit, _, otherFolderError) = await CliRunner.Run("export", "--run", F("runA"), "--out", F("runA"));

        Assert.That((onnxExit, exportExit, overExit, folderExit, slashExit, otherFolderExit), Is.EqualTo((2, 0, 2, 2, 2, 2)), onnxError + exportError + overError + folderError + slashError + otherFolderError);
        Assert.That(slashError, Does.Contain("names a folder; the model is a file"));
        Assert.That(Directory.Exists(F("runD")), Is.False, "refused before any work");
        Assert.That(onnxError, Does.Contain($"--onnx '{F("runA/checkpoint.bin")}' is the checkpoint.bin of the run in '{F("runA")}'"));
        Assert.That(overError, Does.Contain("is the run's own model.json"));
        Assert.That(folderError, Does.Contain($"--onnx '{F("runC")}' is the run folder itself"));
        Assert.That(folderError, Does.Not.Contain("Epoch"), "refused before training");
        Assert.That(File.ReadAllBytes(F("runA/checkpoint.bin")), Is.EqualTo(checkpoint));
        Assert.That(File.ReadAllBytes(F("runA/model.json")), Is.EqualTo(model));
        Assert.That(Directory.Exists(F("runB")), Is.False, "refused before any work");
    }

    [TestCase("--background", "white", "images read as gray")]
    [TestCase("--resize", "crop", "images read as gray")]
    [TestCase("--model", "mlp", "model 'cnn' on 1x28x28 inputs (now model 'mlp' on 1x28x28 inputs)")]
    [TestCase("--size", "20x20", "model 'cnn' on 1x28x28 inputs (now model 'cnn' on 1x20x20 inputs)")]
    [TestCase("--label-smoothing", "0.1", "it was trained with label smoothing 0 (now 0.1). Resume with")]
    [TestCase("--lr-schedule", "cosine", "it was trained with learning-rate schedule constant (now cosine). Resume with")]
    public async Task TrainResume_OtherPreprocessingOrModel_ExitsOneNamingItAndKeepsTheRun(string option, string value, string expected)
    {
        string run = F("run");
        var (exit, _, error) = await CliRunner.Run(Train(run));
        Assert.That(exit, Is.Zero, error);
        byte[] model = File.ReadAllBytes(Path.Combine(run, "model.json"));

        var (resumed, _, resumeError) = await CliRunner.Run([.. Train(run, "--resume", option, value)]);

        Assert.That(resumed, Is.EqualTo(1), resumeError);
        Assert.That(resumeError, Does.Contain("Cannot resume").And.Contain(expected));
        Assert.That(resumeError, Does.Not.Contain("corrupt"));
        Assert.That(File.ReadAllBytes(Path.Combine(run, "model.json")), Is.EqualTo(model), "the finished run is as it was");
    }

    [Test]
    public async Task Train_LimitThatKeepsNoImageOfAClass_ExitsTwoNamingTheClass()
    {
        var (exit, _, error) = await CliRunner.Run(Train(F("run"), "--limit", "2"));

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("Limit 2 keeps the first 2 training images, and they hold no image of class 'b'"));
    }

    [Test]
    public async Task ScoreAndEvaluate_TwoClassModelWithTheDefaultTopK_TakeBothClasses()
    {
        var (exit, _, error) = await CliRunner.Run(Train(F("run"), "--onnx", F("two.onnx")));
        Assert.That(exit, Is.Zero, error);

        var (scored, _, scoreError) = await CliRunner.Run("score", "--model", F("two.onnx"), "--input", data, "--recursive", "--output", F("p.csv"));
        var (evaluated, evaluation, evaluateError) = await CliRunner.Run("evaluate", "--model", F("two.onnx"), "--input", data);
        var (given, _, givenError) = await CliRunner.Run("score", "--model", F("two.onnx"), "--input", data, "--recursive", "--top-k", "3", "--output", F("q.csv"));

        Assert.That((scored, evaluated, given), Is.EqualTo((0, 0, 2)), scoreError + evaluateError + givenError);
        Assert.That(File.ReadLines(F("p.csv")).First(), Is.EqualTo("path,label,confidence,top1_label,top1_probability,top2_label,top2_probability"));
        Assert.That(evaluation, Does.Contain("top-2 accuracy"));
        Assert.That(givenError, Does.Contain("--top-k must be at most the model's 2 classes, but was 3"));
    }

    [Test]
    public async Task Train_DataIsAnImage_ExitsOneSayingWhatDataTakes()
    {
        var (exit, _, error) = await CliRunner.Run("train", "--data", Path.Combine(data, "a", "a0.png"), "--epochs", "1", "--out", F("run"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("is an image, not a CSV of path,label rows"));
    }

    [Test]
    public async Task TrainResume_FewerEpochsThanDone_SaysNothingMoreWasTrained()
    {
        string run = F("run");
        string[] twice = [.. Train(run)[..^4], "--epochs", "2", "--out", run];
        var (exit, _, error) = await CliRunner.Run(twice);
        Assert.That(exit, Is.Zero, error);

        var (resumed, _, resumeError) = await CliRunner.Run(Train(run, "--resume"));

        Assert.That(resumed, Is.Zero, resumeError);
        Assert.That(resumeError, Does.Contain("note: the run had already trained 2 epochs, more than --epochs 1: nothing more was trained"));
    }
}
