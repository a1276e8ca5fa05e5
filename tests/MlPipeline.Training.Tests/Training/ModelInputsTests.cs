using MlPipeline.Data;
using MlPipeline.Scoring;
using TorchSharp;

namespace MlPipeline.Training.Tests.Training;

/// <summary>Images converted a batch at a time equal, bit for bit, their rows of the whole set converted at once (the path training took before).</summary>
public sealed class ModelInputsTests
{
    static ImageSet Colour() => Digits.Coloured(Digits.Mnist.Test.Take(40), 12);

    [TestCase(false)]
    [TestCase(true)]
    public void ImageInputsRows_AnyOrder_EqualTheWholeSetsRows(bool perChannel)
    {
        var images = Colour();
        var preprocessing = perChannel
            ? ImagePreprocessing.Standardized(12, 12, ColorMode.Rgb, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f])
            : ImagePreprocessing.Standardized(12, 12, ColorMode.Rgb, 0.5f, 0.25f);
        long[] order = EpochLoop.Permutation(seed: 7, epoch: 2, images.Count)[..17];
        MlPipeline.Training.Native.TorchNative.EnsureLoaded();
        using var scope = torch.NewDisposeScope();
        using var inputs = new ImageInputs(images, preprocessing);

        var whole = TrainingTensors.Images(images, preprocessing).index_select(0, torch.tensor(order));
        var batch = inputs.Rows(order);
        var range = inputs.Range(5, 9);

        Assert.That(batch.shape, Is.EqualTo(whole.shape));
        Assert.That(batch.data<float>().ToArray(), Is.EqualTo(whole.data<float>().ToArray()));
        Assert.That(range.data<float>().ToArray(), Is.EqualTo(TrainingTensors.Images(images, preprocessing).narrow(0, 5, 9).data<float>().ToArray()));
        Assert.That(inputs.Count, Is.EqualTo(40));
    }
}
