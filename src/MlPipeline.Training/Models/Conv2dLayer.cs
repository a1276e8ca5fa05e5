namespace MlPipeline.Training.Models;

/// <summary>2-D convolution with a square kernel (PyTorch's <c>nn.Conv2d</c>).</summary>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels (filters).</param>
/// <param name="KernelSize">Kernel height and width.</param>
/// <param name="Stride">Step between windows. Default 1.</param>
/// <param name="Padding">Zero padding on each side. Default 0.</param>
/// <param name="Dilation">Spacing between kernel taps. Default 1.</param>
/// <param name="Groups">Blocked connections from input to output channels. Default 1.</param>
/// <param name="Bias">Whether the layer adds a learned bias. Default true.</param>
public sealed record Conv2dLayer(int InChannels, int OutChannels, int KernelSize, int Stride = 1, int Padding = 0, int Dilation = 1, int Groups = 1, bool Bias = true) : LayerSpec
{
    /// <inheritdoc />
    public override double ParameterCount => ((double)OutChannels * (InChannels / Math.Max(Groups, 1)) * KernelSize * KernelSize) + (Bias ? OutChannels : 0);

    /// <inheritdoc />
    public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input)
    {
        string name = $"Conv2d({InChannels}, {OutChannels}, {KernelSize})";
        RequirePositive(InChannels, "in_channels", name);
        RequirePositive(OutChannels, "out_channels", name);
        RequirePositive(KernelSize, "kernel_size", name);
        RequirePositive(Stride, "stride", name);
        RequirePositive(Dilation, "dilation", name);
        RequirePositive(Groups, "groups", name);
        if (Padding < 0) { throw new ArgumentException($"{name}: padding must not be negative but is {Padding}."); }
        if (InChannels % Groups != 0 || OutChannels % Groups != 0)
        {
            throw new ArgumentException($"{name}: groups = {Groups} must divide both in_channels and out_channels.");
        }
        var (_, h, w) = RequireImage(input, name, InChannels);
        return [OutChannels, Windowed(h, KernelSize, Stride, Padding, Dilation, name), Windowed(w, KernelSize, Stride, Padding, Dilation, name)];
    }
}
