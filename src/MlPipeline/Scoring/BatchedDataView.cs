using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlPipeline.Scoring;

/// <summary>
/// Rows of one input row each, whose added columns are computed for many rows at once (decoding in parallel, one model
/// call per batch). A batch reads its input from the lead cursor's current row in <see cref="Add"/>; <see cref="Compute"/>
/// may run on another thread while the previous batch is being read.
/// </summary>
internal abstract class RowBatch : IDisposable
{
    /// <summary>Rows added since the last <see cref="Clear"/>.</summary>
    public int Count { get; private set; }

    /// <summary>The lead cursor's row id of each row, to check that the cursor reading the other columns is on the same row.</summary>
    public DataViewRowId[] Ids => ids;

    DataViewRowId[] ids = new DataViewRowId[16];

    /// <summary>Reads the lead cursor's current row into slot <see cref="Count"/>.</summary>
    public void Add(DataViewRowId id)
    {
        if (ids.Length <= Count) { Array.Resize(ref ids, ids.Length * 2); }
        ids[Count] = id;
        Read(Count);
        Count++;
    }

    /// <summary>Reads the lead cursor's current row into <paramref name="slot"/>.</summary>
    protected abstract void Read(int slot);

    /// <summary>
    /// The first stage of computing the rows read (reading and decoding images, spread over the cores); it may run
    /// while the previous batch is in <see cref="Compute"/>.
    /// </summary>
    public virtual void Prepare()
    {
    }

    /// <summary>The second stage (the model call), after <see cref="Prepare"/>; batches go through it one at a time, in order.</summary>
    public abstract void Compute();

    /// <summary>Forgets the rows read.</summary>
    public void Clear() => Count = 0;

    /// <inheritdoc/>
    public virtual void Dispose()
    {
    }
}

/// <summary>What a batched transform adds: the columns, the input column its batches read, and its batches.</summary>
internal abstract class BatchMapper
{
    /// <summary>The columns added after the input's.</summary>
    public abstract IReadOnlyList<DataViewSchema.DetachedColumn> AddedColumns { get; }

    /// <summary>The input columns a batch reads.</summary>
    public abstract IReadOnlyList<DataViewSchema.Column> InputColumns(DataViewSchema input);

    /// <summary>Rows per batch.</summary>
    public abstract int BatchSize { get; }

    /// <summary>A batch that reads its inputs from <paramref name="lead"/>.</summary>
    public abstract RowBatch CreateBatch(DataViewRow lead);

    /// <summary>The getter of added column <paramref name="index"/> that reads the cursor's current batch and slot.</summary>
    public abstract Delegate Getter(int index, Func<(RowBatch Batch, int Slot)> current);
}

/// <summary>
/// The output of a batched transform: the input's columns, then the mapper's. A cursor that needs an added column
/// runs a lead cursor over the input's image column two batches ahead: while the consumer reads one batch, the next
/// is in its second stage (the model call) and the one after it in its first (decoding), on the thread pool. The input's other columns come from a second cursor over the same input, row by row (an
/// <see cref="IDataView"/> gives the same rows in the same order to every cursor; the row ids are checked). A cursor
/// that needs no added column is the input's own. Rows cannot be shuffled.
/// </summary>
internal sealed class BatchedDataView : IDataView
{
    readonly IDataView input;
    readonly BatchMapper mapper;

    public BatchedDataView(IDataView input, BatchMapper mapper)
    {
        this.input = input;
        this.mapper = mapper;
        Schema = OutputSchema(input.Schema, mapper.AddedColumns);
    }

