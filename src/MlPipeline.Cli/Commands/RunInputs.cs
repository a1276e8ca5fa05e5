using MlPipeline.Evaluation;
using MlPipeline.Internals;

namespace MlPipeline.Cli.Commands;

/// <summary>The inputs a command reads, as <see cref="OutputPaths.RequireNotAnInput"/> compares its outputs with them.</summary>
internal static class RunInputs
{
    /// <summary>
    /// A data source given by <paramref name="option"/>: a folder (every file in it), or a <c>path,label</c> CSV (the
    /// CSV and every file it lists); nothing when <paramref name="source"/> is null.
    /// </summary>
    public static IEnumerable<OutputPaths.Input> Data(string? source, string option)
    {
        if (source is null) { yield break; }
        yield return new(source, option);
        if (FileSystem.KindOf(source) == FileSystem.Kind.RegularFile && source.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var item in LabelledImages.FromCsv(source).Items) { yield return new(item.Path, option); }
        }
    }

}
