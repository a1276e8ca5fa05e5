namespace MlPipeline.Scoring;

/// <summary>The pretrained backbone a transfer-learned model's head was trained on, as its ONNX metadata records it.</summary>
/// <param name="Name">The backbone (for example <c>resnet18</c>).</param>
/// <param name="Package">The NuGet package and version it came from (for example <c>Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1</c>).</param>
/// <param name="Head">The head's kind: <c>linear</c> or <c>mlp</c>.</param>
/// <param name="FineTunedBlocks">How many of the backbone's last residual blocks were fine-tuned (0: frozen).</param>
public sealed record BackboneMetadata(string Name, string Package, string Head, int FineTunedBlocks);
