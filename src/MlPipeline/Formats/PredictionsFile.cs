using System.Globalization;
using System.Text;
using System.Text.Json;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Formats;

/// <summary>
/// The one owner of score's predictions files: the CSV (with a header) or JSON Lines rows, the errors file beside every
/// output (<c>OUTPUT.errors.csv</c>), and the names of the files a file output keeps beside it while it is written
/// (<c>OUTPUT.partial</c>, <c>OUTPUT.errors.csv.partial</c>, <c>OUTPUT.partial.json</c>, <c>OUTPUT.partial.lock</c>) or
/// when it is a shard (<c>OUTPUT.shard.json</c>, <see cref="ShardManifest"/>). <c>score</c> (through
/// <see cref="PartialOutput"/>) and <c>merge</c> write through it, and
/// <see cref="Evaluation.ClassifierEvaluation.FromPredictions"/> and <c>merge</c> read through it; the tool compiles
/// the files of this folder in from source, so there is one definition.
/// </summary>
internal static class PredictionsFile
{
    /// <summary>A row: its path, and its fields (CSV) or its line (JSON Lines).</summary>
    internal sealed record Row(string Path, string File, IReadOnlyList<string>? Fields, string? Line);

    /// <summary>The suffix of the errors file.</summary>
    const string ErrorsSuffix = ".errors.csv";

    /// <summary>The columns of the errors file.</summary>
    public static readonly IReadOnlyList<string> ErrorColumns = ["path", "error"];

    /// <summary>The prefix of the column holding each class's probability (<c>p_LABEL</c>).</summary>
    public const string ProbabilityPrefix = "p_";

    /// <summary>
    /// The longest file name an output may have: a name holds at most 255 bytes on Linux and macOS file systems, and the
    /// longest name written beside the output is the temporary file through which a resume rewrites
    /// <c>NAME.errors.csv.partial</c> (that suffix, 19 bytes, and <see cref="AtomicFile.TempNameOverhead"/>).
    /// </summary>
    public const int MaxOutputNameBytes = 255 - 19 - AtomicFile.TempNameOverhead;

