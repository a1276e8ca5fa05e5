using MlPipeline.Scoring;
using Onnx;

namespace MlPipeline.Tests.Scoring;

public sealed class ClassifierMetadataTests
{
    const string OldChecksumsKey = "mlpipeline.training_data_md5";

    static ClassifierMetadata Sample() => new(["a", "b"], ImagePreprocessing.UnitRange(12, 10, ColorMode.Gray), "cnn",
        new Dictionary<string, string> { ["train.csv"] = "sha256:00ff" }, 4, 0.75, "1.2.3");

    [Test]
    public void ToProperties_Checksums_AreWrittenUnderTheSha256KeyOnly()
    {
        var properties = Sample().ToProperties();

        Assert.That(properties[OnnxMetadataKeys.TrainingDataChecksums.Name], Is.EqualTo("{\"train.csv\":\"sha256:00ff\"}"));
        Assert.That(OnnxMetadataKeys.TrainingDataChecksums.Name, Is.EqualTo("mlpipeline.training_data_sha256"));
        Assert.That(properties.ContainsKey(OldChecksumsKey), Is.False);
    }

    [Test]
    public void FromProperties_OnlyTheOldChecksumKey_ReadsTheChecksums()
    {
        var properties = Sample().ToProperties().ToDictionary();
        properties.Remove(OnnxMetadataKeys.TrainingDataChecksums.Name);
        properties[OldChecksumsKey] = "{\"train-images-idx3-ubyte\":\"6bbc9ace898e44ae57da46a324031adb\"}";

        var metadata = ClassifierMetadata.FromProperties(properties, "old.onnx")!;

        Assert.That(metadata.TrainingDataChecksums, Is.EqualTo(new Dictionary<string, string> { ["train-images-idx3-ubyte"] = "6bbc9ace898e44ae57da46a324031adb" }));
    }

    [Test]
    public void Load_BuiltInModelWrittenWithTheOldChecksumKey_ReadsItsChecksums()
    {
        var keys = ModelProto.Parser.ParseFrom(ClassifierModel.BuiltInMnistModel()).MetadataProps.Select(p => p.Key).ToList();
        using var model = ClassifierModel.LoadBuiltInMnist(null);

        Assert.That(keys, Does.Contain(OldChecksumsKey).And.Not.Contain(OnnxMetadataKeys.TrainingDataChecksums.Name));
        Assert.That(model.Metadata!.TrainingDataChecksums["train-images-idx3-ubyte"], Is.EqualTo("6bbc9ace898e44ae57da46a324031adb"));
        Assert.That(model.Metadata.Output, Is.Null);
    }

    [Test]
    public void FromProperties_OutputAndBackbone_RoundTrip()
    {
        var written = Sample() with { Output = OutputKind.Logits, Backbone = new BackboneMetadata("resnet18", "Package 1.0", "mlp", 2) };
        var properties = written.ToProperties();

        var read = ClassifierMetadata.FromProperties(properties, "m.onnx")!;

        Assert.That(properties[OnnxMetadataKeys.Output.Name], Is.EqualTo("logits"));
        Assert.That((read.Output, read.Backbone), Is.EqualTo(((OutputKind?)OutputKind.Logits, written.Backbone)));
        Assert.That(ClassifierMetadata.FromProperties(Sample().ToProperties(), "m.onnx")!.Backbone, Is.Null);
    }

    [Test]
    public void FromProperties_UnknownOutputKind_IsInvalidDataNamingTheKey()
    {
        var properties = Sample().ToProperties().ToDictionary();
        properties[OnnxMetadataKeys.Output.Name] = "scores";

        var e = Assert.Throws<InvalidDataException>(() => ClassifierMetadata.FromProperties(properties, "m.onnx"));

        Assert.That(e!.Message, Does.Contain("m.onnx").And.Contain("'mlpipeline.output' value 'scores'").And.Contain("expected one of logits, probabilities"));
    }
}
