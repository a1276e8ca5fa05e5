namespace MlPipeline.Scoring;

/// <summary>How an image's pixels are laid out in the model's input channels.</summary>
public enum ColorMode
{
    /// <summary>One channel of luminance.</summary>
    Gray,

    /// <summary>Three channels: red, green, blue.</summary>
    Rgb,

    /// <summary>Three channels: blue, green, red (OpenCV and Caffe models).</summary>
    Bgr,
}
