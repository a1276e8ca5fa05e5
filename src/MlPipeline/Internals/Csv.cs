using System.Text;

namespace MlPipeline.Internals;

/// <summary>RFC 4180 CSV: quoting for writing, and a reader for the small files users hand in (labels).</summary>
internal static class Csv
{
    /// <summary>Quotes a field when it holds a comma, quote or line break.</summary>
    public static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    /// <summary>Joins fields into one CSV line.</summary>
    public static string Line(IEnumerable<string> fields) => string.Join(',', fields.Select(Field));

    /// <summary>Reads the records of a CSV file with their 1-based line numbers; quoted fields may hold commas and quotes.</summary>
    /// <exception cref="InvalidDataException">A quote is not closed; the message names the file and line.</exception>
    public static IEnumerable<(int Line, IReadOnlyList<string> Fields)> Read(string path)
    {
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0 || (number == 1 && line == "\uFEFF")) { continue; }
            yield return (number, Split(number == 1 ? line.TrimStart('\uFEFF') : line, path, number));
        }
    }

    static List<string> Split(string line, string path, int number)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c != '"') { field.Append(c); }
                else if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else { quoted = false; }
            }
            else if (c == '"') { quoted = true; }
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else { field.Append(c); }
        }
        if (quoted) { throw new InvalidDataException($"'{path}' line {number}: a quoted field is not closed."); }
        fields.Add(field.ToString());
        return fields;
    }
}
