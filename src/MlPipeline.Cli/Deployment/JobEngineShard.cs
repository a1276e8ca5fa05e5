using System.Globalization;
using MlPipeline.Scoring;

namespace MlPipeline.Cli.Deployment;

/// <summary>
/// The shard a job engine gave this process (<c>score --shard auto</c>), read from the variables a Kubernetes Indexed
/// Job or a Slurm job array sets (see <c>deploy/</c>); the partition itself is the library's <see cref="Shard"/>.
/// </summary>
internal static class JobEngineShard
{
    /// <summary>Kubernetes Indexed Jobs set this to the pod's completion index (0-based).</summary>
    public const string KubernetesIndexVariable = "JOB_COMPLETION_INDEX";

    /// <summary>Slurm job arrays set this to the task's array index.</summary>
    public const string SlurmIndexVariable = "SLURM_ARRAY_TASK_ID";

    /// <summary>Slurm sets this to the array's lowest index (subtracted, so that <c>--array=1-4</c> gives shards 0 to 3).</summary>
    public const string SlurmMinVariable = "SLURM_ARRAY_TASK_MIN";

    /// <summary>Slurm sets this to the step of a stepped array (<c>--array=0-6:2</c>): task IDs advance by it.</summary>
    public const string SlurmStepVariable = "SLURM_ARRAY_TASK_STEP";

    /// <summary>Slurm sets this to the number of tasks in the array.</summary>
    public const string SlurmCountVariable = "SLURM_ARRAY_TASK_COUNT";

    /// <summary>
    /// The shard a job engine gave this process: the index from <see cref="KubernetesIndexVariable"/> or
    /// <see cref="SlurmIndexVariable"/> (minus <see cref="SlurmMinVariable"/>), the count from <paramref name="count"/>,
    /// else from <see cref="SlurmCountVariable"/> (Kubernetes has no such variable: give the Job's completions).
    /// </summary>
    /// <param name="count">The number of shards, when known (for example <c>--shards</c>).</param>
    /// <param name="environment">Reads a variable; default: the process environment.</param>
    /// <exception cref="InvalidOperationException">Neither engine's variable is set, or the count is unknown; the message says which variable to set.</exception>
    public static Shard FromEnvironment(int? count = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        int Read(string name)
        {
            string? value = environment(name);
            return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                ? n
                : throw new InvalidOperationException($"{name} is '{value}'; expected a whole number.");
        }
        int index;
        int? engineCount = null;
        if (!string.IsNullOrEmpty(environment(KubernetesIndexVariable)))
        {
            index = Read(KubernetesIndexVariable);
        }
        else if (!string.IsNullOrEmpty(environment(SlurmIndexVariable)))
        {
            index = Read(SlurmIndexVariable) - (string.IsNullOrEmpty(environment(SlurmMinVariable)) ? 0 : Read(SlurmMinVariable));
            // A stepped array (--array=0-6:2) numbers its tasks 0, 2, 4, 6: the shard is the task's place in the array.
            if (!string.IsNullOrEmpty(environment(SlurmStepVariable)) && Read(SlurmStepVariable) is > 1 and int step)
            {
                if (index % step != 0) { throw new InvalidOperationException($"{SlurmIndexVariable} is {index} above {SlurmMinVariable}, not a multiple of {SlurmStepVariable} {step}."); }
                index /= step;
            }
            if (!string.IsNullOrEmpty(environment(SlurmCountVariable))) { engineCount = Read(SlurmCountVariable); }
        }
        else
        {
            throw new InvalidOperationException($"No job engine gave this process a shard: neither {KubernetesIndexVariable} (a Kubernetes Indexed Job) nor {SlurmIndexVariable} (a Slurm job array) is set. Give the shard as K/N instead.");
        }
        int total = count ?? engineCount ?? throw new InvalidOperationException(
            $"The shard index is {index} but the number of shards is unknown: give it (--shards N, the Job's completions), or run as a Slurm array ({SlurmCountVariable}).");
        return new Shard(index, total).Validate();
    }
}
