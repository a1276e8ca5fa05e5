namespace MlPipeline.Training.Models;

/// <summary>Element-wise and normalising activation functions.</summary>
public enum Activation
{
    /// <summary>max(0, x).</summary>
    Relu,

    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh,

    /// <summary>Softmax over the last dimension (the classes).</summary>
    Softmax,
}
