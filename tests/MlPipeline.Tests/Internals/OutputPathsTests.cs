using MlPipeline.Internals;

namespace MlPipeline.Tests.Internals;

/// <summary>The one rule for outputs: never an input of the run, and only into new, empty or own folders.</summary>
public sealed class OutputPathsTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string F(string name) => Path.Combine(dir, name);

    [Test]
    public void RequireNotAnInput_OutputIsAnInputFileOrAFileOfAnInputFolder_IsRefusedNamingBoth()
    {
        Directory.CreateDirectory(F("data/1"));
        File.WriteAllBytes(F("data/1/1004.png"), [1]);
        File.WriteAllText(F("labels.csv"), "path,label\n");
        File.CreateSymbolicLink(F("link.onnx"), F("data/1/1004.png"));
        OutputPaths.Input[] inputs = [new(F("labels.csv"), "--data"), new(F("data"), "--val")];

        var csv = Assert.Throws<ArgumentException>(() => OutputPaths.RequireNotAnInput(F("labels.csv"), "--onnx", inputs));
        var image = Assert.Throws<ArgumentException>(() => OutputPaths.RequireNotAnInput(F("data/1/../1/1004.png"), "--onnx", inputs));
        var link = Assert.Throws<ArgumentException>(() => OutputPaths.RequireNotAnInput(F("link.onnx"), "--onnx", inputs));

        Assert.That(csv!.Message, Does.Contain($"--onnx '{F("labels.csv")}' is the file --data '{F("labels.csv")}' reads"));
        Assert.That(image!.Message, Does.Contain($"one of the files of --val '{F("data")}'"));
        Assert.That(link!.Message, Does.Contain("1004.png").And.Contain("would destroy an input"));
        Assert.That(() => OutputPaths.RequireNotAnInput(F("model.onnx"), "--onnx", inputs), Throws.Nothing, "a new file");
        File.WriteAllBytes(F("old.onnx"), [2]);
        Assert.That(() => OutputPaths.RequireNotAnInput(F("old.onnx"), "--onnx", inputs), Throws.Nothing, "an existing file that is no input");
    }

    [Test]
    public void RequireNewEmptyOrOwn_FolderOfOtherFiles_IsRefusedNamingOneAndOwnOrEmptyFoldersAreFine()
    {
        Directory.CreateDirectory(F("user"));
        File.WriteAllText(F("user/metrics.json"), "{}");
        Directory.CreateDirectory(F("own"));
        File.WriteAllText(F("own/metrics.json"), "{}");
        File.WriteAllText(F("own/.marker"), "");
        Directory.CreateDirectory(F("empty"));
        Directory.CreateDirectory(F("cache"));
        File.WriteAllText(F("cache/features.bin"), "");
        File.WriteAllText(F("a-file"), "");

        var user = Assert.Throws<IOException>(() => OutputPaths.RequireNewEmptyOrOwn(F("user"), ".marker", "The report folder", "it would be replaced"));
        var file = Assert.Throws<IOException>(() => OutputPaths.RequireNewEmptyOrOwn(F("a-file"), ".marker", "The report folder", "-"));

        Assert.That(user!.Message, Is.EqualTo($"The report folder '{F("user")}' already holds files that MlPipeline did not write there (for example 'metrics.json'); it would be replaced. Choose a new or empty folder."));
        Assert.That(file!.Message, Does.Contain("is a file; expected a folder"));
        foreach (string fine in new[] { "own", "empty", "new" }) { Assert.That(() => OutputPaths.RequireNewEmptyOrOwn(F(fine), ".marker", "x", "y"), Throws.Nothing, fine); }
        Assert.That(() => OutputPaths.RequireNewEmptyOrOwn(F("cache"), ".marker", "x", "y", "features.bin"), Throws.Nothing, "a welcome file");
        Assert.That(() => OutputPaths.RequireNewEmptyOrOwn(F("cache"), ".marker", "x", "y"), Throws.TypeOf<IOException>());
        Assert.That(File.ReadAllText(F("user/metrics.json")), Is.EqualTo("{}"));
    }
}
