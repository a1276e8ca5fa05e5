namespace MlPipeline.Scoring;

/// <summary>What a classifier's class-score output holds, as <see cref="OnnxMetadataKeys.Output"/> records it.</summary>
public enum OutputKind
{
    /// <summary>Unnormalised scores; scoring applies a softmax.</summary>
    Logits,

    /// <summary>Probabilities already (a softmax inside the graph); scoring uses them as they are.</summary>
    Probabilities,
}
