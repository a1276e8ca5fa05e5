using System.Collections.Concurrent;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using MlPipeline.Internals;
using Onnx;

namespace MlPipeline.Scoring;

/// <summary>
/// The saved form of MlPipeline's transforms. ML.NET loads a saved transformer only through loader attributes it keeps
/// internal; the one public way in is <c>CustomMapping</c> with a contract name, whose saved form is that name alone.
/// So a transform saves as an equivalent chain of stock, saveable transforms: an <c>Expression</c> that writes the
/// settings as a constant column, contract-named <c>CustomMapping</c>s (below) that decode and map row by row reading
/// that column, <c>ApplyOnnxModel</c>s that embed the classifier and give vectors their known sizes (a one-node
/// Identity graph: <c>CustomMapping</c> vectors have no size), <c>MapValueToKey</c> for the labels, and copies and drops
/// for the user's column names. Loaded, the chain gives the same values (row by row, at ML.NET's own speed).
/// The saved form names this assembly, which ML.NET loads and searches for the contracts on its own.
/// </summary>
internal static class PortableModel
{
    const string Prefix = "MlPipeline.";
    const string MarkerColumn = Prefix + "Marker";
    const string ConfigColumn = Prefix + "Config";
    const string ImageColumn = Prefix + "Image";
    const string TensorColumn = Prefix + "Tensor";
    const string FixedTensorColumn = Prefix + "FixedTensor";
    const string ErrorColumn = Prefix + "Error";
    const string RawColumn = Prefix + "Raw";
    const string ProbabilitiesColumn = Prefix + "Probabilities";
    const string ScoreColumn = Prefix + "Score";
    const string PredictedColumn = Prefix + "Predicted";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The saved form of <see cref="ImageTensorTransformer"/>.</summary>
    public static ICanSaveModel ImageTensor(ImageTensorTransformer.Settings settings, DataViewSchema inputSchema)
    {
        var ml = new MLContext(seed: 0);
        var source = ImageSource.For(inputSchema, settings.InputColumn, settings.ImageFolder);
        var chain = LoadImages(ml, source, new ImageSettings(settings.Preprocessing, settings.ImageFolder, settings.MaxImagePixels, settings.ReducedScaleDecoding))
            .Append(ml.Transforms.CopyColumns(settings.OutputColumn, FixedTensorColumn))
            .Append(ml.Transforms.CopyColumns(settings.ErrorColumn, ErrorColumn));
        return FitAndDrop(ml, chain, inputSchema, [settings.OutputColumn, settings.ErrorColumn]);
    }

    /// <summary>The saved form of <see cref="ImageClassifierTransformer"/>.</summary>
    public static ICanSaveModel Classifier(ClassifierModel model, ImageClassifierTransformer.Columns columns, DataViewSchema inputSchema)
    {
        var ml = new MLContext(seed: 0);
        var settings = new ImageSettings(model.Preprocessing, columns.ImageFolder, model.Options.MaxImagePixels, model.Options.ReducedScaleDecoding);
        IEstimator<ITransformer> chain;
        if (ImageSource.Accepts(inputSchema[columns.Input].Type))
        {
            chain = LoadImages(ml, ImageSource.For(inputSchema, columns.Input, columns.ImageFolder), settings);
        }
        else
        {
            chain = Configured(ml, settings).Append(ml.Transforms.CopyColumns(FixedTensorColumn, columns.Input));
            chain = inputSchema.GetColumnOrNull(columns.Error) is { Type: TextDataViewType }
                ? chain.Append(ml.Transforms.CopyColumns(ErrorColumn, columns.Error))
                : chain.Append(ml.Transforms.CustomMapping(new NoErrorFactory().GetMapping(), NoErrorFactory.Contract));
        }
        var labels = ml.Data.LoadFromEnumerable(model.Labels.Select(l => new LabelRow { Label = l }));
        var scoring = new ScoringSettings([.. model.Labels], model.OutputIsProbabilities)
        {
            Source = model.Source,
            OutputName = model.OutputName,
            Inputs = ClassifierModel.DescribeInputs(model.Preprocessing),
        };
        chain = chain
            .Append(ml.Transforms.CopyColumns(model.InputName, FixedTensorColumn))
            .Append(ml.Transforms.ApplyOnnxModel([model.OutputName], [model.InputName], ModelStream(model)))
            .Append(ml.Transforms.CopyColumns(RawColumn, model.OutputName))
            .Append(ml.Transforms.Expression(ConfigColumn, ExpressionOf(scoring), MarkerColumn))
            .Append(ml.Transforms.CustomMapping(new ClassifyFactory().GetMapping(), ClassifyFactory.Contract))
            .Append(ml.Transforms.ApplyOnnxModel([ScoreColumn], [ProbabilitiesColumn], new MemoryStream(IdentityModel(ProbabilitiesColumn, ScoreColumn, model.Labels.Count))))
            .Append(ml.Transforms.Conversion.MapValueToKey(columns.PredictedLabel, PredictedColumn, keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByOccurrence, keyData: labels))
            .Append(ml.Transforms.CopyColumns(columns.Score, ScoreColumn))
            .Append(ml.Transforms.CopyColumns(columns.Error, ErrorColumn));
        return FitAndDrop(ml, chain, inputSchema, [columns.Score, columns.PredictedLabel, columns.Error]);
    }

