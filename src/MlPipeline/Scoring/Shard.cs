using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MlPipeline.Scoring;

/// <summary>
/// One part of a folder split across machines: shard <see cref="Index"/> of <see cref="Count"/>. A file belongs to the
/// shard its relative path hashes to (the first 8 bytes of the SHA-256 of the UTF-8 path with forward slashes, modulo
/// <see cref="Count"/>), so the partition depends on nothing but the path: every file is in exactly one shard, on every
/// machine and platform, and adding files never moves the others.
/// </summary>
/// <param name="Index">The shard, from 0 to <paramref name="Count"/> - 1.</param>
/// <param name="Count">How many shards the folder is split into, from 1 to <see cref="MaxCount"/>.</param>
public sealed record Shard(int Index, int Count)
{
    /// <summary>The most shards accepted: 1,000,000.</summary>
    public const int MaxCount = 1_000_000;

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

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 1 ≤ Count ≤ <see cref="MaxCount"/> and 0 ≤ Index &lt; Count.</summary>
    public Shard Validate()
    {
        if (Count is < 1 or > MaxCount) { throw new ArgumentOutOfRangeException(nameof(Count), Count, $"The number of shards must be from 1 to {MaxCount}, but was {Count}."); }
        if (Index < 0 || Index >= Count) { throw new ArgumentOutOfRangeException(nameof(Index), Index, $"Shard {Index} of {Count} does not exist; expected 0 to {Count - 1}."); }
        return this;
    }

    /// <summary>Parses <c>K/N</c> (shard K of N, K from 0).</summary>
    /// <exception cref="FormatException">Not two whole numbers separated by '/'.</exception>
    /// <exception cref="ArgumentOutOfRangeException">K or N out of range.</exception>
    public static Shard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            throw new FormatException($"Shard '{text}' is not of the form K/N (for example 0/4: the first of four shards).");
        }
        return new Shard(index, count).Validate();
    }

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

    /// <summary>Whether the file at <paramref name="relativePath"/> (relative to the folder, forward slashes) belongs to this shard.</summary>
    public bool Contains(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        return Of(relativePath, Count) == Index;
    }

    /// <summary>The shard, of <paramref name="count"/>, that <paramref name="relativePath"/> belongs to.</summary>
    public static int Of(string relativePath, int count)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(relativePath), digest);
        return (int)(BinaryPrimitives.ReadUInt64LittleEndian(digest) % (ulong)count);
    }

    /// <summary>The files of <paramref name="files"/> (as <see cref="ImageClassifier.ListFolder"/> gives them for <paramref name="folder"/>) that belong to this shard, in their order.</summary>
    public IReadOnlyList<string> Select(string folder, IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(files);
        return [.. files.Where(f => Contains(FolderListing.RelativePath(folder, f)))];
    }

    /// <summary><c>K/N</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
