using Microsoft.ML.OnnxRuntime;
using MlPipeline.Scoring;

namespace MlPipeline.Tests.Scoring;

public sealed class PortableModelTests
{
    [Test]
    public void IdentityModel_InOnnxRuntime_PassesAVectorThroughWithTheFixedSize()
    {
        byte[] model = PortableModel.IdentityModel("in", "out", 3);

        using var session = new InferenceSession(model);
        using var value = OrtValue.CreateTensorValueFromMemory(new float[] { 1, -2, 3.5f }, [1, 3]);
        using var outputs = session.Run(new RunOptions(), ["in"], [value], ["out"]);

        Assert.That(session.InputMetadata["in"].Dimensions, Is.EqualTo(new[] { 1, -1 }));
        Assert.That(session.OutputMetadata["out"].Dimensions, Is.EqualTo(new[] { 1, 3 }));
        Assert.That(outputs[0].GetTensorDataAsSpan<float>().ToArray(), Is.EqualTo(new[] { 1, -2, 3.5f }));
    }
}
