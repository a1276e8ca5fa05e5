using MlPipeline.Scoring;

namespace MlPipeline.Tests.Scoring;

public sealed class ScoreMathTests
{
    [TestCase(new[] { 0.2f, 0.4f, 0.4f }, 1)]
    [TestCase(new[] { 0.5f, 0.5f }, 0)]
    [TestCase(new[] { -3f, -1f, -2f }, 1)]
    [TestCase(new[] { 1f, float.NaN, 2f }, 2)]
    [TestCase(new[] { float.NaN, 5f }, 0)]
    public void ArgMax_Values_IsTheFirstLargestAndSkipsNaNAfterTheFirst(float[] values, int expected) =>
        Assert.That(ScoreMath.ArgMax(values), Is.EqualTo(expected));
}