    /// <summary>Fits the chain and drops the working columns it added (all but <paramref name="keep"/> and the input's).</summary>
    static ICanSaveModel FitAndDrop(MLContext ml, IEstimator<ITransformer> chain, DataViewSchema inputSchema, string[] keep)
    {
        var empty = new EmptyDataView(inputSchema);
        var fitted = chain.Fit(empty);
        var output = fitted.GetOutputSchema(inputSchema);
        var working = output.Where(c => !c.IsHidden && inputSchema.GetColumnOrNull(c.Name) is null && !keep.Contains(c.Name)).Select(c => c.Name).Distinct().ToArray();
        return working.Length == 0 ? fitted : new TransformerChain<ITransformer>(fitted, ml.Transforms.DropColumns(working).Fit(fitted.Transform(empty)));
    }

    static Stream ModelStream(ClassifierModel model) =>
        model.ModelBytes is { } bytes ? new MemoryStream(bytes) : File.OpenRead(model.ModelPath!);

    /// <summary>The marker column and the settings as a constant column.</summary>
    static IEstimator<ITransformer> Configured<T>(MLContext ml, T settings) =>
        ml.Transforms.CustomMapping(new MarkerFactory().GetMapping(), MarkerFactory.Contract)
            .Append(ml.Transforms.Expression(ConfigColumn, ExpressionOf(settings), MarkerColumn));

    /// <summary>Images to <see cref="FixedTensorColumn"/> (a known-size vector) and <see cref="ErrorColumn"/>.</summary>
    static IEstimator<ITransformer> LoadImages(MLContext ml, ImageSource source, ImageSettings settings)
    {
        var p = settings.Preprocessing;
        int size = p.Channels * p.Height * p.Width;
        var chain = Configured(ml, settings).Append(ml.Transforms.CopyColumns(ImageColumn, source.ColumnName));
        IEstimator<ITransformer> load = source.IsBytes
            ? ml.Transforms.CustomMapping(new BytesTensorFactory().GetMapping(), BytesTensorFactory.Contract)
            : ml.Transforms.CustomMapping(new PathTensorFactory().GetMapping(), PathTensorFactory.Contract);
        return chain.Append(load).Append(ml.Transforms.ApplyOnnxModel([FixedTensorColumn], [TensorColumn], new MemoryStream(IdentityModel(TensorColumn, FixedTensorColumn, size))));
    }

    /// <summary>An expression that gives the settings as constant text (base64 of their JSON: nothing to escape).</summary>
    static string ExpressionOf<T>(T settings) =>
        $"x => \"{Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(settings, Json))}\"";

    /// <summary>Settings read back from the constant column, once per distinct value.</summary>
    static readonly ConcurrentDictionary<string, ScoringSettings> Scorings = new(StringComparer.Ordinal);

    static T Parse<T>(string config) where T : class =>
        JsonSerializer.Deserialize<T>(Convert.FromBase64String(config), Json)
            ?? throw new InvalidDataException($"The saved MlPipeline settings '{config}' are empty.");

    /// <summary>What image loading needs.</summary>
    internal sealed record ImageSettings(ImagePreprocessing Preprocessing, string? ImageFolder, long MaxImagePixels, bool ReducedScale);

