using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlPipeline.Scoring;

/// <summary>
/// A batched transform one row at a time (<see cref="PredictionEngine{TSrc, TDst}"/> and other row-to-row users): the
/// added columns of a row are computed as a batch of one when first read.
/// </summary>
internal sealed class BatchedRowMapper(DataViewSchema inputSchema, BatchMapper mapper) : IRowToRowMapper
{
    readonly BatchMapper mapper = mapper;

    public DataViewSchema InputSchema { get; } = inputSchema;

    public DataViewSchema OutputSchema { get; } = BatchedDataView.OutputSchema(inputSchema, mapper.AddedColumns);

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var columns = dependingColumns.ToList();
        var needed = columns.Where(c => c.Index < InputSchema.Count).Select(c => InputSchema[c.Index]).ToList();
        if (columns.Any(c => c.Index >= InputSchema.Count)) { needed.AddRange(mapper.InputColumns(InputSchema)); }
        return needed.DistinctBy(c => c.Index);
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new Row(this, input, activeColumns);

    sealed class Row : DataViewRow
    {
        readonly BatchedRowMapper parent;
        readonly DataViewRow input;
        readonly bool[] active;
        readonly Lazy<RowBatch> batch;
        long computed = -1;

        public Row(BatchedRowMapper parent, DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        {
            this.parent = parent;
            this.input = input;
            active = new bool[parent.OutputSchema.Count];
            foreach (var column in activeColumns) { active[column.Index] = true; }
            batch = new(() => parent.mapper.CreateBatch(input));
        }

        public override DataViewSchema Schema => parent.OutputSchema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column) => active[column.Index];

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = parent.InputSchema.Count;
            if (column.Index < inputCount) { return input.GetGetter<TValue>(parent.InputSchema[column.Index]); }
            var getter = parent.mapper.Getter(column.Index - inputCount, Current);
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; a getter of {typeof(TValue).Name} was asked for.");
        }

        (RowBatch, int) Current()
        {
            var b = batch.Value;
            if (computed != input.Position || input.Position < 0)
            {
                DataViewRowId id = default;
                input.GetIdGetter()(ref id);
                b.Clear();
                b.Add(id);
                b.Prepare();
                b.Compute();
                computed = input.Position;
            }
            return (b, 0);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && batch.IsValueCreated) { batch.Value.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
