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
        input = ScoredFolder.Create(dir);
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
        string big = Digits.WritePngFolder(Path.Combine(dir, "big"), 1000);
        // 5/broken.png is in shard 1 of 2 (python3: int.from_bytes(hashlib.sha256(b'5/broken.png').digest()[:8], 'little') % 2 == 1),
        // so both runs report one failed image: exit 3.
        File.WriteAllBytes(Path.Combine(big, "5", "broken.png"), [1, 2, 3]);
        string[] common = ["score", "--input", big, "--recursive", "--probabilities", "--shard", "1/2"];
        var (exit, _, error) = await CliRunner.Run([.. common, "--output", F("whole.csv")]);
        Assert.That(exit, Is.EqualTo(3), error);
        string output = F("killed.csv");

        using (var cli = CliProcess.PausedAt("score.first-flush", [.. common, "--output", output, "--batch-size", "1", "--threads", "1"]))
        {
            // The first chunk of 256 results is flushed (about 500 of the shard's files are left): kill without warning.
            Assert.That(cli.WaitFor("paused at score.first-flush", TimeSpan.FromMinutes(2)), Is.True, cli.Error);
            cli.Signal("KILL");
            cli.Exit(TimeSpan.FromSeconds(30));
        }
        Assert.That(File.Exists(output), Is.False, "nothing published by the killed run");
        long kept = File.ReadAllLines(output + ".partial").Length - 1 + (File.Exists(output + ".errors.csv.partial") ? File.ReadAllLines(output + ".errors.csv.partial").Length - 1 : 0);
        Assert.That(kept, Is.EqualTo(256), "the flushed chunk survived the kill");

        (exit, _, error) = await CliRunner.Run([.. common, "--output", output, "--resume"]);

        Assert.That(exit, Is.EqualTo(3), error);
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
}
