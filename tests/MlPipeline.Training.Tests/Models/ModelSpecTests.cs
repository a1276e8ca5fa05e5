using MlPipeline.Training.Models;

namespace MlPipeline.Training.Tests.Models;

public sealed class ModelSpecTests
{
    [Test]
    public void Cnn_Mnist_HasKerasShapes()
    {
        var shapes = ModelSpec.Cnn().OutputShapes();

        Assert.That(shapes[0], Is.EqualTo(new[] { 32, 26, 26 }));
        Assert.That(shapes[2], Is.EqualTo(new[] { 32, 13, 13 }));
        Assert.That(shapes[5], Is.EqualTo(new[] { 64, 5, 5 }));
        Assert.That(shapes[8], Is.EqualTo(new[] { 576 }));
        Assert.That(ModelSpec.Cnn().ClassCount, Is.EqualTo(10));
    }

    [Test]
    public void Mlp_Mnist_IsTheTutorialNetwork()
    {
        var spec = ModelSpec.Mlp();

        Assert.That(spec.Layers.OfType<LinearLayer>().Select(l => (l.InFeatures, l.OutFeatures)),
            Is.EqualTo(new[] { (784, 10), (10, 10), (10, 10) }));
        Assert.That(spec.Layers.OfType<ActivationLayer>().Select(a => a.Function), Is.All.EqualTo(Activation.Sigmoid));
    }

    [Test]
    public void OutputShapes_LinearWithWrongInFeatures_ThrowsNamingLayer()
    {
        var spec = new ModelSpec("bad", 1, 28, 28, [new FlattenLayer(), new LinearLayer(100, 10)]);

        var e = Assert.Throws<ArgumentException>(() => spec.OutputShapes());

        Assert.That(e!.Message, Does.Contain("layer 1").And.Contain("Linear(100, 10) expects [100]").And.Contain("[784]"));
    }

    [Test]
    public void FromName_Unknown_ThrowsListingKnownNames()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelSpec.FromName("vgg"));

        Assert.That(e!.Message, Does.Contain("'vgg'").And.Contain("cnn, mlp, resnet"));
    }

    [TestCase(1, 28, 28, 10)]
    [TestCase(3, 17, 40, 2)]
    [TestCase(3, 47, 200, 5)]
    public void ResNet_SmallInput_EndsInOneScorePerClassThroughProjectedBlocks(int channels, int height, int width, int classes)
    {
        var spec = ModelSpec.ResNet(classes, channels, height, width);

        var shapes = spec.OutputShapes();

        Assert.That(spec.ClassCount, Is.EqualTo(classes));
        Assert.That(spec.Layers.OfType<MaxPool2dLayer>(), Is.Empty);
        // Blocks 32→32 (identity shortcut), 32→64 and 64→128 (projections, stride 2): the plane halves twice.
        var blocks = spec.Layers.OfType<ResidualBlockLayer>().ToList();
        Assert.That(blocks.Select(b => b.Projects), Is.EqualTo(new[] { false, true, true }));
        int block3 = spec.Layers.ToList().IndexOf(blocks[2]);
        Assert.That(shapes[block3], Is.EqualTo(new[] { 128, Halved(Halved(height)), Halved(Halved(width)) }));
        Assert.That(shapes[block3 + 1], Is.EqualTo(new[] { 128, 1, 1 }));
        // Parameters: stem 9C·32 + BN, blocks, head; checked against the layers' own sums.
        Assert.That(spec.ParameterCount, Is.EqualTo(spec.Layers.Sum(l => l.ParameterCount)));
        Assert.That(blocks[1].ParameterCount, Is.EqualTo((9 * 32 * 64) + (9 * 64 * 64) + (8 * 64) + (32 * 64) + (4 * 64)));
    }

    [TestCase(3, 64, 64, 9)]
    [TestCase(1, 48, 100, 3)]
    [TestCase(3, 224, 224, 1000)]
    public void ResNet_LargeInput_PoolsAfterTheStemAndAddsAFourthBlock(int channels, int height, int width, int classes)
    {
        var spec = ModelSpec.ResNet(classes, channels, height, width);

        var shapes = spec.OutputShapes();

        Assert.That(spec.Layers[3], Is.EqualTo(new MaxPool2dLayer(2)));
        var blocks = spec.Layers.OfType<ResidualBlockLayer>().ToList();
        Assert.That(blocks.Select(b => (b.OutChannels, b.Projects)), Is.EqualTo(new[] { (32, false), (64, true), (128, true), (256, true) }));
        // The pool halves the plane, then three stride-2 blocks: 64×64 ends on 4×4, as 28×28 ends on 7×7.
        int block4 = spec.Layers.ToList().IndexOf(blocks[3]);
        int h = Halved(Halved(Halved(height / 2))), w = Halved(Halved(Halved(width / 2)));
        Assert.That(shapes[block4], Is.EqualTo(new[] { 256, h, w }));
        Assert.That(spec.Layers[^1], Is.EqualTo(new LinearLayer(256, classes)));
        Assert.That(shapes[^1], Is.EqualTo(new[] { classes }));
    }

    static int Halved(int size) => ((size - 1) / 2) + 1;   // 3x3, stride 2, padding 1

    [Test]
    public void ResidualBlock_JsonRoundTrip_KeepsTheLayer()
    {
        var spec = ModelSpec.ResNet(4, 3, 32, 32);

        string json = System.Text.Json.JsonSerializer.Serialize(spec);
        var back = System.Text.Json.JsonSerializer.Deserialize<ModelSpec>(json)!;

        Assert.That(json, Does.Contain("\"residual\"").And.Contain("\"globalavgpool\""));
        Assert.That(back.Layers, Is.EqualTo(spec.Layers));
    }
}
