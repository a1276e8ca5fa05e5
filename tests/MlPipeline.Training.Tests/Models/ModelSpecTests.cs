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
        var e = Assert.Throws<ArgumentException>(() => ModelSpec.FromName("resnet"));

        Assert.That(e!.Message, Does.Contain("'resnet'").And.Contain("cnn, mlp"));
    }
}
