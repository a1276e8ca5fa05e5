using Microsoft.ML.Transforms;
using MlPipeline.Internals;

namespace MlPipeline.Scoring;

// The contract-named mappings ML.NET finds in this assembly when it loads a saved chain. ML.NET creates a factory per
// loaded model, so what a mapping caches from its settings column is owned by that factory (SettingsCache, bounded).
internal static partial class PortableModel
{
    /// <summary>An image loader made from its saved settings.</summary>
    sealed class Loader(ImageSettings settings)
    {
        public ImagePreprocessor Preprocessor { get; } = new(settings.Preprocessing.Validate());

        public ImageSource Source { get; } = ImageSource.ForValues(settings.ImageFolder);

        public ImageSettings Settings => settings;

        public DecodeSettings Decode { get; } = new(settings.MaxImagePixels, settings.ReducedScale, new PixelBudget(DecodeSettings.DefaultBudget), null);
    }

    static void LoadImage(Loader loader, object image, TensorRow row)
    {
        var p = loader.Settings.Preprocessing;
        var tensor = new float[p.Channels * p.Height * p.Width];
        row.Error = loader.Source.TryFill(image, loader.Preprocessor, loader.Decode, tensor) ?? "";
        row.Tensor = tensor;
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

        readonly SettingsCache<Loader> loaders = new(c => new Loader(Parse<ImageSettings>(c)));

        /// <inheritdoc/>
        public override Action<PathRow, TensorRow> GetMapping() => (input, row) => LoadImage(loaders.Get(input.Config), input.Image, row);

        /// <summary>The loaders this mapping holds now (at most <see cref="SettingsCache{T}.Capacity"/>).</summary>
        internal int CachedLoaders => loaders.Count;
    }

    /// <summary>Loads an image from its bytes.</summary>
    [CustomMappingFactoryAttribute(Contract)]
    public sealed class BytesTensorFactory : CustomMappingFactory<BytesRow, TensorRow>
    {
        /// <summary>The contract name.</summary>
        public const string Contract = "MlPipeline.ImageTensor.Bytes.v1";

        readonly SettingsCache<Loader> loaders = new(c => new Loader(Parse<ImageSettings>(c)));

        /// <inheritdoc/>
        public override Action<BytesRow, TensorRow> GetMapping() => (input, row) => LoadImage(loaders.Get(input.Config), input.Image, row);

        /// <summary>The loaders this mapping holds now (at most <see cref="SettingsCache{T}.Capacity"/>).</summary>
        internal int CachedLoaders => loaders.Count;
    }

    /// <summary>Scores to probabilities and the predicted label.</summary>
    [CustomMappingFactoryAttribute(Contract)]
    public sealed class ClassifyFactory : CustomMappingFactory<ScoresRow, ClassRow>
    {
        /// <summary>The contract name.</summary>
        public const string Contract = "MlPipeline.Classify.v1";

        readonly SettingsCache<ScoringSettings> scorings = new(Parse<ScoringSettings>);

        /// <summary>The parsed settings this mapping holds now (at most <see cref="SettingsCache{T}.Capacity"/>).</summary>
        internal int CachedSettings => scorings.Count;

        /// <inheritdoc/>
        public override Action<ScoresRow, ClassRow> GetMapping() => (input, row) =>
        {
            var settings = scorings.Get(input.Config);
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
