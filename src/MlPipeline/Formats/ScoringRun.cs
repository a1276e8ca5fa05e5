using System.Text.Json;
using System.Text.Json.Serialization;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Formats;

/// <summary>
/// What a run of <c>score</c> scored, and with what: the folder, the model by content (its SHA-256, whatever its path),
/// the preprocessing in force, the labels and the columns. Written beside a partial output (compared on
/// <c>--resume</c>) and in a shard's manifest (compared by <c>merge</c>); a difference is named field by field.
/// </summary>
/// <param name="Input">The input folder, as a full path.</param>
/// <param name="Model">Where the model came from (for messages only: the model is known by <paramref name="ModelSha256"/>).</param>
/// <param name="ModelSha256">The model file's SHA-256.</param>
/// <param name="Preprocessing">The preprocessing in force.</param>
/// <param name="ReducedScaleDecoding">Whether large JPEGs were decoded at reduced scale.</param>
/// <param name="Labels">The class labels.</param>
/// <param name="Columns">The CSV header, or <c>jsonl</c>.</param>
/// <param name="Shard">The shard (K/N), or null for the whole folder.</param>
internal sealed record ScoringRun(string Input, string Model, string ModelSha256, ImagePreprocessing Preprocessing, bool ReducedScaleDecoding, IReadOnlyList<string> Labels, string Columns, string? Shard)
{
    /// <summary>How manifests are written and read: indented, enums by name; every field required and non-null where declared so, so that a manifest of another version is refused, not half read.</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    /// <summary>The run <paramref name="classifier"/> makes of <paramref name="input"/>.</summary>
    public static ScoringRun Of(ImageClassifier classifier, string input, IReadOnlyList<string> header, bool jsonl, Shard? shard) =>
        new(Folder(input), classifier.ModelSource, classifier.ModelSha256, classifier.Preprocessing, classifier.Options.ReducedScaleDecoding,
            classifier.Labels, jsonl ? "jsonl" : string.Join(",", header), shard?.ToString());

    /// <summary>The folder as one string whatever path names it: full, symbolic links resolved, no trailing separator.</summary>
    public static string Folder(string input) => Path.TrimEndingDirectorySeparator(FileSystem.RealPath(input));

    /// <summary>What differs between the run that wrote <paramref name="then"/> and this one, each as "what (then …, now …)"; empty when they score alike.</summary>
    public IReadOnlyList<string> DifferencesFrom(ScoringRun then)
    {
        var differences = new List<string>();
        void Compare(bool same, string what, string before, string now)
        {
            if (!same) { differences.Add($"{what} ({before} then, {now} now)"); }
        }
        Compare(Input == then.Input, "the input folder", $"'{then.Input}'", $"'{Input}'");
        Compare(ModelSha256 == then.ModelSha256, "the model", $"{then.Model}, {Short(then.ModelSha256)}", $"{Model}, {Short(ModelSha256)}");
        Compare(Preprocessing.Equals(then.Preprocessing), "the preprocessing", Describe(then.Preprocessing), Describe(Preprocessing));
        Compare(ReducedScaleDecoding == then.ReducedScaleDecoding, "the JPEG decoding", Decoding(then.ReducedScaleDecoding), Decoding(ReducedScaleDecoding));
        Compare(Labels.SequenceEqual(then.Labels), "the labels", Join(then.Labels), Join(Labels));
        Compare(Columns == then.Columns, "the columns", then.Columns, Columns);
        Compare(Shard == then.Shard, "the shard", then.Shard ?? "none", Shard ?? "none");
        return differences;
    }

    static string Short(string sha256) => sha256.Length > 19 ? sha256[..19] + "…" : sha256;

    static string Describe(ImagePreprocessing p) => $"{p.ColorMode.ToString().ToLowerInvariant()}, {p.DescribeGeometry()}, {p.DescribeNormalization()}";

    static string Decoding(bool reduced) => reduced ? "reduced scale" : "full size";

    static string Join(IReadOnlyList<string> labels) => labels.Count <= 12 ? string.Join(",", labels) : $"{labels.Count} labels from {labels[0]}";

    /// <summary>Reads a manifest written by <see cref="JsonSerializer"/> with <see cref="Json"/>: <typeparamref name="T"/>, or an error naming the file.</summary>
    public static T Read<T>(string path, string what) where T : class
    {
        string text = FileSystem.ReadAllText(path, what);
        try
        {
            return JsonSerializer.Deserialize<T>(text, Json) ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what} '{path}' is not readable ({e.Message}); it was not written by this version of mlpipeline, or was changed.", e);
        }
    }
}
