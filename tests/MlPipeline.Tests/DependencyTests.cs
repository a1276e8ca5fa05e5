using System.Text.Json;
using MlPipeline.Scoring;

namespace MlPipeline.Tests;

public sealed class DependencyTests
{
    [Test]
    public void MlPipeline_References_NoTorchSharpAssembly()
    {
        var references = typeof(ImagePreprocessing).Assembly.GetReferencedAssemblies().Select(a => a.Name);

        Assert.That(references, Has.None.Contains("Torch").IgnoreCase);
    }

    [Test]
    public void MlPipeline_References_OnlyMlNetOnnxRuntimeAndImageDecoding()
    {
        var references = typeof(ImagePreprocessing).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.That(references, Has.Some.StartWith("Microsoft.ML"));
        Assert.That(references, Has.Some.EqualTo("SkiaSharp"));
        // ONNX protobuf messages (OnnxSharp over Google.Protobuf, which ML.NET's OnnxTransformer brings anyway) are
        // MlPipeline's: the saved chain writes its Identity models with them, as the exporter writes whole models.
        Assert.That(references, Has.None.StartWith("OxyPlot").And.None.StartWith("HarfBuzz"),
            "plotting lives in MlPipeline.Reporting");
    }

    [Test]
    public void MlPipeline_Holds_NoDataSetFetching()
    {
        var types = typeof(ImagePreprocessing).Assembly.GetTypes().Select(t => t.Name).ToList();

        Assert.That(types, Has.None.AnyOf("IdxDataSet", "Mnist", "EmojiCategories", "DataSetFetchOptions", "NpmPack", "IdxReader"),
            "the data sets and their fetching live in MlPipeline.Datasets");
        Assert.That(typeof(ImagePreprocessing).Assembly.GetReferencedAssemblies().Select(a => a.Name), Has.None.EqualTo("MlPipeline.Datasets"));
    }

    [Test]
    public void MlPipeline_PullsIn_NoTorchSharpPackage()
    {
        // The test project references MlPipeline and MlPipeline.Reporting, neither of which may bring TorchSharp.
        string deps = Path.Combine(AppContext.BaseDirectory, "MlPipeline.Tests.deps.json");
        using var json = JsonDocument.Parse(File.ReadAllText(deps));

        var libraries = json.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();

        Assert.That(libraries, Has.Some.StartsWith("Microsoft.ML.OnnxRuntime/"));
        Assert.That(libraries, Has.None.Contains("torch").IgnoreCase);
    }
}