    /// <summary>Whether <paramref name="path"/> names a JSON Lines file (<c>.jsonl</c>) rather than CSV.</summary>
    public static bool IsJsonLines(string path) => path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="path"/> ends in one of the two formats' extensions, <c>.csv</c> or <c>.jsonl</c>.</summary>
    public static bool HasFormatExtension(string path) => IsJsonLines(path) || path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);

    /// <summary>Where the files that could not be scored are listed: one errors file per output (<c>p.csv.errors.csv</c>).</summary>
    public static string ErrorsPath(string output) => output + ErrorsSuffix;

    /// <summary>The manifest beside a shard's output.</summary>
    public static string ManifestPath(string output) => output + ".shard.json";

    /// <summary>The partial predictions file of <paramref name="output"/> (and, given the errors file, the partial errors file).</summary>
    public static string PartialPath(string output) => output + ".partial";

    /// <summary>What a partial output was scored with, compared on a resume.</summary>
    public static string PartialSettingsPath(string output) => output + ".partial.json";

    /// <summary>The lock file of an output being written.</summary>
    public static string LockPath(string output) => output + ".partial.lock";

    /// <summary>Every file a run into <paramref name="output"/> may write, the output first.</summary>
    public static IReadOnlyList<string> WrittenFiles(string output) =>
        [output, ErrorsPath(output), ManifestPath(output), PartialPath(output), PartialPath(ErrorsPath(output)), PartialSettingsPath(output), LockPath(output)];

    /// <summary>Refuses an output name the file system cannot hold with its side files, or one that is another output's errors file; <paramref name="what"/> names the output in the message.</summary>
    public static void RequireOutputName(string output, string what)
    {
        int nameBytes = Encoding.UTF8.GetByteCount(System.IO.Path.GetFileName(output));
        if (nameBytes > MaxOutputNameBytes)
        {
            throw new ArgumentException($"{what}'s file name is {nameBytes} bytes long; expected at most {MaxOutputNameBytes}, so that the files written beside it (the longest is the temporary file of NAME.errors.csv.partial) fit the file system's 255-byte limit. Choose a shorter name.");
        }
        if (output.EndsWith(ErrorsSuffix, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"{what} '{output}' is named as the errors file of '{output[..^ErrorsSuffix.Length]}' (a file beside every output); choose a name that does not end in .errors.csv.");
        }
    }

    /// <summary>The CSV columns: path, label, confidence, each of the <paramref name="topK"/> classes and its probability, then (given <paramref name="labels"/>) one probability per class.</summary>
    public static List<string> Columns(int topK, IReadOnlyList<string>? labels)
    {
        var columns = new List<string> { "path", "label", "confidence" };
        for (int i = 1; i <= topK; i++) { columns.Add($"top{i}_label"); columns.Add($"top{i}_probability"); }
        if (labels is not null) { columns.AddRange(labels.Select(l => ProbabilityPrefix + l)); }
        return columns;
    }

    /// <summary>A prediction's CSV fields under <see cref="Columns"/>.</summary>
    public static List<string> CsvFields(Prediction prediction, int topK)
    {
        var fields = new List<string> { prediction.Path ?? "", prediction.Label, Number(prediction.Confidence) };
        for (int i = 0; i < topK; i++)
        {
            fields.Add(prediction.TopK[i].Label);
            fields.Add(Number(prediction.TopK[i].Probability));
        }
        if (prediction.Probabilities is { } all) { fields.AddRange(all.Select(Number)); }
        return fields;
    }

    /// <summary>A prediction as one JSON line (without its line feed): path, label, confidence, topK and, when kept, probabilities.</summary>
    public static string JsonLine(Prediction prediction) => JsonSerializer.Serialize(new
    {
        path = prediction.Path,
        label = prediction.Label,
        confidence = prediction.Confidence,
        topK = prediction.TopK.Select(t => new { label = t.Label, probability = t.Probability }),
        probabilities = prediction.Probabilities,
    }, JsonOptions);

    static readonly JsonSerializerOptions JsonOptions = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    static string Number(float value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>The header line at the top of a CSV file (with its line feed), as bytes.</summary>
    public static byte[] HeaderBytes(IReadOnlyList<string> header) => new UTF8Encoding(false).GetBytes(Csv.Format([header]));

    /// <summary>The header (CSV; null for JSON Lines or an empty file) and the rows of <paramref name="file"/>.</summary>
    /// <exception cref="InvalidDataException">A JSON line without a path, an unclosed CSV quote, or a CSV row whose fields do not match the header (a file cut mid-row); the message names the file and line.</exception>
    public static (IReadOnlyList<string>? Header, List<Row> Rows) Read(string file, bool jsonl)
    {
        var rows = new List<Row>();
        if (jsonl)
        {
            int number = 0;
            foreach (string line in File.ReadLines(FileSystem.RequireFile(file, "Predictions file")))
            {
                number++;
                if (line.Length == 0) { continue; }
                try
                {
                    using var json = JsonDocument.Parse(line);
                    if (json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String)
                    {
                        throw new InvalidDataException($"'{file}' line {number} is not a prediction: expected a JSON object with a \"path\" string, as score writes.");
                    }
                    rows.Add(new Row(path.GetString()!, file, null, line));
                }
                catch (JsonException e)
                {
                    throw new InvalidDataException($"'{file}' line {number} is not a prediction with a path: {e.Message}", e);
                }
            }
            return (null, rows);
        }
        var records = Csv.Read(file).ToList();
        if (records.Count == 0) { return (null, rows); }
        var header = records[0].Fields;
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.Count != header.Count)
            {
                throw new InvalidDataException($"'{file}' line {line} has {fields.Count} field(s), but its header has {header.Count}: the row is cut short or the file was changed (only a torn last row is one a kill leaves, and --resume drops it); score into a new output.");
            }
            rows.Add(new Row(fields[0], file, fields, null));
        }
        return (header, rows);
    }

    /// <summary>
    /// The rows of an errors file as their line, path and error, each path once.
    /// </summary>
    /// <exception cref="InvalidDataException">The header is not path,error, a row is not exactly a path and an error, or a path is listed twice; the message names the file and line.</exception>
    public static List<(int Line, string Path, string Error)> ReadErrors(string file)
    {
        var failed = new List<(int, string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var records = Csv.Read(file).ToList();
        if (records.Count == 0 || !records[0].Fields.SequenceEqual(ErrorColumns))
        {
            throw new InvalidDataException($"Errors file '{file}' does not start with the header {string.Join(",", ErrorColumns)}; it is not an errors file score wrote.");
        }
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.Count != ErrorColumns.Count) { throw new InvalidDataException($"Errors file '{file}' line {line} has {fields.Count} field(s); expected 2: path,error."); }
            if (!seen.Add(fields[0])) { throw new InvalidDataException($"Errors file '{file}' line {line}: '{fields[0]}' is in the file twice."); }
            failed.Add((line, fields[0], fields[1]));
        }
        return failed;
    }

    /// <summary>
    /// The class probabilities of a CSV predictions file written with every class's probability (its
    /// <c>p_LABEL</c> columns): the labels in column order, and each row's line, path and probabilities.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is JSON Lines or has no <c>p_LABEL</c> columns, a row is cut short, or a row's values are not one probability distribution; the message names the file and line.</exception>
    public static (IReadOnlyList<string> Labels, List<(int Line, string Path, float[] Probabilities)> Rows) ReadProbabilities(string file)
    {
        FileSystem.RequireFile(file, "Predictions file");
        if (IsJsonLines(file))
        {
            throw new InvalidDataException($"Predictions file '{file}' is JSON Lines; evaluation reads score's CSV output, whose p_<label> columns name the classes: score to a .csv file with every class probability (ImageClassifierOptions.IncludeProbabilities).");
        }
        var records = Csv.Read(file).ToList();
        var header = records.Count > 0 ? records[0].Fields : [];
        var columns = header.Select((name, i) => (name, i)).Where(c => c.name.StartsWith(ProbabilityPrefix, StringComparison.Ordinal)).ToList();
        if (header.Count == 0 || header[0] != "path" || columns.Count == 0)
        {
            throw new InvalidDataException($"Predictions file '{file}' has no class probabilities (p_<label> columns); score with every class probability (ImageClassifierOptions.IncludeProbabilities).");
        }
        if (columns.GroupBy(c => c.name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new InvalidDataException($"Predictions file '{file}' line 1 has the column {twice.Key} {twice.Count()} times; each class has one probability column.");
        }
        var rows = new List<(int, string, float[])>();
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.Count != header.Count)
            {
                throw new InvalidDataException($"Predictions file '{file}' line {line} has {fields.Count} field(s), but its header has {header.Count}: the row is cut short or the file was changed.");
            }
            var values = new float[columns.Count];
            for (int k = 0; k < columns.Count; k++)
            {
                if (!float.TryParse(fields[columns[k].i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[k]) || !float.IsFinite(values[k]))
                {
                    throw new InvalidDataException($"Predictions file '{file}' line {line}: column {columns[k].name} is not a probability.");
                }
            }
            RequireDistribution(file, line, values, columns);
            rows.Add((line, fields[0], values));
        }
        return ([.. columns.Select(c => c.name[ProbabilityPrefix.Length..])], rows);
    }

    /// <summary>
    /// Throws unless <paramref name="values"/> are probabilities of one distribution: each from 0 to 1 and summing to 1
    /// within 1e-5 plus 5e-7 per class (the rounding of the six decimals <see cref="CsvFields"/> writes).
    /// </summary>
    static void RequireDistribution(string file, int line, float[] values, List<(string name, int i)> columns)
    {
        double sum = 0;
        for (int k = 0; k < values.Length; k++)
        {
            if (values[k] is < 0 or > 1)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Predictions file '{file}' line {line}: column {columns[k].name} holds {values[k]}, outside 0 to 1."));
            }
            sum += values[k];
        }
        // Each value is written with six decimals (off by at most 5e-7) from float32 probabilities whose sum is 1 within float rounding.
        double tolerance = 1e-5 + (values.Length * 5e-7);
        if (Math.Abs(sum - 1) > tolerance)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Predictions file '{file}' line {line}: the class probabilities sum to {sum:0.######}; expected 1 (within {tolerance:0.######}), as score writes them."));
        }
    }

    /// <summary>The rows sorted by path (ordinal, as a folder is listed and scored), under <paramref name="header"/> for CSV.</summary>
    public static string Format(IReadOnlyList<string>? header, List<Row> rows, bool jsonl)
    {
        rows.Sort((a, b) => StringComparer.Ordinal.Compare(a.Path, b.Path));
        if (jsonl)
        {
            var text = new StringBuilder();
            foreach (var row in rows) { text.Append(row.Line).Append('\n'); }
            return text.ToString();
        }
        return Csv.Format([header!, .. rows.Select(r => r.Fields!)]);
    }

    /// <summary>
    /// The length of a file up to the end of its last complete record: what is after it is a record torn by a kill
    /// mid-write. In CSV a line feed inside a quoted field (a file name may hold one) does not end a record, so the
    /// quotes are followed from the start; JSON Lines escape line feeds, so there the last one ends the last record.
    /// </summary>
    public static long CompleteLength(string file, bool csv)
    {
        using var stream = FileSystem.OpenRead(file, "Partial output");
        long end = 0, position = 0;
        bool quoted = false;
        var buffer = new byte[1 << 16];
        for (int read; (read = stream.Read(buffer)) > 0; position += read)
        {
            for (int i = 0; i < read; i++)
            {
                // A doubled quote inside a quoted field toggles twice: the state is right at every record's end.
                if (csv && buffer[i] == (byte)'"') { quoted = !quoted; }
                else if (buffer[i] == (byte)'\n' && !quoted) { end = position + i + 1; }
            }
        }
        return end;
    }
}
