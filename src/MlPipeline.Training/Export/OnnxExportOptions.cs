namespace MlPipeline.Training.Export;

/// <summary>How <see cref="OnnxExporter"/> writes a model.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The lowest opset accepted.</summary>
    public const int MinOpset = 13;

    /// <summary>The highest opset accepted.</summary>
    public const int MaxOpset = 17;

    /// <summary>ONNX opset of the default domain, from 13 to 17. Default: 17.</summary>
    public int Opset { get; init; } = 17;

    /// <summary>Where a backbone's files are (see <see cref="Transfer.Backbone.Locate"/>). Default: null (found as training found them).</summary>
    public string? BackboneDirectory { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when <see cref="Opset"/> is outside 13–17.</summary>
    public OnnxExportOptions Validate()
    {
        if (Opset is < MinOpset or > MaxOpset)
        {
            throw new ArgumentOutOfRangeException(nameof(Opset), Opset, $"Opset {Opset} is not supported; expected {MinOpset} to {MaxOpset}.");
        }
        return this;
    }
}
