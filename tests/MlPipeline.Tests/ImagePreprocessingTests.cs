using MlPipeline.Scoring;

namespace MlPipeline.Tests;

public sealed class ImagePreprocessingTests
{
    [Test]
    public void UnitRange_MapsBytesToZeroOne()
    {
        var p = ImagePreprocessing.UnitRange(28, 28, ColorMode.Gray);

        Assert.That((p.Apply(0), p.Apply(255)), Is.EqualTo((0f, 1f)));
    }

    [Test]
    public void Standardized_IsMeanStdNormalisationAsOffsetAndScale()
    {
        var p = ImagePreprocessing.Standardized(28, 28, ColorMode.Gray, mean: 0.1307f, std: 0.3081f);

        Assert.That(p.Apply(200), Is.EqualTo(((200 / 255f) - 0.1307f) / 0.3081f).Within(1e-5));
    }

    [Test]
    public void Validate_ZeroScale_ThrowsNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => new ImagePreprocessing(28, 28, ColorMode.Gray, 0, 0).Validate());

        Assert.That(e!.Message, Does.Contain("scales 0").And.Contain("non-zero scales"));
    }
}
