namespace MlPipeline.Cli.Tests;

/// <summary><c>score --shard K/N</c> in separate processes, then <c>merge</c>: the same file as one unsharded run.</summary>
[Category("Slow")]
public sealed class ShardedScoringTests
{
    string dir = "";
    string input = "";

    [SetUp]
    public void SetUp()
    {
        dir = TempDirectory.Create();
        input = Digits.WritePngFolder(Path.Combine(dir, "digits"), 60);
        // Two files that fail, so that the errors files are merged too.
        File.WriteAllBytes(Path.Combine(input, "3", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        File.WriteAllBytes(Path.Combine(input, "7", "empty.png"), []);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    string F(string name) => Path.Combine(dir, name);

    [Test]
    public async Task Score_FourShardProcessesMerged_EqualTheSingleRunByteForByte()
    {
        var (exit, _, error) = await CliRunner.Run("score", "--input", input, "--recursive", "--probabilities", "--output", F("single.csv"));
        Assert.That(exit, Is.EqualTo(3), error);

        var processes = Enumerable.Range(0, 4).Select(k => new CliProcess("score", "--input", input, "--recursive", "--probabilities", "--shard", $"{k}/4", "--output", F($"s{k}.csv"))).ToList();
        try
        {
            foreach (var p in processes) { Assert.That(p.Exit(TimeSpan.FromMinutes(2)), Is.AnyOf(0, 3), p.Error); }
        }
        finally
        {
            foreach (var p in processes) { p.Dispose(); }
        }
        var shardRows = Enumerable.Range(0, 4).Select(k => File.ReadAllLines(F($"s{k}.csv")).Length - 1).ToList();
        (exit, _, error) = await CliRunner.Run(["merge", "--out", F("merged.csv"), .. Enumerable.Range(0, 4).Select(k => F($"s{k}.csv")).Reverse()]);

        Assert.That(exit, Is.Zero, error);
        Assert.That(shardRows.Sum(), Is.EqualTo(60), "every image scored in exactly one shard");
        Assert.That(shardRows, Has.All.GreaterThan(0), "60 files spread over 4 shards");
        Assert.That(File.ReadAllBytes(F("merged.csv")), Is.EqualTo(File.ReadAllBytes(F("single.csv"))));
        Assert.That(File.ReadAllBytes(F("merged.csv.errors.csv")), Is.EqualTo(File.ReadAllBytes(F("single.csv.errors.csv"))));

        // The merged file evaluates to the figures of scoring the folder again, with no second pass.
        var (fromFile, fileOut, fileError) = await CliRunner.Run("evaluate", "--input", input, "--predictions", F("merged.csv"));
        var (fromModel, modelOut, _) = await CliRunner.Run("evaluate", "--input", input);
        Assert.That((fromFile, fromModel), Is.EqualTo((3, 3)), fileError);
        Assert.That(fileOut.Split('\n')[1..], Is.EqualTo(modelOut.Split('\n')[1..]), "everything but the model line");
        Assert.That(fileOut, Does.Contain("60 scored, 2 failed"));
    }

    [Test]
    public async Task Evaluate_PredictionsWithoutProbabilities_SaysToScoreWithThem()
    {
        await CliRunner.Run("score", "--input", input, "--recursive", "--output", F("p.csv"));

        var (exit, _, error) = await CliRunner.Run("evaluate", "--input", input, "--predictions", F("p.csv"));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("has no class probabilities (p_<label> columns); score with --probabilities"));
    }

    [Test]
    public async Task Score_JsonLinesShards_MergeToTheSingleRun()
    {
        await CliRunner.Run("score", "--input", input, "--recursive", "--output", F("single.jsonl"));
        await CliRunner.Run("score", "--input", input, "--recursive", "--shard", "0/2", "--output", F("a.jsonl"));
        await CliRunner.Run("score", "--input", input, "--recursive", "--shard", "1/2", "--output", F("b.jsonl"));

        var (exit, _, error) = await CliRunner.Run("merge", "--out", F("merged.jsonl"), F("b.jsonl"), F("a.jsonl"));

        Assert.That(exit, Is.Zero, error);
        Assert.That(File.ReadAllText(F("merged.jsonl")), Is.EqualTo(File.ReadAllText(F("single.jsonl"))));
    }

    [Test]
    public async Task Merge_MissingOrOverlappingShards_AreRefusedByName()
    {
        for (int k = 0; k < 3; k++) { await CliRunner.Run("score", "--input", input, "--recursive", "--shard", $"{k}/3", "--output", F($"s{k}.csv")); }
        File.Copy(F("s0.csv"), F("again.csv"));
        File.Copy(F("s0.csv.shard.json"), F("again.csv.shard.json"));
        File.Copy(F("s0.csv"), F("bare.csv"));

        var (missingExit, _, missing) = await CliRunner.Run("merge", "--out", F("m.csv"), F("s0.csv"), F("s2.csv"));
        var (overlapExit, _, overlap) = await CliRunner.Run("merge", "--out", F("m.csv"), F("s0.csv"), F("s1.csv"), F("s2.csv"), F("again.csv"));
        var (bareExit, _, bare) = await CliRunner.Run("merge", "--out", F("m.csv"), F("bare.csv"), F("s1.csv"), F("s2.csv"));
        var (ownExit, _, own) = await CliRunner.Run("merge", "--out", F("s1.csv"), F("s0.csv"), F("s1.csv"), F("s2.csv"));

        Assert.That((missingExit, overlapExit, bareExit), Is.EqualTo((1, 1, 1)));
        Assert.That(missing, Does.Contain("Shards missing: 1/3 (given: 0/3, 2/3)"));
        Assert.That(overlap, Does.Contain($"Shards overlap: shard 0/3 is in both '{F("s0.csv")}' and '{F("again.csv")}'"));
        Assert.That(bare, Does.Contain($"Shard file '{F("bare.csv")}' has no manifest"));
        Assert.That(ownExit, Is.EqualTo(2));
        Assert.That(own, Does.Contain("one of the shards' own files"));
        Assert.That(File.Exists(F("m.csv")), Is.False);
    }

    [TestCase("4/4", "Shard 4 of 4 does not exist; expected 0 to 3")]
    [TestCase("0/0", "The number of shards must be from 1 to 1000000, but was 0")]
    [TestCase("-1/4", "Shard '-1/4' is not of the form K/N")]
    [TestCase("1/2/3", "Shard '1/2/3' is not of the form K/N")]
    [TestCase("half", "Shard 'half' is not of the form K/N")]
    public async Task Score_BadShard_ExitsTwoNamingTheValue(string shard, string expected)
    {
        var (exit, _, error) = await CliRunner.Run("score", "--input", input, "--recursive", "--shard", shard, "--output", F("p.csv"));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain(expected));
        Assert.That(File.Exists(F("p.csv")), Is.False);
    }

    [TestCase(new[] { "--shard", "0/4" }, "--shard needs --output")]
    [TestCase(new[] { "--shards", "4", "--output", "{F}/p.csv" }, "--shards goes with --shard auto")]
    [TestCase(new[] { "--shard", "auto", "--output", "{F}/p.csv" }, "--shard auto: No job engine gave this process a shard: neither JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (a Slurm job array) is set")]
    public async Task Score_ShardOptionsThatDoNotFit_ExitTwo(string[] options, string expected)
    {
        Assume.That(Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX") ?? Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID"), Is.Null, "not inside a job engine");

        var (exit, _, error) = await CliRunner.Run(["score", "--input", input, "--recursive", .. options.Select(o => o.Replace("{F}", dir, StringComparison.Ordinal))]);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain(expected));
    }

    [Test]
    public async Task Score_ShardKilledMidwayAndResumed_EqualsTheUninterruptedRun()
    {
        string big = Digits.WritePngFolder(Path.Combine(dir, "big"), 3000);
        File.WriteAllBytes(Path.Combine(big, "5", "broken.png"), [1, 2, 3]);
        string[] common = ["score", "--input", big, "--recursive", "--probabilities", "--shard", "1/2"];
        var (exit, _, error) = await CliRunner.Run([.. common, "--output", F("whole.csv")]);
        Assert.That(exit, Is.EqualTo(3).Or.Zero, error);
        string output = F("killed.csv");

        using (var cli = new CliProcess([.. common, "--output", output, "--batch-size", "1", "--threads", "1"]))
        {
            // Wait until a few chunks are flushed, then kill without warning.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromMinutes(2) && (!File.Exists(output + ".partial") || new FileInfo(output + ".partial").Length < 40_000)) { Thread.Sleep(20); }
            cli.Signal("KILL");
            cli.Exit(TimeSpan.FromSeconds(30));
        }
        Assert.That(File.Exists(output), Is.False, "nothing published by the killed run");
        long kept = File.ReadAllLines(output + ".partial").Length - 1;
        Assert.That(kept, Is.GreaterThan(100), "the flushed chunks survived the kill");

        (exit, _, error) = await CliRunner.Run([.. common, "--output", output, "--resume"]);

        Assert.That(exit, Is.EqualTo(3).Or.Zero, error);
        Assert.That(error, Does.Match(@"Resuming: \d+ images already scored"));
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(File.ReadAllBytes(F("whole.csv"))));
        Assert.That(File.ReadAllText(output + ".shard.json"), Is.EqualTo(File.ReadAllText(F("whole.csv.shard.json"))));
        Assert.That(Directory.GetFiles(dir, "*.partial*"), Is.Empty, "the partial files are gone once published");
    }

    [Test]
    public async Task Score_TwoRunsIntoOneOutput_TheSecondIsRefused()
    {
        string output = F("shared.csv");
        using var first = new CliProcess("score", "--input", Digits.WritePngFolder(Path.Combine(dir, "many"), 2000), "--recursive", "--output", output, "--batch-size", "1", "--threads", "1");
        Assert.That(first.WaitFor("Scoring 2000 images", TimeSpan.FromSeconds(60)), Is.True, first.Error);

        var (exit, _, error) = await CliRunner.Run("score", "--input", input, "--recursive", "--output", output);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("is in use: another mlpipeline run is writing this output"));
    }

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

    [TestCase("negative", "probability -5 of class 1 is outside 0 to 1")]
    [TestCase("above-one", "probability 7 of class 1 is outside 0 to 1")]
    [TestCase("zeros", "the class probabilities sum to 0; expected 1")]
    [TestCase("twice", "is in the file twice")]
    [TestCase("shifted", "field(s), but its header has")]
    public async Task Evaluate_PredictionsThatAreNotOneDistributionPerImage_AreRefusedNamingTheLine(string edit, string expected)
    {
        await CliRunner.Run("score", "--input", input, "--recursive", "--probabilities", "--output", F("p.csv"));
        var lines = File.ReadAllLines(F("p.csv")).ToList();
        string[] fields = lines[1].Split(',');
        int first = Array.IndexOf(lines[0].Split(','), "p_0");
        switch (edit)
        {
            case "negative": fields[first] = "-5"; break;
            case "above-one": fields[first] = "7"; break;
            case "zeros": for (int k = first; k < fields.Length; k++) { fields[k] = "0"; } break;
            case "shifted": fields = [fields[0], "zzz", .. fields[1..]]; break;
            default: lines.Add(lines[1]); break;
        }
        if (edit != "twice") { lines[1] = string.Join(',', fields); }
        File.WriteAllLines(F("p.csv"), lines);

        var (exit, _, error) = await CliRunner.Run("evaluate", "--input", input, "--predictions", F("p.csv"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"Predictions file '{F("p.csv")}' line {(edit == "twice" ? lines.Count : 2)}"));
        Assert.That(error, Does.Contain(expected));
    }

    [Test]
    public async Task Evaluate_PathBothScoredAndFailed_IsRefusedNamingTheLine()
    {
        await CliRunner.Run("score", "--input", input, "--recursive", "--probabilities", "--output", F("p.csv"));
        string scored = File.ReadLines(F("p.csv")).Skip(1).First().Split(',')[0];
        File.AppendAllText(F("p.csv.errors.csv"), $"{scored},made up\n");

        var (exit, _, error) = await CliRunner.Run("evaluate", "--input", input, "--predictions", F("p.csv"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"'{scored}' is also in '{F("p.csv")}'; an image is either scored or failed"));
    }

    [Test]
    public async Task Evaluate_JsonLinesPredictions_SaysToScoreToCsv()
    {
        await CliRunner.Run("score", "--input", input, "--recursive", "--probabilities", "--output", F("p.jsonl"));

        var (exit, _, error) = await CliRunner.Run("evaluate", "--input", input, "--predictions", F("p.jsonl"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("is JSON Lines; evaluation reads score's CSV output"));
    }
}
