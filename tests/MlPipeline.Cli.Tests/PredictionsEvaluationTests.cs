namespace MlPipeline.Cli.Tests;

/// <summary><c>evaluate --predictions</c> refuses a predictions file that is not score's: rows that are not one distribution, paths twice or both scored and failed, JSON Lines.</summary>
[Category("Slow")]
public sealed class PredictionsEvaluationTests
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

    [TestCase("negative", "column p_0 holds -5, outside 0 to 1")]
    [TestCase("above-one", "column p_0 holds 7, outside 0 to 1")]
    [TestCase("column-twice", "has the column p_0 2 times; each class has one probability column")]
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
            case "column-twice": lines[0] = lines[0].Replace("p_1", "p_0", StringComparison.Ordinal); break;
            default: lines.Add(lines[1]); break;
        }
        if (edit is not ("twice" or "column-twice")) { lines[1] = string.Join(',', fields); }
        File.WriteAllLines(F("p.csv"), lines);

        var (exit, _, error) = await CliRunner.Run("evaluate", "--input", input, "--predictions", F("p.csv"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain($"Predictions file '{F("p.csv")}' line {(edit == "twice" ? lines.Count : edit == "column-twice" ? 1 : 2)}"));
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
