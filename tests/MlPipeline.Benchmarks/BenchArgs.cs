using System.Globalization;

namespace MlPipeline.Benchmarks;

/// <summary>Minimal "--name value" parsing for the benchmark commands.</summary>
internal sealed class BenchArgs(string[] args)
{
    public string? Get(string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public int Int(string name, int defaultValue) =>
        Get(name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : defaultValue;
}
