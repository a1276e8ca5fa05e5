using MlPipeline.Cli.Deployment;
using MlPipeline.Scoring;

namespace MlPipeline.Cli.Tests;

/// <summary><c>score --shard auto</c>: the shard read from the job engines' variables (Kubernetes Indexed Job, Slurm array).</summary>
public sealed class JobEngineShardTests
{
    [Test]
    public void FromEnvironment_Kubernetes_TakesTheIndexAndTheGivenCount()
    {
        var shard = JobEngineShard.FromEnvironment(4, name => name == "JOB_COMPLETION_INDEX" ? "2" : null);

        Assert.That(shard, Is.EqualTo(new Shard(2, 4)));
    }

    [Test]
    public void FromEnvironment_SlurmArrayFromOne_CountsFromItsMinimum()
    {
        var variables = new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "4", ["SLURM_ARRAY_TASK_MIN"] = "1", ["SLURM_ARRAY_TASK_COUNT"] = "4" };

        var shard = JobEngineShard.FromEnvironment(null, variables.GetValueOrDefault);

        Assert.That(shard, Is.EqualTo(new Shard(3, 4)));
    }

    [TestCase("0", 0)]
    [TestCase("2", 1)]
    [TestCase("4", 2)]
    [TestCase("6", 3)]
    public void FromEnvironment_SteppedSlurmArray_TakesTheTasksPlace(string id, int expected)
    {
        // sbatch --array=0-6:2 runs tasks 0, 2, 4 and 6: four tasks, four shards.
        var variables = new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = id, ["SLURM_ARRAY_TASK_MIN"] = "0", ["SLURM_ARRAY_TASK_STEP"] = "2", ["SLURM_ARRAY_TASK_COUNT"] = "4" };

        var shard = JobEngineShard.FromEnvironment(null, variables.GetValueOrDefault);

        Assert.That(shard, Is.EqualTo(new Shard(expected, 4)));
    }

    [Test]
    public void FromEnvironment_KubernetesWithoutCount_SaysToGiveTheCompletions()
    {
        var e = Assert.Throws<InvalidOperationException>(() => JobEngineShard.FromEnvironment(null, name => name == "JOB_COMPLETION_INDEX" ? "0" : null));

        Assert.That(e!.Message, Does.Contain("the number of shards is unknown: give it (--shards N, the Job's completions)"));
    }

    [Test]
    public void FromEnvironment_IndexBeyondTheCount_IsOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => JobEngineShard.FromEnvironment(2, name => name == "JOB_COMPLETION_INDEX" ? "2" : null));
        Assert.Throws<InvalidOperationException>(() => JobEngineShard.FromEnvironment(2, name => name == "JOB_COMPLETION_INDEX" ? "two" : null));
    }
}
