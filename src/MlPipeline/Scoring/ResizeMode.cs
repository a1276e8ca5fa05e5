namespace MlPipeline.Scoring;

/// <summary>How an image of another size is brought to the model's width and height.</summary>
public enum ResizeMode
{
    /// <summary>Stretched to the size, aspect ratio not kept (ML.NET's <c>ResizingKind.Fill</c>, nearest neighbour): the default.</summary>
    Stretch,

    /// <summary>Scaled to fit inside the size, aspect kept, the rest black (ML.NET's <c>ResizingKind.IsoPad</c>).</summary>
    Pad,

    /// <summary>Scaled to cover the size, aspect kept, the overflow cut equally on both sides (ML.NET's <c>ResizingKind.IsoCrop</c>, centre anchor).</summary>
    Crop,
}

/// <summary>The order of a model input's dimensions.</summary>
public enum TensorLayout
{
    /// <summary>[batch, channels, height, width]: PyTorch and ONNX's own convention (the default).</summary>
    Nchw,

    /// <summary>[batch, height, width, channels]: TensorFlow and Keras exports.</summary>
    Nhwc,
}

/// <summary>The colour transparent pixels are laid on before they become inputs.</summary>
public enum BackgroundColor
{
    /// <summary>Black.</summary>
    Black,

    /// <summary>White.</summary>
    White,
}