    /// <summary>What score mapping needs; the model's name, output and input range name it in an error (null in chains saved by earlier builds).</summary>
    internal sealed record ScoringSettings(string[] Labels, bool OutputIsProbabilities)
    {
        public string? Source { get; init; }

        public string? OutputName { get; init; }

        public string? Inputs { get; init; }
    }

    sealed class Loader(ImageSettings settings)
    {
        public ImagePreprocessor Preprocessor { get; } = new(settings.Preprocessing.Validate());

        public ImageSource Source { get; } = ImageSource.ForValues(settings.ImageFolder);

        public ImageSettings Settings => settings;

        public DecodeSettings Decode { get; } = new(settings.MaxImagePixels, settings.ReducedScale, new PixelBudget(DecodeSettings.DefaultBudget), null);
    }

    static readonly ConcurrentDictionary<string, Loader> Loaders = new(StringComparer.Ordinal);

    static void LoadImage(object image, string config, TensorRow row)
    {
        var loader = Loaders.GetOrAdd(config, c => new Loader(Parse<ImageSettings>(c)));
        var p = loader.Settings.Preprocessing;
        var tensor = new float[p.Channels * p.Height * p.Width];
        row.Error = loader.Source.TryFill(image, loader.Preprocessor, loader.Decode, tensor) ?? "";
        row.Tensor = tensor;
    }

