using Microsoft.ML;
using Microsoft.ML.Data;
using MlPipeline.Internals;

namespace MlPipeline.Scoring;

/// <summary>
/// Estimator of <see cref="ImageTensorTransformer"/>, made by
/// <see cref="MlPipelineCatalog.LoadImageTensor(TransformsCatalog, string, string, ImagePreprocessing, string?, string, long, bool)"/>.
/// Fitting only checks the input schema.
/// </summary>
public sealed class ImageTensorEstimator : IEstimator<ImageTensorTransformer>
{
    readonly ImageTensorTransformer.Settings settings;

    internal ImageTensorEstimator(ImageTensorTransformer.Settings settings) => this.settings = settings;

    /// <summary>Checks that the input column holds images and returns the transformer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column is missing or holds neither paths nor bytes.</exception>
    public ImageTensorTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new ImageTensorTransformer(settings, input.Schema);
    }

    /// <summary>The input's columns and the tensor and error columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaShapes.Require(inputSchema, settings.InputColumn, "the image paths or bytes");
        return SchemaShapes.Append(inputSchema, settings.Columns());
    }
}

/// <summary>
/// Reads images from a column of paths or encoded bytes and writes each one's model input: decoded strictly, resized,
/// converted and normalised as <see cref="ImagePreprocessing"/> says, into a known-size vector of C × H × W floats
/// (channel planes), in batches spread over the cores. An image that cannot be read or decoded does not stop the
/// cursor: its vector is NaN and the error column says why (the column is empty for a good image). For every
/// preprocessing ML.NET's stock chain (LoadImages → ResizeImages → ConvertToGrayscale → ExtractPixels) expresses, the
/// vector equals the stock chain's bit for bit.
/// </summary>
public sealed class ImageTensorTransformer : ITransformer
{
    readonly Settings settings;
    readonly Mapper mapper;
    readonly DataViewSchema fittedSchema;

    internal ImageTensorTransformer(Settings settings, DataViewSchema inputSchema)
    {
        fittedSchema = inputSchema;
        this.settings = settings;
        ImageSource.For(inputSchema, settings.InputColumn, settings.ImageFolder);
        mapper = new Mapper(settings);
    }

    /// <summary>What the transform does to each image.</summary>
    public ImagePreprocessing Preprocessing => settings.Preprocessing;

    /// <summary>Always true: each row maps to one row.</summary>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ImageSource.For(inputSchema, settings.InputColumn, settings.ImageFolder);
        return BatchedDataView.OutputSchema(inputSchema, mapper.AddedColumns);
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ImageSource.For(input.Schema, settings.InputColumn, settings.ImageFolder);
        return new BatchedDataView(input, mapper);
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ImageSource.For(inputSchema, settings.InputColumn, settings.ImageFolder);
        return new BatchedRowMapper(inputSchema, mapper);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx) => PortableModel.ImageTensor(settings, fittedSchema).Save(ctx);

    /// <summary>Everything the transform needs, as given to the catalog.</summary>
    internal sealed record Settings(string OutputColumn, string InputColumn, ImagePreprocessing Preprocessing, string? ImageFolder, string ErrorColumn, long MaxImagePixels, bool ReducedScaleDecoding, int? Threads = null, int BatchSize = 128)
    {
        public int ImageSize => Preprocessing.Channels * Preprocessing.Height * Preprocessing.Width;

        public DataViewSchema.DetachedColumn[] Columns() =>
        [
            new(OutputColumn, new VectorDataViewType(NumberDataViewType.Single, Preprocessing.Channels, Preprocessing.Height, Preprocessing.Width)),
            new(ErrorColumn, TextDataViewType.Instance),
        ];
    }

    sealed class Mapper(Settings settings) : BatchMapper
    {
        readonly ImagePreprocessor preprocessor = new(settings.Preprocessing);
        readonly DecodeSettings decode = new(settings.MaxImagePixels, settings.ReducedScaleDecoding, new PixelBudget(DecodeSettings.DefaultBudget), settings.Threads);

        public override IReadOnlyList<DataViewSchema.DetachedColumn> AddedColumns { get; } = settings.Columns();

        public override int BatchSize => settings.BatchSize;

        public override IReadOnlyList<DataViewSchema.Column> InputColumns(DataViewSchema input) => [input[settings.InputColumn]];

        public override RowBatch CreateBatch(DataViewRow lead)
        {
            var source = ImageSource.For(lead.Schema, settings.InputColumn, settings.ImageFolder);
            return new Batch(lead, source, new ImageBatch(source, preprocessor, decode, settings.BatchSize));
        }

        public override Delegate Getter(int index, Func<(RowBatch Batch, int Slot)> current)
        {
            int size = settings.ImageSize;
            if (index == 0)
            {
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    var (batch, slot) = current();
                    var editor = VBufferEditor.Create(ref value, size);
                    ((Batch)batch).Images.Tensors.AsSpan(slot * size, size).CopyTo(editor.Values);
                    value = editor.Commit();
                });
            }
            return (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) =>
            {
                var (batch, slot) = current();
                value = (((Batch)batch).Images.Errors[slot] ?? "").AsMemory();
            });
        }
    }

    sealed class Batch(DataViewRow lead, ImageSource source, ImageBatch images) : RowBatch
    {
        readonly Func<object> read = source.Reader(lead);

        public ImageBatch Images => images;

        protected override void Read(int slot) => images.Set(slot, read());

        public override void Prepare() => images.Compute(Count);

        public override void Compute()
        {
        }
    }
}
