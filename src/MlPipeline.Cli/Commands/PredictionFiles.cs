using System.Text;
using System.Text.Json;
using MlPipeline.Internals;

namespace MlPipeline.Cli.Commands;

/// <summary>Reads and writes score's outputs (CSV with a header, or JSON Lines) row by row, keyed by each row's path.</summary>
internal static class PredictionFiles
{
    /// <summary>A row: its path, and its fields (CSV) or its line (JSON Lines).</summary>
    internal sealed record Row(string Path, string File, IReadOnlyList<string>? Fields, string? Line);

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
                    rows.Add(new Row(json.RootElement.GetProperty("path").GetString() ?? "", file, null, line));
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
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

    /// <summary>The header line score writes at the top of a CSV file (with its line feed), as bytes.</summary>
    public static byte[] HeaderBytes(IReadOnlyList<string> header) => new UTF8Encoding(false).GetBytes(Csv.Format([header]));

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
