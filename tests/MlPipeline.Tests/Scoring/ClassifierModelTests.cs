using MlPipeline.Scoring;
using Onnx;

namespace MlPipeline.Tests.Scoring;

public sealed class ClassifierModelTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>
    /// A 3x4x4 input's per-channel means as the output <paramref name="outputName"/>, with no softmax, so the scores do
    /// not look like probabilities; with MlPipeline metadata saying <paramref name="kind"/> when given.
    /// </summary>
    string ChannelMeans(string outputName, OutputKind? kind)
    {
        byte[] bytes = OnnxModels.Edit(OnnxModels.ChannelMeans(3, 4, 4), model =>
        {
            model.Graph.Node.RemoveAt(2); // the softmax
            model.Graph.Node[1].Output[0] = outputName;
            model.Graph.Output[0].Name = outputName;
            if (kind is { } k)
            {
                var metadata = new ClassifierMetadata(["a", "b", "c"], new ImagePreprocessing(4, 4, ColorMode.Rgb, 0f, 1f), "means",
                    new Dictionary<string, string>(), 1, null, "test")
                {
                    Output = k,
                };
                foreach (var (key, value) in metadata.ToProperties()) { model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value }); }
            }
        });
        string path = Path.Combine(dir, $"{outputName}-{kind}.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Channel values 1, 2 and 3: means no probability could be.</summary>
    static float[] Run(ClassifierModel model)
    {
        float[] pixels = [.. Enumerable.Range(0, 3 * 16).Select(i => (float)((i / 16) + 1))];
        var probabilities = new float[3];
        model.Run(pixels, 1, probabilities);
        return probabilities;
    }

    [TestCase("probabilities", OutputKind.Logits)]
    [TestCase("scores", OutputKind.Probabilities)]
    public void Run_MetadataSaysTheOutputKind_TheEntryWinsOverTheOutputName(string outputName, OutputKind kind)
    {
        using var model = ClassifierModel.Load(ChannelMeans(outputName, kind), null);

        float[] probabilities = Run(model);

        Assert.That(model.OutputIsProbabilities, Is.EqualTo(kind == OutputKind.Probabilities));
        Assert.That(probabilities, Is.EqualTo(kind == OutputKind.Probabilities ? new[] { 1f, 2f, 3f } : OnnxModels.Softmax([1, 2, 3])).Within(1e-6));
    }

    [TestCase("probabilities", true)]
    [TestCase("scores", false)]
    public void Run_ForeignModelWithoutTheEntry_GuessesFromTheOutputName(string outputName, bool isProbabilities)
    {
        using var model = ClassifierModel.Load(ChannelMeans(outputName, null), null);

        float[] probabilities = Run(model);

        Assert.That(model.Metadata, Is.Null);
        Assert.That(model.OutputIsProbabilities, Is.EqualTo(isProbabilities));
        Assert.That(probabilities, Is.EqualTo(isProbabilities ? new[] { 1f, 2f, 3f } : OnnxModels.Softmax([1, 2, 3])).Within(1e-6));
    }
}
