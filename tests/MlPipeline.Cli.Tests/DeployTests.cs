using System.Text.RegularExpressions;

namespace MlPipeline.Cli.Tests;

/// <summary>
/// The deployment files beside the tool run commands the CLI accepts: each is read, its paths pointed at a small
/// folder, and run for every index the job engine would give; the merged parts equal one unsharded run.
/// </summary>
[Category("Slow")]
[NonParallelizable] // sets the job engines' environment variables
public sealed class DeployTests
{
    string dir = "";
    string images = "";
    string model = "";

    [SetUp]
    public void SetUp()
    {
        dir = TempDirectory.Create();
        images = Digits.WritePngFolder(Path.Combine(dir, "images"), 40);
        model = Repository.File("onnx/mnist-cnn.onnx");
    }

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static string Deploy(string name) => Repository.File(Path.Combine("src", "MlPipeline.Cli", "deploy", name));

    [Test]
    public async Task KubernetesIndexedJob_EveryIndexRunsAndTheMergeEqualsOneRun()
    {
        string[] lines = File.ReadAllLines(Deploy("kubernetes-indexed-job.yaml"));
        int Setting(string key) => int.Parse(lines.Select(l => l.Trim()).Single(l => l.StartsWith(key + ":", StringComparison.Ordinal))[(key.Length + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(lines, Has.Some.Contains("completionMode: Indexed"));
        Assert.That(lines, Has.Some.Contains("command: [\"mlpipeline\"]"));
        int completions = Setting("completions");
        Assert.That(Setting("parallelism"), Is.EqualTo(completions));
        int start = Array.FindIndex(lines, l => l.Trim() == "args:");
        string indent = Regex.Match(lines[start + 1], @"^\s*").Value;
        var args = lines.Skip(start + 1).TakeWhile(l => l.StartsWith(indent + "- ", StringComparison.Ordinal)).Select(l => l.Trim()[2..].Trim('"')).ToList();
        Assert.That(args[..1], Is.EqualTo(new[] { "score" }));
        Assert.That(args[args.IndexOf("--shards") + 1], Is.EqualTo(completions.ToString(System.Globalization.CultureInfo.InvariantCulture)), "--shards equals the Job's completions");

        var outputs = new List<string>();
        for (int index = 0; index < completions; index++)
        {
            var run = args.Select(a => a.Replace("/data/images", images, StringComparison.Ordinal).Replace("/models/model.onnx", model, StringComparison.Ordinal)
                .Replace("/results", dir, StringComparison.Ordinal).Replace("$(JOB_COMPLETION_INDEX)", index.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)).ToArray();
            outputs.Add(run[Array.IndexOf(run, "--output") + 1]);
            var (exit, _, error) = await WithVariables(new() { ["JOB_COMPLETION_INDEX"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture) }, () => CliRunner.Run(run));
            Assert.That(exit, Is.Zero, error);
        }
        await AssertMergeEqualsOneRun(outputs, ["--probabilities"]);
    }

    [Test]
    public async Task SlurmArray_EveryTaskRunsAndTheMergeEqualsOneRun()
    {
        string[] lines = File.ReadAllLines(Deploy("slurm-array.sh"));
        var array = Regex.Match(string.Join("\n", lines), @"#SBATCH --array=(\d+)-(\d+)");
        Assert.That(array.Success, Is.True);
        int first = int.Parse(array.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), last = int.Parse(array.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        string command = lines.Single(l => l.StartsWith("mlpipeline score ", StringComparison.Ordinal));

        var outputs = new List<string>();
        for (int task = first; task <= last; task++)
        {
            string id = task.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string expanded = command.Replace("\"$images\"", images, StringComparison.Ordinal).Replace("\"$model\"", model, StringComparison.Ordinal)
                .Replace("\"$results/predictions-${SLURM_ARRAY_TASK_ID}.csv\"", Path.Combine(dir, $"predictions-{id}.csv"), StringComparison.Ordinal);
            Assert.That(expanded, Does.Not.Contain("$"), "every variable of the script's command was filled in");
            string[] run = expanded.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
            outputs.Add(run[Array.IndexOf(run, "--output") + 1]);
            var variables = new Dictionary<string, string?>
            {
                ["SLURM_ARRAY_TASK_ID"] = id,
                ["SLURM_ARRAY_TASK_MIN"] = first.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["SLURM_ARRAY_TASK_COUNT"] = (last - first + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            var (exit, _, error) = await WithVariables(variables, () => CliRunner.Run(run));
            Assert.That(exit, Is.Zero, error);
        }
        await AssertMergeEqualsOneRun(outputs, ["--probabilities"]);
    }

    async Task AssertMergeEqualsOneRun(List<string> parts, string[] options)
    {
        string single = Path.Combine(dir, "single.csv"), merged = Path.Combine(dir, "merged.csv");
        var (exit, _, error) = await CliRunner.Run(["score", "--input", images, "--recursive", "--model", model, .. options, "--output", single]);
        Assert.That(exit, Is.Zero, error);
        (exit, _, error) = await CliRunner.Run(["merge", "--out", merged, .. parts]);
        Assert.That(exit, Is.Zero, error);
        Assert.That(File.ReadAllBytes(merged), Is.EqualTo(File.ReadAllBytes(single)));
    }

    static async Task<T> WithVariables<T>(Dictionary<string, string?> variables, Func<Task<T>> action)
    {
        var saved = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var (name, value) in variables) { Environment.SetEnvironmentVariable(name, value); }
            return await action();
        }
        finally
        {
            foreach (var (name, value) in saved) { Environment.SetEnvironmentVariable(name, value); }
        }
    }
}
