using Microsoft.ML.Data;

namespace MlPipeline.Scoring;

// The rows the saved chain's contract-named mappings read and write; their column names are the chain's working columns.
internal static partial class PortableModel
{
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
}
