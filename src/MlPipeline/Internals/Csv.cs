using nietras.SeparatedValues;

namespace MlPipeline.Internals;

/// <summary>RFC 4180 CSV through Sep, for writing results and reading the files users hand in (labels).</summary>
internal static class Csv
{
    static readonly Sep Comma = Sep.New(',');

    /// <summary>A writer of comma-separated rows with RFC 4180 quoting; rows are written with <see cref="WriteRow"/>.</summary>
    public static SepWriter Writer(TextWriter destination) =>
        Comma.Writer(o => o with { Escape = true, WriteHeader = false, CultureInfo = System.Globalization.CultureInfo.InvariantCulture }).To(destination, leaveOpen: true);

    /// <summary>Writes one row of fields.</summary>
    public static void WriteRow(this SepWriter writer, IReadOnlyList<string> fields)
    {
        using var row = writer.NewRow();
        for (int i = 0; i < fields.Count; i++) { row[i].Set(fields[i]); }
    }

    /// <summary>Whole CSV text (each row ended by a line feed) from rows of fields.</summary>
    public static string Format(IEnumerable<IReadOnlyList<string>> rows)
    {
        using var text = new StringWriter { NewLine = "\n" };
        using (var writer = Writer(text))
        {
            foreach (var row in rows) { writer.WriteRow(row); }
        }
        return text.ToString();
    }

    /// <summary>
    /// Reads the records of a CSV file with the line each starts on (1-based); quoted fields may hold commas, quotes
    /// and line breaks, and are taken exactly as written (unquoted fields too). Blank lines are skipped; a byte-order
    /// mark is dropped.
    /// </summary>
    /// <exception cref="InvalidDataException">A quoted field is not closed; the message names the file and the line it starts on.</exception>
    public static IEnumerable<(int Line, IReadOnlyList<string> Fields)> Read(string path)
    {
        string text = FileSystem.ReadAllText(path, "CSV file");
        // Sep reads an unclosed quote to the end of the file without complaint; in RFC 4180 quotes come in pairs.
        bool unclosed = text.AsSpan().Count('"') % 2 == 1;
        var records = new List<(int, IReadOnlyList<string>)>();
        int line = 1;
        using (var reader = Comma.Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).FromText(text))
        {
            foreach (var row in reader)
            {
                int start = line;
                // The raw row, read before any column is unescaped in place, tells how many lines it spans.
                line += row.Span.Count('\n') + 1;
                if (row.ColCount == 1 && row[0].Span.IsEmpty) { continue; }
                var fields = new string[row.ColCount];
                for (int i = 0; i < fields.Length; i++) { fields[i] = row[i].ToString(); }
                records.Add((start, fields));
            }
        }
        if (unclosed)
        {
            int at = records.Count > 0 ? records[^1].Item1 : 1;
            throw new InvalidDataException($"'{path}' line {at}: a quoted field is not closed.");
        }
        return records;
    }
}
