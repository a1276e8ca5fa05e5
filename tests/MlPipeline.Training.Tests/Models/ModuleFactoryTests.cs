using MlPipeline.Training.Models;
using MlPipeline.Training.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace MlPipeline.Training.Tests.Models;

public sealed class ModuleFactoryTests
{
    [Test]
    public void Build_BatchNormalisedModel_LaysActivationsOutChannelsLastWithTheSameValues()
    {
        TorchNative.EnsureLoaded();
        var spec = ModelSpec.ResNet(4, 3, 20, 24);
        torch.manual_seed(7);
        using var model = ModuleFactory.Build(spec);
        model.eval();
        using var scope = torch.NewDisposeScope();
        var x = torch.rand(5, 3, 20, 24);

        var stem = ((nn.Module<Tensor, Tensor>)model.children().First()).call(x);
        var hooked = model.call(x);
        // The same layers run one by one through forward(), which skips hooks: the plain NCHW computation.
        var plain = x;
        foreach (var child in model.children()) { plain = ((nn.Module<Tensor, Tensor>)child).forward(plain); }

        Assert.That(ModuleFactory.UsesChannelsLast(spec), Is.True);
        Assert.That(stem.shape, Is.EqualTo(new long[] { 5, 32, 20, 24 }));
        Assert.That(stem.stride(), Is.EqualTo(new long[] { 32 * 20 * 24, 1, 24 * 32, 32 }), "NHWC order in memory");
        Assert.That(hooked.sub(plain).abs().max().item<float>(), Is.LessThan(1e-5f));
    }

    [Test]
    public void Build_ModelWithoutBatchNorm_KeepsTheDefaultLayout()
    {
        var spec = ModelSpec.Cnn();

        Assert.That(ModuleFactory.UsesChannelsLast(spec), Is.False);
        Assert.That(ModuleFactory.UsesChannelsLast(ModelSpec.Mlp()), Is.False);
    }
}