    /// <summary>The input's columns and the added ones (an added column hides an input column of the same name).</summary>
    public static DataViewSchema OutputSchema(DataViewSchema input, IEnumerable<DataViewSchema.DetachedColumn> added)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumns(added);
        return builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded);

    // One cursor: the batches already spread each batch's work over the cores.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    sealed class Cursor : DataViewRowCursor
    {
        readonly BatchedDataView parent;
        readonly bool[] active;
        readonly DataViewRowCursor? main;
        readonly DataViewRowCursor? lead;
        readonly ValueGetter<DataViewRowId>? mainId;
        readonly ValueGetter<DataViewRowId>? leadId;
        readonly Queue<(RowBatch Batch, Task Done)> ahead = new();
        readonly Stack<RowBatch> free = new();
        Task lastCompute = Task.CompletedTask;
        Task lastPrepare = Task.CompletedTask;
        RowBatch? current;
        int slot = -1;
        long position = -1;
        bool done;

        public Cursor(BatchedDataView parent, IEnumerable<DataViewSchema.Column> columnsNeeded)
        {
            this.parent = parent;
            int inputCount = parent.input.Schema.Count;
            active = new bool[parent.Schema.Count];
            foreach (var column in columnsNeeded) { active[column.Index] = true; }
            bool needsBatches = active.Skip(inputCount).Any(a => a);
            var inputColumns = parent.input.Schema.Where(c => active[c.Index]).ToList();
            if (!needsBatches || inputColumns.Count > 0)
            {
                main = parent.input.GetRowCursor(inputColumns);
                mainId = needsBatches ? main.GetIdGetter() : null;
            }
            if (needsBatches)
            {
                lead = parent.input.GetRowCursor(parent.mapper.InputColumns(parent.input.Schema));
                leadId = lead.GetIdGetter();
            }
        }

        public override DataViewSchema Schema => parent.Schema;

        public override long Position => position;

        public override long Batch => 0;

        public override bool IsColumnActive(DataViewSchema.Column column) => active[column.Index];

        public override bool MoveNext()
        {
            if (lead is null)
            {
                if (!main!.MoveNext()) { return false; }
                position++;
                return true;
            }
            if (current is not null && slot + 1 < current.Count)
            {
                slot++;
            }
            else
            {
                if (!NextBatch()) { return false; }
                slot = 0;
            }
            if (main is not null)
            {
                DataViewRowId id = default;
                if (!main.MoveNext()) { throw OutOfStep("ended early"); }
                mainId!(ref id);
                if (!id.Equals(current!.Ids[slot])) { throw OutOfStep($"gave row {id} where row {current.Ids[slot]} was expected"); }
            }
            position++;
            return true;
        }

        static InvalidOperationException OutOfStep(string what) => new(
            $"The input data view gave two cursors different rows (the second {what}); a batched MlPipeline transform needs an input that gives the same rows in the same order to every cursor, as IDataView promises.");

        /// <summary>Makes the oldest batch ahead current (waiting for it) and keeps two batches ahead.</summary>
        bool NextBatch()
        {
            if (current is not null) { free.Push(current); }
            current = null;
            while (ahead.Count < 2 && !done) { StartNext(); }
            if (ahead.Count == 0) { return false; }
            var (batch, computed) = ahead.Dequeue();
            computed.GetAwaiter().GetResult();
            current = batch;
            while (ahead.Count < 2 && !done) { StartNext(); }
            return true;
        }

        /// <summary>
        /// Reads the next rows of the lead cursor into a free batch here, then prepares it on the thread pool and
        /// computes it after the batch before it.
        /// </summary>
        void StartNext()
        {
            var batch = free.Count > 0 ? free.Pop() : parent.mapper.CreateBatch(lead!);
            batch.Clear();
            DataViewRowId value = default;
            while (batch.Count < parent.mapper.BatchSize)
            {
                if (!lead!.MoveNext()) { done = true; break; }
                leadId!(ref value);
                batch.Add(value);
            }
            if (batch.Count == 0)
            {
                free.Push(batch);
                return;
            }
            // Each stage takes one batch at a time, in order: decoding never runs two batches at once (the thread
            // count and the pixel budget hold per stage), and it overlaps the model call of the batch before.
            var previousPrepare = lastPrepare;
            var prepared = Task.Run(async () =>
            {
                await previousPrepare.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                batch.Prepare();
            });
            lastPrepare = prepared;
            var previous = lastCompute;
            lastCompute = Task.Run(async () =>
            {
                await prepared.ConfigureAwait(false);
                // The batch before is awaited by the cursor first, which reports its failure.
                await previous.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                batch.Compute();
            });
            ahead.Enqueue((batch, lastCompute));
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!active[column.Index]) { throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor."); }
            int inputCount = parent.input.Schema.Count;
            if (column.Index < inputCount) { return main!.GetGetter<TValue>(parent.input.Schema[column.Index]); }
            var getter = parent.mapper.Getter(column.Index - inputCount, () => (current!, slot));
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; a getter of {typeof(TValue).Name} was asked for.");
        }

        public override ValueGetter<DataViewRowId> GetIdGetter()
        {
            if (lead is null) { return main!.GetIdGetter(); }
            return (ref DataViewRowId value) => value = current!.Ids[slot];
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                foreach (var (batch, computed) in ahead)
                {
                    try
                    {
                        computed.Wait();
                    }
                    catch (AggregateException)
                    {
                        // A batch computed ahead is not read: its failure is nobody's.
                    }
                    batch.Dispose();
                }
                current?.Dispose();
                foreach (var batch in free) { batch.Dispose(); }
                lead?.Dispose();
                main?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
