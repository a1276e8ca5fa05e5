using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlPipeline.Scoring;

/// <summary>
/// Estimator of <see cref="ImageClassifierTransformer"/>, made by <c>mlContext.Transforms.ScoreImageClassifier</c>.
/// Fitting loads the model (unless a loaded <see cref="ImageClassifier"/> was given) and checks the input schema.
/// </summary>
public sealed class ImageClassifierEstimator : IEstimator<ImageClassifierTransformer>
{
    readonly Func<ClassifierModel> load;
    readonly bool owns;
    readonly ImageClassifierTransformer.Columns columns;

    internal ImageClassifierEstimator(Func<ClassifierModel> load, bool owns, ImageClassifierTransformer.Columns columns)
    {
        this.load = load;
        this.owns = owns;
        this.columns = columns;
    }

    /// <summary>Loads the model and checks the input column against it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing, or holds neither images nor tensors of the model's input size.</exception>
    /// <exception cref="InvalidDataException">The model is not a usable image classifier.</exception>
    public ImageClassifierTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var model = load();
        try
        {
            return new ImageClassifierTransformer(model, owns, columns, input.Schema);
        }
        catch
        {
            if (owns) { model.Dispose(); }
            throw;
        }
    }

    /// <summary>The input's columns and the score, predicted-label and error columns (loads the model to learn its classes).</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShapes.Require(inputSchema, columns.Input, "image paths, image bytes or input tensors");
        var model = load();
        try
        {
            return SchemaShapes.Append(inputSchema, columns.Added(model));
        }
        finally
        {
            if (owns) { model.Dispose(); }
        }
    }
}

/// <summary>
/// Scores images with an ONNX image classifier, many rows per ONNX Runtime call. The input column holds image paths or
/// encoded bytes (read, decoded and preprocessed in parallel, as <see cref="ImageTensorTransformer"/> does) or input
/// tensors of the model's size (for example <c>LoadImageTensor</c>'s output). Adds <c>Score</c> (a known-size vector
/// of class probabilities, slot names = labels), <c>PredictedLabel</c> (a key whose values are the labels) and an error
/// column: empty for a scored row; for an image that cannot be read the reason, NaN scores and a missing key, and the
/// cursor goes on. Rows keep their order. Dispose it when it loaded the model itself.
/// </summary>
public sealed class ImageClassifierTransformer : ITransformer, IDisposable
{
    readonly ClassifierModel model;
    readonly bool owns;
    readonly Columns columns;
    readonly Mapper mapper;
    readonly DataViewSchema fittedSchema;

    internal ImageClassifierTransformer(ClassifierModel model, bool owns, Columns columns, DataViewSchema inputSchema)
    {
        fittedSchema = inputSchema;
        this.model = model;
        this.owns = owns;
        this.columns = columns;
        mapper = new Mapper(model, columns);
        mapper.Check(inputSchema);
    }

    /// <summary>Class labels, in the order of the score vector; the key values of the predicted label.</summary>
    public IReadOnlyList<string> Labels => model.Labels;

    /// <summary>The preprocessing images are scored with.</summary>
    public ImagePreprocessing Preprocessing => model.Preprocessing;

    /// <summary>Where the model came from.</summary>
    public string ModelSource => model.Source;

    /// <summary>Always true: each row maps to one row.</summary>
    public bool IsRowToRowMapper => true;

    internal ClassifierModel Model => model;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        mapper.Check(inputSchema);
        return BatchedDataView.OutputSchema(inputSchema, mapper.AddedColumns);
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        mapper.Check(input.Schema);
        return new BatchedDataView(input, mapper);
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        mapper.Check(inputSchema);
        return new BatchedRowMapper(inputSchema, mapper);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => PortableModel.Classifier(model, columns, fittedSchema).Save(ctx);

    /// <summary>Releases the model when this transformer loaded it.</summary>
    public void Dispose()
    {
        if (owns) { model.Dispose(); }
    }

    /// <summary>The column names, as given to the catalog.</summary>
    internal sealed record Columns(string Input, string Score, string PredictedLabel, string Error, string? ImageFolder)
    {
        public DataViewSchema.DetachedColumn[] Added(ClassifierModel model)
        {
            int classes = model.Labels.Count;
            var names = new VBuffer<ReadOnlyMemory<char>>(classes, [.. model.Labels.Select(l => l.AsMemory())]);
            var namesType = new VectorDataViewType(TextDataViewType.Instance, classes);
            var slotNames = new DataViewSchema.Annotations.Builder();
            slotNames.Add("SlotNames", namesType, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
            var keyValues = new DataViewSchema.Annotations.Builder();
            keyValues.Add("KeyValues", namesType, (ref VBuffer<ReadOnlyMemory<char>> v) => names.CopyTo(ref v));
            return
            [
                new(Score, new VectorDataViewType(NumberDataViewType.Single, classes), slotNames.ToAnnotations()),
                new(PredictedLabel, new KeyDataViewType(typeof(uint), classes), keyValues.ToAnnotations()),
                new(Error, TextDataViewType.Instance),
            ];
        }
    }

    sealed class Mapper(ClassifierModel model, Columns columns) : BatchMapper
    {
        public override IReadOnlyList<DataViewSchema.DetachedColumn> AddedColumns { get; } = columns.Added(model);

        public override int BatchSize => model.Options.BatchSize;

