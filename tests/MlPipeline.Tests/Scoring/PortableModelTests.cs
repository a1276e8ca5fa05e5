using Microsoft.ML.OnnxRuntime;
using MlPipeline.Internals;
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

    [Test]
    public void ClassifyFactory_ManySavedSettings_CachesAtMostItsCapacity()
    {
        // As many distinct saved chains' settings as a long-running process could load: the mapping's cache stays bounded.
        var factory = new PortableModel.ClassifyFactory();
        var map = factory.GetMapping();

        for (int i = 0; i < 50; i++)
        {
            string config = PortableModel.Encode(new PortableModel.ScoringSettings([$"a{i}", $"b{i}"], OutputIsProbabilities: true));
            var row = new PortableModel.ClassRow();
            map(new PortableModel.ScoresRow { Raw = [0.25f, 0.75f], Config = config }, row);

            Assert.That(row.Predicted, Is.EqualTo($"b{i}"));
            Assert.That(factory.CachedSettings, Is.LessThanOrEqualTo(SettingsCache<PortableModel.ScoringSettings>.Capacity), $"after {i + 1} settings");
        }
        Assert.That(factory.CachedSettings, Is.EqualTo(SettingsCache<PortableModel.ScoringSettings>.Capacity));
    }

    [Test]
    public void PathTensorFactory_ManySavedSettings_CachesAtMostItsCapacity()
    {
        var factory = new PortableModel.PathTensorFactory();
        var map = factory.GetMapping();

        for (int i = 0; i < 50; i++)
        {
            var settings = new PortableModel.ImageSettings(new ImagePreprocessing(2, 2, ColorMode.Gray, offset: 0, scale: 1), $"/nowhere/{i}", 1_000_000, ReducedScale: false);
            var row = new PortableModel.TensorRow();
            map(new PortableModel.PathRow { Image = "missing.png", Config = PortableModel.Encode(settings) }, row);

            Assert.That(row.Error, Is.EqualTo("the file does not exist"));
            Assert.That(factory.CachedLoaders, Is.LessThanOrEqualTo(SettingsCache<PortableModel.ImageSettings>.Capacity), $"after {i + 1} settings");
        }
    }

    [Test]
    public void SettingsCache_Get_MakesAValueOnceWhileItStaysCachedAndEvictsTheLeastRecentlyUsed()
    {
        int made = 0;
        var cache = new SettingsCache<string>(s => { made++; return s + "!"; });

        Assert.That(cache.Get("a"), Is.EqualTo("a!"));
        Assert.That(cache.Get("a"), Is.EqualTo("a!"));
        Assert.That(made, Is.EqualTo(1));
        foreach (string s in new[] { "b", "c", "d" }) { cache.Get(s); }
        cache.Get("a"); // a is now the most recent: b goes next
        cache.Get("e");
        Assert.That(cache.Count, Is.EqualTo(SettingsCache<string>.Capacity));
        Assert.That(made, Is.EqualTo(5));
        cache.Get("a");
        cache.Get("b");
        Assert.That(made, Is.EqualTo(6));
    }
}
