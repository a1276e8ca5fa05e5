using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using MlPipeline.Training.Export;
using MlPipeline.Training.Transfer;
using Onnx;

namespace MlPipeline.Training.Tests.Transfer;

/// <summary>The ResNet-18 backbone from its NuGet package: found, composed with a symbolic batch at opset 17, and equal to the package's own files.</summary>
public sealed class BackboneTests
{
    [Test]
    public void Locate_Restored_FindsThePackageFilesBesideTheTests()
    {
        var backbone = Backbone.Locate(Backbone.ResNet18);

        Assert.That(backbone.Package, Is.EqualTo("Microsoft.ML.DnnImageFeaturizer.ResNet18"));
        Assert.That(backbone.ModelPath, Does.EndWith(Path.Combine("ResNet18Onnx", "ResNet18.onnx")));
        Assert.That(File.Exists(backbone.PreprocessPath), Is.True);
        Assert.That((backbone.InputSize, backbone.FeatureSize), Is.EqualTo((224, 512)));
        Assert.That(backbone.ModelChecksum(), Does.StartWith("sha256:").And.Length.EqualTo(71));
    }

    [Test]
    public void Locate_UnknownName_NamesTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Backbone.Locate("resnet50"));

        Assert.That(e!.Message, Does.Contain("Backbone 'resnet50' is not known; expected one of: resnet18"));
    }

    [Test]
    public void Locate_PackageMissing_SaysWhichPackageToRestore()
    {
        string empty = TempDirectory.Create();
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => Backbone.Locate(Backbone.ResNet18, empty));

            Assert.That(e!.Message, Does.Contain($"'{empty}'"));
            Assert.That(e.Message, Does.Contain("<PackageReference Include=\"Microsoft.ML.DnnImageFeaturizer.ResNet18\" Version=\"0.23.1\" />"));
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Test]
    public void FeaturesModel_Composed_IsOpset17WithASymbolicBatchAndNoOpset8Attributes()
    {
        var model = Backbone.Locate(Backbone.ResNet18) is var b ? b.FeaturesModel("pixels", 17, b.Cut(0)) : null!;

        Assert.That(model.OpsetImport.Single().Version, Is.EqualTo(17));
        Assert.That(model.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("batch"));
        Assert.That(model.Graph.Output.Single().Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("batch"));
        Assert.That(model.Graph.Node.SelectMany(n => n.Attribute).Select(a => a.Name), Does.Not.Contain("spatial").And.Not.Contain("split"));
        Assert.That(model.Graph.Node.Single(n => n.OpType == "Split").Input, Has.Count.EqualTo(2), "opset 13 takes the split sizes as an input");
        Assert.That(model.Graph.ValueInfo, Is.Empty, "no shape fixed at batch 1 is left");
    }

    [Test]
    public void FeaturesModel_Batch7_EqualsThePackagesFilesRunOneImageAtATime()
    {
        var backbone = Backbone.Locate(Backbone.ResNet18);
        const int n = 7, size = 3 * 224 * 224;
        var random = new Random(7);
        float[] pixels = new float[n * size];
        for (int i = 0; i < pixels.Length; i++) { pixels[i] = random.Next(256); }
        using var composed = new InferenceSession(backbone.FeaturesModel("pixels", 17, backbone.Cut(0)).ToByteArray());
        using var prep = new InferenceSession(backbone.PreprocessPath);
        using var network = new InferenceSession(backbone.ModelPath);

        using var all = composed.Run(new RunOptions(), ["pixels"], [OrtValue.CreateTensorValueFromMemory(pixels, [n, 3, 224, 224])], ["features"]);
        float[] batched = all[0].GetTensorDataAsSpan<float>().ToArray();

        double maxDifference = 0, maxValue = 0;
        for (int i = 0; i < n; i++)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(pixels[(i * size)..((i + 1) * size)], [1, 3, 224, 224]);
            using var normalised = prep.Run(new RunOptions(), [prep.InputNames[0]], [input], [prep.OutputNames[0]]);
            using var features = network.Run(new RunOptions(), [network.InputNames[0]], [normalised[0]], [network.OutputNames[0]]);
            var expected = features[0].GetTensorDataAsSpan<float>();
            Assert.That(expected.Length, Is.EqualTo(512));
            for (int k = 0; k < 512; k++)
            {
                maxDifference = Math.Max(maxDifference, Math.Abs(expected[k] - batched[(i * 512) + k]));
                maxValue = Math.Max(maxValue, Math.Abs(expected[k]));
            }
        }
        Assert.That(maxValue, Is.GreaterThan(0.1), "the features are not all zero");
        Assert.That(maxDifference, Is.LessThanOrEqualTo(1e-4 * Math.Max(1, maxValue)));
    }

    [Test]
    public void Upgrade_BatchNormalizationWithSpatialZero_IsRefused()
    {
        var node = new NodeProto { OpType = "BatchNormalization", Name = "bn" };
        node.Output.Add("y");
        node.Attribute.Add(new AttributeProto { Name = "spatial", Type = AttributeProto.Types.AttributeType.Int, I = 0 });

        var e = Assert.Throws<NotSupportedException>(() => OnnxGraphs.Upgrade(node, 8, 17, new GraphProto(), "p/"));

        Assert.That(e!.Message, Does.Contain("spatial=0"));
    }

    [Test]
    public void Upgrade_UnknownOp_IsRefusedByName()
    {
        var e = Assert.Throws<NotSupportedException>(() => OnnxGraphs.Upgrade(new NodeProto { OpType = "Upsample", Name = "up" }, 8, 17, new GraphProto(), "p/"));

        Assert.That(e!.Message, Does.Contain("op Upsample of opset 8"));
    }

    [TestCase(1)]
    [TestCase(3)]
    public void Cut_LastBlocksRebuiltInTorchSharp_ComputeTheNetworksOwnFeatures(int blocks)
    {
        // The features at the cut, through the rebuilt blocks with the imported weights and a global average pool,
        // equal the whole network's output: the blocks are imported exactly, so fine-tuning starts where ImageNet ended.
        var backbone = Backbone.Locate(Backbone.ResNet18);
        var cut = backbone.Cut(blocks);
        const int n = 3, size = 3 * 224 * 224;
        var random = new Random(3);
        float[] pixels = new float[n * size];
        for (int i = 0; i < pixels.Length; i++) { pixels[i] = random.Next(256); }
        using var atCut = new InferenceSession(backbone.FeaturesModel("pixels", 17, cut).ToByteArray());
        using var whole = new InferenceSession(backbone.FeaturesModel("pixels", 17, backbone.Cut(0)).ToByteArray());
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [n, 3, 224, 224]);
        using var cutOutputs = atCut.Run(new RunOptions(), ["pixels"], [input], ["features"]);
        using var wholeOutputs = whole.Run(new RunOptions(), ["pixels"], [input], ["features"]);
        float[] features = cutOutputs[0].GetTensorDataAsSpan<float>().ToArray();
        float[] expected = wholeOutputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.That(features, Has.Length.EqualTo(n * cut.FeatureSize));

        var spec = new MlPipeline.Training.Models.ModelSpec("blocks", cut.Channels, cut.Height, cut.Width, [.. cut.Blocks, new MlPipeline.Training.Models.GlobalAvgPoolLayer(), new MlPipeline.Training.Models.FlattenLayer()]);
        MlPipeline.Training.Native.TorchNative.EnsureLoaded();
        using var module = MlPipeline.Training.Models.ModuleFactory.Build(spec);
        MlPipeline.Training.Models.ModuleFactory.Load(module, cut.Weights, requireAll: true);
        module.eval();
        using var noGrad = TorchSharp.torch.no_grad();
        using var x = TorchSharp.torch.tensor(features, [n, cut.Channels, cut.Height, cut.Width]);
        using var y = module.forward(x);
        float[] actual = y.data<float>().ToArray();

        Assert.That(cut.Blocks, Has.Count.EqualTo(blocks));
        Assert.That(actual, Is.EqualTo(expected).Within(1e-3));
        Assert.That(expected.Max(), Is.GreaterThan(0.1));
    }

    [Test]
    public void Cut_MoreBlocksThanTheNetworkHas_SaysHowManyItHas()
    {
        var backbone = Backbone.Locate(Backbone.ResNet18);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => backbone.Cut(backbone.CountBlocks() + 1));

        Assert.That(e!.Message, Does.Contain($"The backbone has {backbone.CountBlocks()} residual blocks"));
    }
}
