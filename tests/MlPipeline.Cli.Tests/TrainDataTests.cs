namespace MlPipeline.Cli.Tests;

/// <summary><c>train --data FOLDER</c> against data that must not be trained on as given: sets that share files, conflicting split options, a resume on changed data.</summary>
public sealed class TrainDataTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>Classes a and b of <paramref name="perClass"/> MNIST test digits each, named a0.png, b0.png, ….</summary>
    string TwoClasses(string name, int perClass)
    {
        string root = Path.Combine(dir, name);
        for (int i = 0; i < 2 * perClass; i++)
        {
            string label = i < perClass ? "a" : "b";
            Directory.CreateDirectory(Path.Combine(root, label));
            File.WriteAllBytes(Path.Combine(root, label, $"{label}{i % perClass}.png"), Digits.Png(i));
        }
        return root;
    }

    [TestCase("--test")]
    [TestCase("--val")]
    public async Task Train_SetIsTheDataFolder_ExitsTwoNamingAFileAndTheCount(string option)
    {
        string data = Digits.WritePngFolder(Path.Combine(dir, "digits"), 20);
        string run = Path.Combine(dir, "run");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, option, data, "--epochs", "1", "--out", run);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain($"and the training set '{data}' share 20 file(s), for example '{Path.Combine(data, "0")}"));
        Assert.That(error, Does.Not.Contain("Read "), "refused before any image is decoded");
        Assert.That(Directory.Exists(run), Is.False);
    }

    [Test]
    public async Task Train_ValTogetherWithValSplit_ExitsTwoNamingBoth()
    {
        string data = Digits.WritePngFolder(Path.Combine(dir, "digits"), 20);
        string val = Digits.WritePngFolder(Path.Combine(dir, "val"), 10);

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--val", val, "--val-split", "0.3", "--epochs", "1", "--out", Path.Combine(dir, "run"));

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain($"Give either --val {val} (a validation set) or --val-split 0.3 (a share of --data held out), not both"));
    }

    [Test]
    public async Task Train_ResumeAfterTwoClassFoldersSwappedTheirFiles_ExitsOneNamingBothClassesAndKeepsTheRun()
    {
        string data = TwoClasses("data", 6), run = Path.Combine(dir, "run");
        string[] common = ["train", "--data", data, "--val-split", "0.5", "--batch-size", "4", "--threads", "1", "--out", run];
        var (exit, _, error) = await CliRunner.Run([.. common, "--epochs", "1"]);
        Assert.That(exit, Is.Zero, error);
        byte[] checkpoint = File.ReadAllBytes(Path.Combine(run, "checkpoint.bin"));
        string modelJson = File.ReadAllText(Path.Combine(run, "model.json"));
        // Same counts, other files: what a resume must not take for the data it was trained on.
        Directory.Move(Path.Combine(data, "a"), Path.Combine(data, "swap"));
        Directory.Move(Path.Combine(data, "b"), Path.Combine(data, "a"));
        Directory.Move(Path.Combine(data, "swap"), Path.Combine(data, "b"));

        (exit, _, error) = await CliRunner.Run([.. common, "--epochs", "2", "--resume"]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("the data differs from the data it was trained on"));
        Assert.That(error, Does.Contain("class 'a' of the training set has the same 6 file count but other files or content").And.Contain("class 'b' of the training set"));
        Assert.That(error, Does.Contain("--resume-changed-data"));
        Assert.That(File.ReadAllBytes(Path.Combine(run, "checkpoint.bin")), Is.EqualTo(checkpoint));
        Assert.That(File.ReadAllText(Path.Combine(run, "model.json")), Is.EqualTo(modelJson), "dataChecksums are not rewritten");

        (exit, _, error) = await CliRunner.Run([.. common, "--epochs", "2", "--resume", "--resume-changed-data"]);

        Assert.That(exit, Is.Zero, error);
        Assert.That(File.ReadAllText(Path.Combine(run, "model.json")), Is.Not.EqualTo(modelJson));
    }

    [Test]
    public async Task Train_ResumeChangedData_AfterAFileWasRemoved_ContinuesOnTheSmallerSet()
    {
        string data = TwoClasses("data", 6), run = Path.Combine(dir, "run");
        string[] common = ["train", "--data", data, "--val-split", "0.5", "--batch-size", "4", "--threads", "1", "--out", run];
        var (exit, _, error) = await CliRunner.Run([.. common, "--epochs", "1"]);
        Assert.That(exit, Is.Zero, error);
        File.Delete(Directory.GetFiles(Path.Combine(data, "a")).Order(StringComparer.Ordinal).First());

        (exit, _, error) = await CliRunner.Run([.. common, "--epochs", "2", "--resume"]);
        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("--resume-changed-data"));

        // The option the refusal names continues the run: the count of training images is the data's, not a setting.
        (exit, _, error) = await CliRunner.Run([.. common, "--epochs", "2", "--resume", "--resume-changed-data"]);

        Assert.That(exit, Is.Zero, error);
        using var history = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "history.json")));
        Assert.That(history.RootElement.GetArrayLength(), Is.EqualTo(2), "the resumed run trained its second epoch");
    }

    [Test]
    public async Task Train_IntoAFinishedRunWithoutResume_IsRefusedBeforeItsImageCacheIsRebuilt()
    {
        string data = TwoClasses("data", 6), run = Path.Combine(dir, "run");
        string[] common = ["train", "--data", data, "--val-split", "0.5", "--batch-size", "4", "--epochs", "1", "--threads", "1", "--out", run];
        var (exit, _, error) = await CliRunner.Run([.. common, "--size", "28x28"]);
        Assert.That(exit, Is.Zero, error);
        string cache = Path.Combine(run, "images-training.bin");
        byte[] before = File.ReadAllBytes(cache);

        // Another size would need another cache: the refusal must come before the folder's cache is replaced.
        (exit, _, error) = await CliRunner.Run([.. common, "--size", "32x32"]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("already holds a checkpoint"));
        Assert.That(error, Does.Not.Contain("Decoding"));
        Assert.That(File.ReadAllBytes(cache), Is.EqualTo(before));
    }

    [Test]
    public async Task Train_ResumeWithAnotherBatchSize_IsRefusedBeforeAnyImageIsDecoded()
    {
        string data = TwoClasses("data", 6), run = Path.Combine(dir, "run");
        string[] common = ["train", "--data", data, "--val-split", "0.5", "--threads", "1", "--out", run];
        var (exit, _, error) = await CliRunner.Run([.. common, "--batch-size", "4", "--epochs", "1"]);
        Assert.That(exit, Is.Zero, error);
        string cache = Path.Combine(run, "images-training.bin");
        byte[] before = File.ReadAllBytes(cache);
        byte[] checkpoint = File.ReadAllBytes(Path.Combine(run, "checkpoint.bin"));

        (exit, _, error) = await CliRunner.Run([.. common, "--batch-size", "3", "--epochs", "2", "--resume"]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("batch size 4 (now 3)"));
        Assert.That(error, Does.Not.Contain("Decoding").And.Not.Contain("Reused"), "refused before the data is read");
        Assert.That(File.ReadAllBytes(cache), Is.EqualTo(before));
        Assert.That(File.ReadAllBytes(Path.Combine(run, "checkpoint.bin")), Is.EqualTo(checkpoint));
    }

    [Test]
    public async Task Train_ResumesRefusedForOtherSizes_KeepTheCacheTheRightResumeReuses()
    {
        string data = TwoClasses("data", 6), run = Path.Combine(dir, "run");
        string[] common = ["train", "--data", data, "--val-split", "0.5", "--batch-size", "4", "--threads", "1", "--out", run];
        var (exit, _, error) = await CliRunner.Run([.. common, "--size", "28x28", "--epochs", "1"]);
        Assert.That(exit, Is.Zero, error);
        string cache = Path.Combine(run, "images-training.bin");
        byte[] before = File.ReadAllBytes(cache);

        // The size is known only once the images are read: this resume decodes into a new cache, then is refused.
        // Twice: the second refused run must not put the first one's cache in the kept slot.
        foreach (string size in new[] { "32x32", "24x24" })
        {
            (exit, _, error) = await CliRunner.Run([.. common, "--size", size, "--epochs", "2", "--resume"]);
            Assert.That(exit, Is.EqualTo(1), error);
            Assert.That(error, Does.Contain("images read as"));
        }

        // The refused run's cache did not cost the first run's: the resume it should have been reuses it.
        (exit, _, error) = await CliRunner.Run([.. common, "--size", "28x28", "--epochs", "2", "--resume"]);

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Contain("Reused"));
        Assert.That(File.ReadAllBytes(cache), Is.EqualTo(before));
        Assert.That(File.Exists(Path.Combine(run, "images-training.previous.bin")), Is.False, "the slot is emptied once a run goes ahead");
        using var history = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "history.json")));
        Assert.That(history.RootElement.GetArrayLength(), Is.EqualTo(2));
    }

    [Test]
    public async Task Train_ResumeChangedDataWithoutResume_ExitsTwo()
    {
        var (exit, _, error) = await CliRunner.Run("train", "--data", TwoClasses("data", 2), "--resume-changed-data", "--out", Path.Combine(dir, "run"));

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("--resume-changed-data applies to --resume"));
    }

    [Test]
    public async Task Train_SizeTheModelCannotTake_ExitsTwoBeforeDecodingNamingTheLimit()
    {
        string data = TwoClasses("data", 25), run = Path.Combine(dir, "run");

        // 4096x4096 RGB: the cnn is far over the parameter limit, whether the images would go to memory or to the cache file.
        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--size", "4096x4096", "--color", "rgb", "--epochs", "1", "--out", run);
        var (inMemory, _, memoryError) = await CliRunner.Run("train", "--data", data, "--size", "4096x4096", "--color", "rgb", "--epochs", "1", "--out", run, "--image-cache", "memory");

        foreach (var (code, message) in new[] { (exit, error), (inMemory, memoryError) })
        {
            Assert.That(code, Is.EqualTo(2), message);
            Assert.That(message, Does.Contain("Model 'cnn' has 4,261,534,914 parameters, over the limit of 250,000,000"));
            Assert.That(message, Does.Not.Contain("images in 2 classes, read as"), "refused before sampling");
        }
        Assert.That(Directory.Exists(run), Is.False);
    }

    [Test]
    public async Task Train_TiffFilesInClassFolders_SaysOnceTheFormatIsNotSupported()
    {
        string data = TwoClasses("data", 4), test = TwoClasses("test", 2);
        File.WriteAllText(Path.Combine(data, "a", "scan.tif"), "II*");
        File.WriteAllText(Path.Combine(test, "b", "scan.pgm"), "P5");

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--test", test, "--epochs", "1", "--threads", "1", "--out", Path.Combine(dir, "run"));

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Contain("warning: 2 file(s) in an image format that is not supported (1 .pgm, 1 .tif) were skipped; the supported formats are png, jpg, jpeg, bmp, gif, webp"));
        Assert.That(error.Split("not supported").Length, Is.EqualTo(2), "said once");
    }

    [Test]
    public async Task Train_ClassFolderOfCorruptFiles_IsLeftOutOfModelJsonAndTheOnnxLabels()
    {
        string data = TwoClasses("data", 6), run = Path.Combine(dir, "run"), onnx = Path.Combine(dir, "m.onnx");
        Directory.CreateDirectory(Path.Combine(data, "c"));
        for (int i = 0; i < 3; i++) { File.WriteAllBytes(Path.Combine(data, "c", $"{i}.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]); }

        var (exit, _, error) = await CliRunner.Run("train", "--data", data, "--val-split", "0.5", "--epochs", "1", "--threads", "1", "--out", run, "--onnx", onnx);

        Assert.That(exit, Is.Zero, error);
        Assert.That(error, Does.Contain($"warning: class folder '{Path.Combine(data, "c")}': none of its 3 image file(s) could be decoded").And.Contain("so 'c' is left out of the labels"));
        Assert.That(error, Does.Not.Contain("0 image(s)"));
        using (var model = MlPipeline.Training.TrainedModel.Load(run)) { Assert.That(model.Info.Labels, Is.EqualTo(new[] { "a", "b" })); }
        using var classifier = MlPipeline.Scoring.ImageClassifier.Load(onnx);
        Assert.That(classifier.Labels, Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public async Task Train_TwoClassFoldersOneAllCorrupt_ExitsOneInsteadOfAPerfectScore()
    {
        string data = TwoClasses("data", 4);
        foreach (string file in Directory.GetFiles(Path.Combine(data, "b"))) { File.WriteAllText(file, "not an image"); }

        var (exit, output, error) = await CliRunner.Run("train", "--data", data, "--epochs", "1", "--threads", "1", "--out", Path.Combine(dir, "run"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("has 1 class with a decodable image (only 'a'); a classifier needs at least two"));
        Assert.That(output, Does.Not.Contain("Test accuracy"));
    }
}