        /// <summary>Whether the input column holds images (else tensors); throws when it holds neither.</summary>
        public bool Check(DataViewSchema input)
        {
            var column = input.GetColumnOrNull(columns.Input)
                ?? throw new ArgumentOutOfRangeException(nameof(input), $"The input has no column '{columns.Input}' (its columns: {string.Join(", ", input.Where(c => !c.IsHidden).Select(c => c.Name))}); expected image paths, image bytes or input tensors there.");
            if (ImageSource.Accepts(column.Type)) { return true; }
            if (column.Type is VectorDataViewType { ItemType: var item, Size: var size } && item == NumberDataViewType.Single && size == model.ImageSize) { return false; }
            var p = model.Preprocessing;
            throw new ArgumentOutOfRangeException(nameof(input),
                $"Column '{columns.Input}' is {column.Type}; expected image paths (text), image bytes (a vector of bytes) or this model's input tensors (a vector of {model.ImageSize} floats, {model.Channels}x{p.Height}x{p.Width}).");
        }

        public override IReadOnlyList<DataViewSchema.Column> InputColumns(DataViewSchema input)
        {
            var image = input[columns.Input];
            // Tensors from LoadImageTensor come with its error column; a failed image's reason is passed on.
            return Check(input) || input.GetColumnOrNull(columns.Error) is not { Type: TextDataViewType } error ? [image] : [image, error];
        }

        public override RowBatch CreateBatch(DataViewRow lead) => new Batch(model, columns, lead, Check(lead.Schema));

        public override Delegate Getter(int index, Func<(RowBatch Batch, int Slot)> current)
        {
            int classes = model.Labels.Count;
            return index switch
            {
                0 => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    var (batch, slot) = current();
                    var editor = VBufferEditor.Create(ref value, classes);
                    ((Batch)batch).Probabilities.AsSpan(slot * classes, classes).CopyTo(editor.Values);
                    value = editor.Commit();
                }),
                1 => (ValueGetter<uint>)((ref uint value) =>
                {
                    var (batch, slot) = current();
                    value = ((Batch)batch).Predicted[slot];
                }),
                _ => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) =>
                {
                    var (batch, slot) = current();
                    value = (((Batch)batch).Errors[slot] ?? "").AsMemory();
                }),
            };
        }
    }

    /// <summary>Rows' images or tensors, then their scores: the rows that loaded go to the model as one input.</summary>
    sealed class Batch : RowBatch
    {
        readonly ClassifierModel model;
        readonly ImageBatch? images;
        readonly Func<object>? readImage;
        readonly ValueGetter<VBuffer<float>>? readTensor;
        readonly ValueGetter<ReadOnlyMemory<char>>? readError;
        readonly float[] tensors;
        readonly string?[] errors;
        VBuffer<float> tensor;
        ReadOnlyMemory<char> error;

        public Batch(ClassifierModel model, Columns columns, DataViewRow lead, bool isImage)
        {
            this.model = model;
            int capacity = model.Options.BatchSize;
            if (isImage)
            {
                var source = ImageSource.For(lead.Schema, columns.Input, columns.ImageFolder);
                images = new ImageBatch(source, model.Preprocessor, model.Decode, capacity);
                readImage = source.Reader(lead);
                tensors = images.Tensors;
                errors = images.Errors;
            }
            else
            {
                readTensor = lead.GetGetter<VBuffer<float>>(lead.Schema[columns.Input]);
                if (lead.Schema.GetColumnOrNull(columns.Error) is { Type: TextDataViewType } e && lead.IsColumnActive(e)) { readError = lead.GetGetter<ReadOnlyMemory<char>>(e); }
                tensors = new float[capacity * model.ImageSize];
                errors = new string?[capacity];
            }
            Probabilities = new float[capacity * model.Labels.Count];
            Predicted = new uint[capacity];
        }

        public float[] Probabilities { get; }

        public uint[] Predicted { get; }

        public string?[] Errors => errors;

        protected override void Read(int slot)
        {
            if (images is not null)
            {
                images.Set(slot, readImage!());
                return;
            }
            readTensor!(ref tensor);
            var destination = tensors.AsSpan(slot * model.ImageSize, model.ImageSize);
            tensor.CopyTo(destination);
            errors[slot] = null;
            if (readError is not null)
            {
                readError(ref error);
                if (!error.IsEmpty) { errors[slot] = error.ToString(); }
            }
            if (errors[slot] is null && ScoreMath.IndexOfNonFinite(destination) >= 0)
            {
                errors[slot] = "the input tensor holds NaN or infinite values";
            }
        }

        public override void Prepare() => images?.Compute(Count);

        public override void Compute()
        {
            int size = model.ImageSize, classes = model.Labels.Count;
            // The rows that loaded move up to form one contiguous model input.
            int ok = 0;
            for (int i = 0; i < Count; i++)
            {
                if (errors[i] is not null) { continue; }
                if (ok != i) { Array.Copy(tensors, i * size, tensors, ok * size, size); }
                ok++;
            }
            var scored = Probabilities.AsSpan(0, Count * classes);
            if (ok > 0) { model.Run(tensors, ok, scored); }
            // Spread back from the end, so that no row is overwritten before it moves.
            for (int i = Count - 1; i >= 0; i--)
            {
                var row = scored.Slice(i * classes, classes);
                if (errors[i] is not null)
                {
                    row.Fill(float.NaN);
                    Predicted[i] = 0;
                    continue;
                }
                ok--;
                if (ok != i) { scored.Slice(ok * classes, classes).CopyTo(row); }
                Predicted[i] = (uint)ScoreMath.ArgMax(row) + 1;
            }
        }
    }
}
