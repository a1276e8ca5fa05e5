using System.Text;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using nietras.SeparatedValues;

namespace MlPipeline.Formats;

/// <summary>
/// Writes score results in <see cref="PredictionsFile"/>'s format as they come: each prediction as a CSV row or a JSON
/// line, each failure as a row of the errors file. Buffered: what is written counts once <see cref="Flush"/> passed it on.
/// </summary>
internal sealed class PredictionsWriter : IDisposable
{
    readonly TextWriter predictions;
    readonly StreamWriter? errors;
    readonly SepWriter? csv;
    readonly SepWriter? errorCsv;
    readonly int topK;

    /// <summary>
    /// A writer into <paramref name="predictions"/> (a text writer such as standard output) and, when given, the errors
    /// file's <paramref name="errors"/> stream; the streams stay open.
    /// </summary>
    public PredictionsWriter(TextWriter predictions, Stream? errors, bool jsonl, int topK)
    {
        this.predictions = predictions;
        this.errors = errors is null ? null : Text(errors, 1 << 12);
        this.topK = topK;
        csv = jsonl ? null : Csv.Writer(predictions);
        errorCsv = this.errors is null ? null : Csv.Writer(this.errors);
    }

    /// <summary>A writer into the <paramref name="predictions"/> and <paramref name="errors"/> streams (UTF-8, line feeds); the streams stay open.</summary>
    public PredictionsWriter(Stream predictions, Stream errors, bool jsonl, int topK)
        : this(Text(predictions, 1 << 16), errors, jsonl, topK)
    {
    }

    static StreamWriter Text(Stream stream, int buffer) => new(stream, new UTF8Encoding(false), buffer, leaveOpen: true) { NewLine = "\n" };

    /// <summary>Writes the CSV header (nothing for JSON Lines, which has none).</summary>
    public void WriteHeader(IReadOnlyList<string> header) => csv?.WriteRow(header);

    /// <summary>
    /// Writes a result: a prediction as a row, a failure into the errors file. Returns false for a failure when there
    /// is no errors file, so that the caller reports it another way.
    /// </summary>
    public bool Write(ScoreResult result)
    {
        if (result.Prediction is { } p)
        {
            if (csv is null) { predictions.WriteLine(PredictionsFile.JsonLine(p)); }
            else { csv.WriteRow(PredictionsFile.CsvFields(p, topK)); }
            return true;
        }
        if (errorCsv is null) { return false; }
        errorCsv.WriteRow([result.Path, result.Error!]);
        return true;
    }

    /// <summary>Passes everything written so far on to the streams (a text writer's flush flushes its stream too).</summary>
    public void Flush()
    {
        csv?.Flush();
        errorCsv?.Flush();
        predictions.Flush();
        errors?.Flush();
    }

    /// <summary>
    /// Ends the CSV writers. The streams are neither flushed nor closed: a run that fails may already have closed
    /// them, and what is written counts only once <see cref="Flush"/> has passed it on.
    /// </summary>
    public void Dispose()
    {
        csv?.Dispose();
        errorCsv?.Dispose();
    }
}
