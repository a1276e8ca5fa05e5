namespace MlPipeline.Training.Models;

/// <summary>The head trained on a frozen backbone's features.</summary>
public enum HeadKind
{
    /// <summary>One linear layer from the features to the classes.</summary>
    Linear,

    /// <summary>A hidden layer of 256 with ReLU and dropout, then the linear layer to the classes.</summary>
    Mlp,
}
