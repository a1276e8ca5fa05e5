using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlPipeline.Scoring;

/// <summary>An input with the given schema and no rows, to fit the saved chain on.</summary>
internal sealed class EmptyDataView(DataViewSchema schema) : IDataView
{
    public DataViewSchema Schema => schema;

    public bool CanShuffle => true;

    public long? GetRowCount() => 0;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(schema);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(schema)];

    sealed class Cursor(DataViewSchema schema) : DataViewRowCursor
    {
        public override DataViewSchema Schema => schema;

        public override long Position => -1;

        public override long Batch => 0;

        public override bool MoveNext() => false;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            (ref TValue _) => throw new InvalidOperationException("An empty data view has no rows.");

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId _) => throw new InvalidOperationException("An empty data view has no rows.");
    }
}
