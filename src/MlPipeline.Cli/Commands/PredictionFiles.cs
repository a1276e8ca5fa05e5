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
    /// <exception cref="InvalidDataException">A JSON line without a path, or an unclosed CSV quote; the message names the file and line.</exception>
    public static (IReadOnlyList<string>? Header, List<Row> Rows) Read(string file, bool jsonl)
    {
        var rows = new List<Row>();
        if (jsonl)
        {
            int number = 0;
            foreach (string line in File.ReadLines(file))
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
        rows.AddRange(records.Skip(1).Select(r => new Row(r.Fields[0], file, r.Fields, null)));
        return (records[0].Fields, rows);
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

    /// <summary>Cuts a file after its last line feed: a record torn by a kill mid-write is dropped, whole ones kept.</summary>
    public static void DropTornEnd(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        long end = stream.Length;
        var one = new byte[1];
        while (end > 0)
        {
            stream.Position = end - 1;
            stream.ReadExactly(one);
            if (one[0] == (byte)'\n') { break; }
            end--;
        }
        stream.SetLength(end);
    }
}
