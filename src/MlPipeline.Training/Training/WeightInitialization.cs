namespace MlPipeline.Training;

/// <summary>How a model's weights are initialised before training.</summary>
public enum WeightInitialization
{
    /// <summary>PyTorch's default: Kaiming-uniform weights and uniform biases.</summary>
    PyTorch,

    /// <summary>Keras's default: Glorot-uniform weights and zero biases.</summary>
    Glorot,
}
