using Microsoft.ML.OnnxRuntime;
using MlPipeline.Data;
using MlPipeline.Scoring;
using MlPipeline.Training.Export;
using MlPipeline.Training.Models;

namespace MlPipeline.Training.Tests.Export;

public sealed class OnnxExporterTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static RunInfo Info(ModelSpec spec, IReadOnlyList<string>? labels = null) => new(
        spec, ImagePreprocessing.UnitRange(spec.InputWidth, spec.InputHeight, ColorMode.Gray),
        labels ?? ["a", "b"], 1, 3, 64, 0.001, 100, new Dictionary<string, string> { ["x"] = "0123" }, 0.5, "9.9.9");

    /// <summary>1x3x3 input → Conv2d(1,1,2) → ReLU → MaxPool(2, stride 1) → Flatten → Linear(1, 2): small enough to work out by hand.</summary>
    static (RunInfo Info, Dictionary<string, float[]> Weights) HandModel()
    {
        var spec = new ModelSpec("hand", 1, 3, 3,
        [
            new Conv2dLayer(1, 1, 2), new ActivationLayer(Activation.Relu), new MaxPool2dLayer(2, Stride: 1),
            new FlattenLayer(), new LinearLayer(1, 2),
        ]);
        var weights = new Dictionary<string, float[]>
        {
            ["0.weight"] = [1, 2, 3, 4],
            ["0.bias"] = [-10],
            ["4.weight"] = [2, -1],
            ["4.bias"] = [1, 3],
        };
        return (Info(spec), weights);
    }

    static (float[] Logits, float[] Probabilities) RunOnnx(string path, float[] input, long[] shape)
    {
        using var session = new InferenceSession(path);
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var outputs = session.Run(new RunOptions(), ["input"], [value], ["logits", "probabilities"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }

    [Test]
    public void Export_HandBuiltModel_ComputesTheHandWorkedLogits()
    {
        var (info, weights) = HandModel();
        using var model = TrainedModel.FromWeights(info, weights);
        string path = Path.Combine(dir, "hand.onnx");
        float[] image = [1, 2, 3, 4, 5, 6, 7, 8, 9];

        OnnxExporter.Export(model, path);
        var (logits, probabilities) = RunOnnx(path, image, [1, 1, 3, 3]);

        // Conv windows: 1*1+2*2+3*4+4*5 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77; minus 10; ReLU keeps
        // them; the 2x2 max is 67; Linear: 2*67+1 = 135 and -67+3 = -64.
        Assert.That(logits, Is.EqualTo(new[] { 135f, -64f }).Within(1e-4));
        Assert.That(model.Logits(image, 1), Is.EqualTo(new[] { 135f, -64f }).Within(1e-4));
        Assert.That(probabilities[0], Is.EqualTo(1f).Within(1e-6));
        Assert.That(probabilities.Sum(), Is.EqualTo(1f).Within(1e-6));
    }

    [Test]
    public void Export_AnyModel_WritesIr8PlusOpset17SymbolicBatchAndBothOutputs()
    {
        var (info, weights) = HandModel();
        using var model = TrainedModel.FromWeights(info, weights);
        string path = Path.Combine(dir, "hand.onnx");

        OnnxExporter.Export(model, path);

        var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.That(proto.IrVersion, Is.EqualTo(8)); // the README promises IR 8 exactly
        Assert.That(proto.OpsetImport.Single().Version, Is.EqualTo(17));
        Assert.That(proto.ProducerName, Is.EqualTo("MlPipeline"));
        Assert.That(proto.DocString, Does.Contain("hand"));
        Assert.That(proto.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("batch"));
        Assert.That(proto.Graph.Output.Select(o => o.Name), Is.EqualTo(new[] { "logits", "probabilities" }));
        using var session = new InferenceSession(path);
        Assert.That(session.InputMetadata["input"].Dimensions, Is.EqualTo(new[] { -1, 1, 3, 3 }));
        Assert.That(session.OutputMetadata["probabilities"].Dimensions, Is.EqualTo(new[] { -1, 2 }));
    }

    [Test]
    public void Export_Metadata_RoundTripsThroughOnnxRuntime()
    {
        var (info, weights) = HandModel();
        using var model = TrainedModel.FromWeights(info, weights);
        string path = Path.Combine(dir, "hand.onnx");

        OnnxExporter.Export(model, path);

        using var session = new InferenceSession(path);
        var metadata = ClassifierMetadata.FromProperties(session.ModelMetadata.CustomMetadataMap, path)!;
        Assert.That(metadata.Labels, Is.EqualTo(info.Labels));
        Assert.That(metadata.Preprocessing, Is.EqualTo(info.Preprocessing));
        Assert.That((metadata.Architecture, metadata.Epochs, metadata.TestAccuracy, metadata.Version), Is.EqualTo(("hand", 3, (double?)0.5, "9.9.9")));
        Assert.That(metadata.TrainingDataChecksums["x"], Is.EqualTo("0123"));
        Assert.That(session.ModelMetadata.ProducerName, Is.EqualTo("MlPipeline"));
    }

    [Test]
    public void Export_Metadata_SaysTheOutputHoldsProbabilitiesAndKeepsChecksumsUnderTheSha256Key()
    {
        var (info, weights) = HandModel();
        using var model = TrainedModel.FromWeights(info, weights);
        string path = Path.Combine(dir, "hand.onnx");

        OnnxExporter.Export(model, path);

        var properties = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.That(properties["mlpipeline.output"], Is.EqualTo("probabilities"));
        Assert.That(properties["mlpipeline.training_data_sha256"], Is.EqualTo("{\"x\":\"0123\"}"));
        Assert.That(properties.ContainsKey("mlpipeline.training_data_md5"), Is.False);
        Assert.That(ClassifierMetadata.FromProperties(properties, path)!.Output, Is.EqualTo(OutputKind.Probabilities));
    }

    [Test]
    public void Export_EveryLayerKind_MatchesTorchSharpWithinTolerance()
    {
        var spec = new ModelSpec("zoo", 2, 12, 12,
        [
            new Conv2dLayer(2, 4, 3, Stride: 1, Padding: 1, Dilation: 1, Groups: 2), new BatchNorm2dLayer(4), new ActivationLayer(Activation.Tanh),
            new AvgPool2dLayer(3, Stride: 2, Padding: 1), new Conv2dLayer(4, 6, 3, Stride: 2, Padding: 2, Dilation: 2, Bias: false),
            new ActivationLayer(Activation.Sigmoid), new MaxPool2dLayer(2, Padding: 1), new DropoutLayer(0.5), new FlattenLayer(),
            new LinearLayer(24, 5, Bias: false), new ActivationLayer(Activation.Relu), new LinearLayer(5, 3),
            new ActivationLayer(Activation.Softmax),
        ]);
        var random = new Random(3);
        var weights = new Dictionary<string, float[]>();
        using (var probe = TrainedModel.FromWeights(Info(spec, ["a", "b", "c"]), Zeros(spec)))
        {
            foreach (var (name, values) in probe.Weights())
            {
                weights[name] = [.. values.Select(_ => name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5f + (float)random.NextDouble() : (float)(random.NextDouble() * 2 - 1))];
            }
        }
        using var model = TrainedModel.FromWeights(Info(spec, ["a", "b", "c"]), weights);
        string path = Path.Combine(dir, "zoo.onnx");
        float[] input = [.. Enumerable.Range(0, 3 * 2 * 12 * 12).Select(_ => (float)random.NextDouble())];

        OnnxExporter.Export(model, path, new OnnxExportOptions { Opset = 13 });
        var (logits, _) = RunOnnx(path, input, [3, 2, 12, 12]);

        Assert.That(logits, Is.EqualTo(model.Logits(input, 3)).Within(1e-5));
    }

    static Dictionary<string, float[]> Zeros(ModelSpec spec)
    {
        // Sizes come from the module itself: build once with any weights by reading the state dict's sizes.
        var sizes = new Dictionary<string, float[]>();
        var shapes = spec.OutputShapes();
        IReadOnlyList<int> input = [spec.InputChannels, spec.InputHeight, spec.InputWidth];
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            switch (spec.Layers[i])
            {
                case Conv2dLayer c:
                    sizes[$"{i}.weight"] = new float[c.OutChannels * (c.InChannels / c.Groups) * c.KernelSize * c.KernelSize];
                    if (c.Bias) { sizes[$"{i}.bias"] = new float[c.OutChannels]; }
                    break;
                case BatchNorm2dLayer b:
                    foreach (var n in new[] { "weight", "bias", "running_mean", "running_var" }) { sizes[$"{i}.{n}"] = new float[b.Features]; }
                    break;
                case LinearLayer l:
                    sizes[$"{i}.weight"] = new float[l.OutFeatures * l.InFeatures];
                    if (l.Bias) { sizes[$"{i}.bias"] = new float[l.OutFeatures]; }
                    break;
            }
            input = shapes[i];
        }
        return sizes;
    }

    [TestCase(12)]
    [TestCase(18)]
    public void Export_OpsetOutOfRange_ThrowsNamingItAndLeavesExistingFile(int opset)
    {
        var (info, weights) = HandModel();
        using var model = TrainedModel.FromWeights(info, weights);
        string path = Path.Combine(dir, "existing.onnx");
        File.WriteAllText(path, "previous content");

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.Export(model, path, new OnnxExportOptions { Opset = opset }));

        Assert.That(e!.Message, Does.Contain($"Opset {opset}").And.Contain("13 to 17"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("previous content"));
        Assert.That(Directory.GetFiles(dir), Has.Length.EqualTo(1));
    }

    sealed record PixelShuffleLayer : LayerSpec
    {
        public override IReadOnlyList<int> OutputShape(IReadOnlyList<int> input) => input;
    }

    [Test]
    public void Build_UnsupportedLayer_ThrowsNamingIt()
    {
        var spec = new ModelSpec("odd", 1, 3, 3, [new PixelShuffleLayer(), new FlattenLayer(), new LinearLayer(9, 2)]);

        var e = Assert.Throws<NotSupportedException>(() =>
            OnnxExporter.Build(Info(spec), new Dictionary<string, float[]> { ["2.weight"] = new float[18], ["2.bias"] = new float[2] }, new OnnxExportOptions()));

        Assert.That(e!.Message, Does.Contain("Layer 0").And.Contain("PixelShuffleLayer").And.Contain("not supported by the ONNX exporter"));
    }

    [Test]
    public void Build_WeightsOfTheWrongSize_ThrowsNamingThem()
    {
        var (info, weights) = HandModel();
        weights["4.weight"] = [1, 2, 3];

        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Build(info, weights, new OnnxExportOptions()));

        Assert.That(e!.Message, Does.Contain("'4.weight' hold 3 values").And.Contain("[2, 1]"));
    }

    [Test]
    public void FromWeights_UnsupportedLayer_ThrowsNamingIt()
    {
        var spec = new ModelSpec("odd", 1, 3, 3, [new PixelShuffleLayer(), new FlattenLayer(), new LinearLayer(9, 2)]);

        var e = Assert.Throws<ArgumentException>(() => TrainedModel.FromWeights(Info(spec), new Dictionary<string, float[]>()));

        Assert.That(e!.Message, Does.Contain("PixelShuffleLayer").And.Contain("not supported"));
    }
}
