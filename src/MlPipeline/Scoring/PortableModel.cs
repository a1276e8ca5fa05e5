using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

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
/// This file builds the chains; the settings' encoding, the row types, the mappings, the Identity models and the
/// empty input each have their own file (<c>PortableModel.*.cs</c>, <see cref="EmptyDataView"/>).
/// </summary>
internal static partial class PortableModel
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
}