    /// <summary>A one-node ONNX graph, Identity from a vector of any length to one of <paramref name="size"/>.</summary>
    internal static byte[] IdentityModel(string input, string output, int size)
    {
        static ValueInfoProto Vector(string name, TensorShapeProto.Types.Dimension length)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
            shape.Dim.Add(length);
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
            };
        }
        var node = new NodeProto { Name = "identity", OpType = "Identity" };
        node.Input.Add(input);
        node.Output.Add(output);
        var graph = new GraphProto { Name = "mlpipeline_fixed_size" };
        graph.Node.Add(node);
        graph.Input.Add(Vector(input, new TensorShapeProto.Types.Dimension { DimParam = "n" }));
        graph.Output.Add(Vector(output, new TensorShapeProto.Types.Dimension { DimValue = size }));
        var model = new ModelProto { IrVersion = 7, ProducerName = "MlPipeline", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    /// <summary>An input with the given schema and no rows, to fit the saved chain on.</summary>
    sealed class EmptyDataView(DataViewSchema schema) : IDataView
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

    sealed class LabelRow
    {
        public string Label { get; set; } = "";
    }

    /// <summary>Input of nothing.</summary>
    public sealed class NoInput;

    /// <summary>The marker column the settings expression reads (an expression needs an input).</summary>
    public sealed class MarkerRow
    {
        /// <summary>Always true.</summary>
        [ColumnName(MarkerColumn)]
        public bool Value { get; set; }
    }

    /// <summary>An image path and the settings.</summary>
    public sealed class PathRow
    {
        /// <summary>The path.</summary>
        [ColumnName(ImageColumn)]
        public string Image { get; set; } = "";

        /// <summary>The settings.</summary>
        [ColumnName(ConfigColumn)]
        public string Config { get; set; } = "";
    }

    /// <summary>An encoded image and the settings.</summary>
    public sealed class BytesRow
    {
        /// <summary>The bytes.</summary>
        [ColumnName(ImageColumn)]
        public byte[] Image { get; set; } = [];

        /// <summary>The settings.</summary>
        [ColumnName(ConfigColumn)]
        public string Config { get; set; } = "";
    }

    /// <summary>A model input and why it is NaN.</summary>
    public sealed class TensorRow
    {
        /// <summary>The model input.</summary>
        [ColumnName(TensorColumn)]
        [VectorType]
        public float[] Tensor { get; set; } = [];

        /// <summary>Empty, or why the image could not be used.</summary>
        [ColumnName(ErrorColumn)]
        public string Error { get; set; } = "";
    }

    /// <summary>The error column of a tensor input that has none.</summary>
    public sealed class ErrorRow
    {
        /// <summary>Always empty.</summary>
        [ColumnName(ErrorColumn)]
        public string Error { get; set; } = "";
    }

    /// <summary>The model's scores, the settings and the image's error.</summary>
    public sealed class ScoresRow
    {
        /// <summary>The model output.</summary>
        [ColumnName(RawColumn)]
        [VectorType]
        public float[] Raw { get; set; } = [];

        /// <summary>The settings.</summary>
        [ColumnName(ConfigColumn)]
        public string Config { get; set; } = "";

        /// <summary>Empty, or why the image could not be used.</summary>
        [ColumnName(ErrorColumn)]
        public string Error { get; set; } = "";
    }

    /// <summary>Probabilities and the predicted label.</summary>
    public sealed class ClassRow
    {
        /// <summary>Class probabilities.</summary>
        [ColumnName(ProbabilitiesColumn)]
        [VectorType]
        public float[] Probabilities { get; set; } = [];

        /// <summary>The most probable label, empty for a failed image.</summary>
        [ColumnName(PredictedColumn)]
        public string Predicted { get; set; } = "";
    }

    /// <summary>Writes the marker.</summary>
    [CustomMappingFactoryAttribute(Contract)]
    public sealed class MarkerFactory : CustomMappingFactory<NoInput, MarkerRow>
    {
        /// <summary>The contract name.</summary>
        public const string Contract = "MlPipeline.Marker.v1";

        /// <inheritdoc/>
        public override Action<NoInput, MarkerRow> GetMapping() => (_, row) => row.Value = true;
    }

    /// <summary>Writes an empty error.</summary>
    [CustomMappingFactoryAttribute(Contract)]
    public sealed class NoErrorFactory : CustomMappingFactory<NoInput, ErrorRow>
    {
        /// <summary>The contract name.</summary>
        public const string Contract = "MlPipeline.NoError.v1";

        /// <inheritdoc/>
        public override Action<NoInput, ErrorRow> GetMapping() => (_, row) => row.Error = "";
    }

    /// <summary>Loads an image from a path.</summary>
    [CustomMappingFactoryAttribute(Contract)]
    public sealed class PathTensorFactory : CustomMappingFactory<PathRow, TensorRow>
    {
        /// <summary>The contract name.</summary>
        public const string Contract = "MlPipeline.ImageTensor.Path.v1";

        /// <inheritdoc/>
        public override Action<PathRow, TensorRow> GetMapping() => (input, row) => LoadImage(input.Image, input.Config, row);
    }

    /// <summary>Loads an image from its bytes.</summary>
    [CustomMappingFactoryAttribute(Contract)]
    public sealed class BytesTensorFactory : CustomMappingFactory<BytesRow, TensorRow>
    {
        /// <summary>The contract name.</summary>
        public const string Contract = "MlPipeline.ImageTensor.Bytes.v1";

        /// <inheritdoc/>
        public override Action<BytesRow, TensorRow> GetMapping() => (input, row) => LoadImage(input.Image, input.Config, row);
    }

    /// <summary>Scores to probabilities and the predicted label.</summary>
    [CustomMappingFactoryAttribute(Contract)]
    public sealed class ClassifyFactory : CustomMappingFactory<ScoresRow, ClassRow>
    {
        /// <summary>The contract name.</summary>
        public const string Contract = "MlPipeline.Classify.v1";

        /// <inheritdoc/>
        public override Action<ScoresRow, ClassRow> GetMapping() => (input, row) =>
        {
            var settings = Scorings.GetOrAdd(input.Config, Parse<ScoringSettings>);
            var probabilities = new float[settings.Labels.Length];
            if (input.Error.Length > 0)
            {
                Array.Fill(probabilities, float.NaN);
                row.Predicted = "";
            }
            else
            {
                // The live transform's rule (ClassifierModel.Run): scores of another size or not finite are an error.
                string source = settings.Source ?? "(saved in the ML.NET model)", output = settings.OutputName ?? RawColumn;
                if (input.Raw.Length != probabilities.Length) { throw ClassifierModel.WrongScoreCount(source, output, input.Raw.Length, probabilities.Length); }
                int bad = ScoreMath.IndexOfNonFinite(input.Raw);
                if (bad >= 0) { throw ClassifierModel.NonFiniteScores(source, output, input.Raw[bad], "an image", settings.Inputs ?? "The saved chain does not record its input range"); }
                ScoreMath.ToProbabilities(input.Raw, settings.OutputIsProbabilities, probabilities);
                row.Predicted = settings.Labels[ScoreMath.ArgMax(probabilities)];
            }
            row.Probabilities = probabilities;
        };
    }
}
