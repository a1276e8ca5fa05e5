namespace MlPipeline.Cli.Tests;

/// <summary><c>merge</c> refuses shards that are not the parts of one run of one listing of one folder with one model, and files changed since they were scored, by name.</summary>
[Category("Slow")]
public sealed class MergeChecksTests
{
    string dir = "";
    string input = "";

    [SetUp]
    public void SetUp()
    {
        dir = TempDirectory.Create();
        input = ScoredFolder.Create(dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string F(string name) => Path.Combine(dir, name);

    async Task ScoreShards(string folder, string prefix, int count, params string[] extra)
    {
        for (int k = 0; k < count; k++)
        {
            var (exit, _, error) = await CliRunner.Run(["score", "--input", folder, "--recursive", "--shard", $"{k}/{count}", "--output", F($"{prefix}{k}.csv"), .. extra]);
            Assert.That(exit, Is.AnyOf(0, 3), error);
        }
    }

    [Test]
    public async Task Merge_ShardOfAnotherFolder_IsRefusedNamingTheDifferences()
    {
        await ScoreShards(input, "a", 2);
        await ScoreShards(Digits.WritePngFolder(Path.Combine(dir, "small"), 30), "b", 2);

        var (exit, _, error) = await CliRunner.Run("merge", "--out", F("m.csv"), F("a0.csv"), F("b1.csv"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"Shard '{F("b1.csv")}' was not scored like '{F("a0.csv")}': the folder's image count (62 in the first, 30 in this one); the input folder ('{input}' in the first, '{Path.Combine(dir, "small")}' in this one)"));
        Assert.That(File.Exists(F("m.csv")), Is.False);
    }

    [Test]
    public async Task Merge_ShardFileShortOfRowsOrChanged_IsRefusedByName()
    {
        await ScoreShards(input, "s", 2);
        string[] lines = File.ReadAllLines(F("s1.csv"));
        foreach (string copy in new[] { "short", "changed" })
        {
            File.Copy(F("s1.csv.shard.json"), F($"{copy}.csv.shard.json"));
            if (File.Exists(F("s1.csv.errors.csv"))) { File.Copy(F("s1.csv.errors.csv"), F($"{copy}.csv.errors.csv")); }
        }
        File.WriteAllLines(F("short.csv"), lines[..^5]);
        File.WriteAllLines(F("changed.csv"), [.. lines[..^1], lines[^1].Replace(",0.", ",1.", StringComparison.Ordinal)]);
        Assert.That(File.ReadAllText(F("changed.csv")), Is.Not.EqualTo(File.ReadAllText(F("s1.csv"))));

        var (shortExit, _, shortError) = await CliRunner.Run("merge", "--out", F("m.csv"), F("s0.csv"), F("short.csv"));
        var (changedExit, _, changedError) = await CliRunner.Run("merge", "--out", F("m.csv"), F("s0.csv"), F("changed.csv"));

        Assert.That((shortExit, changedExit), Is.EqualTo((1, 1)));
        Assert.That(shortError, Does.Contain($"Shard file '{F("short.csv")}' holds {lines.Length - 6} predictions"));
        Assert.That(shortError, Does.Contain("the file is incomplete or was changed; score shard 1/2 again"));
        Assert.That(changedError, Does.Contain($"Shard file '{F("changed.csv")}' (or its errors file) was changed after shard 1/2 was scored"));
        Assert.That(File.Exists(F("m.csv")), Is.False);
    }

    [Test]
    public async Task Merge_ShardCutMidRow_NamesTheFileAndLine()
    {
        await ScoreShards(input, "s", 2);
        byte[] bytes = File.ReadAllBytes(F("s1.csv"));
        File.WriteAllBytes(F("s1.csv"), bytes[..^12]);
        int lastLine = File.ReadAllLines(F("s1.csv")).Length;

        var (exit, _, error) = await CliRunner.Run("merge", "--out", F("m.csv"), F("s0.csv"), F("s1.csv"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"'{F("s1.csv")}' line {lastLine} has "));
        Assert.That(error, Does.Contain("field(s), but its header has 9"));
    }

    [Test]
    public async Task Merge_ModelsKnownByContent_OneFileByTwoPathsIsAcceptedTwoFilesAtOnePathAreNot()
    {
        string model = F("model.onnx");
        byte[] original = File.ReadAllBytes(Repository.File(Path.Combine("onnx", "mnist-cnn.onnx")));
        File.WriteAllBytes(model, original);
        Directory.CreateDirectory(F("sub"));
        await CliRunner.Run("score", "--input", input, "--recursive", "--model", model, "--output", F("single.csv"));
        await CliRunner.Run("score", "--input", input, "--recursive", "--model", model, "--shard", "0/2", "--output", F("s0.csv"));
        await CliRunner.Run("score", "--input", input, "--recursive", "--model", Path.Combine(dir, "sub", "..", "model.onnx"), "--shard", "1/2", "--output", F("s1.csv"));
        var (sameExit, _, sameError) = await CliRunner.Run("merge", "--out", F("same.csv"), F("s0.csv"), F("s1.csv"));
        File.WriteAllBytes(model, OnnxModels.Edit(original, m => m.DocString = "retrained"));
        await CliRunner.Run("score", "--input", input, "--recursive", "--model", model, "--shard", "1/2", "--output", F("other1.csv"));

        var (otherExit, _, otherError) = await CliRunner.Run("merge", "--out", F("other.csv"), F("s0.csv"), F("other1.csv"));

        Assert.That(sameExit, Is.Zero, sameError);
        Assert.That(File.ReadAllBytes(F("same.csv")), Is.EqualTo(File.ReadAllBytes(F("single.csv"))));
        Assert.That(otherExit, Is.EqualTo(1), otherError);
        Assert.That(otherError, Does.Contain("was not scored like").And.Contain($"the model ({model}, sha256:"));
        Assert.That(File.Exists(F("other.csv")), Is.False);
    }

    [Test]
    public async Task Merge_FifoAsAShardManifest_IsRefusedWithoutBlocking()
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False);
        await ScoreShards(input, "s", 2);
        File.Delete(F("s1.csv.shard.json"));
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [F("s1.csv.shard.json")])) { mkfifo.WaitForExit(); }

        var (exit, _, error) = await CliRunner.Run("merge", "--out", F("m.csv"), F("s0.csv"), F("s1.csv")).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"Shard manifest '{F("s1.csv.shard.json")}' is a special file"));
    }

    [Test]
    public async Task Merge_ShardsOfTwoListingsOfTheFolder_AreRefused()
    {
        string folder = Digits.WritePngFolder(Path.Combine(dir, "changing"), 40);
        await CliRunner.Run("score", "--input", folder, "--recursive", "--shard", "0/2", "--output", F("l0.csv"));
        // One file of shard 0 goes and another of shard 0 comes: the folder's count is the same.
        string gone = Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories).First(f => MlPipeline.Scoring.Shard.Of(Path.GetRelativePath(folder, f), 2) == 0);
        string came = Enumerable.Range(0, 1000).Select(i => Path.Combine(folder, "9", $"new{i}.png")).First(f => MlPipeline.Scoring.Shard.Of(Path.GetRelativePath(folder, f), 2) == 0);
        File.Move(gone, came);
        await CliRunner.Run("score", "--input", folder, "--recursive", "--shard", "1/2", "--output", F("l1.csv"));

        var (exit, _, error) = await CliRunner.Run("merge", "--out", F("m.csv"), F("l0.csv"), F("l1.csv"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("the folder's files (images were added, removed or renamed between the two runs)"));
    }

    [Test]
    public async Task Merge_OneFolderByTwoPaths_IsOneFolder()
    {
        Assume.That(OperatingSystem.IsWindows(), Is.False);
        File.CreateSymbolicLink(F("linked"), input);
        await CliRunner.Run("score", "--input", input + "/", "--recursive", "--shard", "0/2", "--output", F("p0.csv"));
        await CliRunner.Run("score", "--input", F("linked"), "--recursive", "--shard", "1/2", "--output", F("p1.csv"));
        await CliRunner.Run("score", "--input", input, "--recursive", "--output", F("single.csv"));

        var (exit, _, error) = await CliRunner.Run("merge", "--out", F("m.csv"), F("p0.csv"), F("p1.csv"));

        Assert.That(exit, Is.Zero, error);
        Assert.That(File.ReadAllBytes(F("m.csv")), Is.EqualTo(File.ReadAllBytes(F("single.csv"))));
    }

    [Test]
    public async Task Merge_ErrorsFileBesideOutIsAShard_ExitsTwoOverwritingNothing()
    {
        await ScoreShards(input, "s", 2);
        File.Copy(F("s0.csv"), F("z.csv.errors.csv"));
        File.Copy(F("s0.csv.shard.json"), F("z.csv.errors.csv.shard.json"));
        byte[] before = File.ReadAllBytes(F("z.csv.errors.csv"));

        var (exit, _, error) = await CliRunner.Run("merge", "--out", F("z.csv"), F("z.csv.errors.csv"), F("s1.csv"));

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain($"--out '{F("z.csv")}' would write '{F("z.csv.errors.csv")}', which is '{F("z.csv.errors.csv")}', one of the shards' own files"));
        Assert.That(File.ReadAllBytes(F("z.csv.errors.csv")), Is.EqualTo(before));
    }
}
