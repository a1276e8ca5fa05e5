using Google.Protobuf;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Tests.Scoring;

/// <summary>
/// Per-channel normalisation (torchvision's <c>Normalize(mean, std)</c>): given as options, carried in a model's
/// metadata, and applied to each channel with its own values. Expected values are computed here from the decoded
/// pixels with torchvision's formula, not through the code under test.
/// </summary>
public sealed class ChannelNormalizationTests
{
    static readonly float[] Means = [0.485f, 0.456f, 0.406f];
    static readonly float[] Stds = [0.229f, 0.224f, 0.225f];
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>A 12x10 PNG whose three channels differ everywhere.</summary>
    static byte[] Picture()
    {
        using var bitmap = new SKBitmap(12, 10);
        for (int y = 0; y < 10; y++)
        {
            for (int x = 0; x < 12; x++) { bitmap.SetPixel(x, y, new SKColor((byte)(x * 20), (byte)(200 - (y * 15)), (byte)((x * y * 7) % 256))); }
        }
        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    }

    /// <summary>The picture as planar R, G, B values normalised per channel by torchvision's formula, in double.</summary>
    static double[] Torchvision(byte[] png)
    {
        using var bitmap = SKBitmap.Decode(png);
        var result = new double[3 * bitmap.Width * bitmap.Height];
        int plane = bitmap.Width * bitmap.Height;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                byte[] rgb = [c.Red, c.Green, c.Blue];
                for (int ch = 0; ch < 3; ch++) { result[(ch * plane) + (y * bitmap.Width) + x] = ((rgb[ch] / 255.0) - Means[ch]) / Stds[ch]; }
            }
        }
        return result;
    }

    string Model(IReadOnlyDictionary<string, string>? metadata = null)
    {
        var proto = Onnx.ModelProto.Parser.ParseFrom(OnnxModels.ChannelMeans(3, 10, 12));
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            proto.MetadataProps.Add(new Onnx.StringStringEntryProto { Key = key, Value = value });
        }
        string path = Path.Combine(dir, $"m{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        return path;
    }

    [Test]
    public void Preprocess_PerChannelMeansAndStds_NormalisesEachChannelWithItsOwn()
    {
        byte[] png = Picture();
        using var classifier = ImageClassifier.Load(Model(), new ImageClassifierOptions { Means = Means, Stds = Stds });

        float[] served = classifier.Preprocess(png);

        Assert.That(classifier.Preprocessing.IsUniform, Is.False);
        Assert.That(served, Is.EqualTo(Torchvision(png)).Within(2e-5));
    }

    [Test]
    public void Preprocess_ThreeEqualValues_IsExactlyTheSingleValueStockChain()
    {
        byte[] png = Picture();
        using var single = ImageClassifier.Load(Model(), new ImageClassifierOptions { Means = [0.5f], Stds = [0.25f] });
        using var three = ImageClassifier.Load(Model(), new ImageClassifierOptions { Means = [0.5f, 0.5f, 0.5f], Stds = [0.25f, 0.25f, 0.25f] });

        Assert.That(three.Preprocessing, Is.EqualTo(single.Preprocessing));
        Assert.That(three.Preprocess(png), Is.EqualTo(single.Preprocess(png)));
    }

    [Test]
    public void Score_ModelWithPerChannelMetadata_AppliesItWithoutOptions()
    {
        byte[] png = Picture();
        var preprocessing = ImagePreprocessing.Standardized(12, 10, ColorMode.Rgb, Means, Stds);
        var metadata = new ClassifierMetadata(["red", "green", "blue"], preprocessing, "channel-means", new Dictionary<string, string>(), 1, null, "test");
        using var classifier = ImageClassifier.Load(Model(metadata.ToProperties()), new ImageClassifierOptions { IncludeProbabilities = true });

        var prediction = classifier.Predict(png);

        Assert.That(classifier.Preprocessing, Is.EqualTo(preprocessing));
        double[] expected = Torchvision(png);
        int plane = expected.Length / 3;
        var means = Enumerable.Range(0, 3).Select(c => expected.Skip(c * plane).Take(plane).Average()).ToArray();
        Assert.That(prediction.Probabilities, Is.EqualTo(OnnxModels.Softmax(means)).Within(1e-5));
    }

    [Test]
    public void Metadata_PerChannelValues_RoundTripAndSingleValuesStayOneNumber()
    {
        var perChannel = ImagePreprocessing.Standardized(12, 10, ColorMode.Rgb, Means, Stds);
        var metadata = new ClassifierMetadata(["a", "b", "c"], perChannel, "x", new Dictionary<string, string>(), 1, null, "test");

        var properties = metadata.ToProperties();
        var uniform = (metadata with { Preprocessing = ImagePreprocessing.UnitRange(12, 10, ColorMode.Rgb) }).ToProperties();

        Assert.That(properties[OnnxMetadataKeys.PixelOffset.Name].Split(','), Has.Length.EqualTo(3));
        Assert.That(ClassifierMetadata.FromProperties(properties, "m")!.Preprocessing, Is.EqualTo(perChannel));
        Assert.That(uniform[OnnxMetadataKeys.PixelOffset.Name], Is.EqualTo("0"));
    }

    [Test]
    public void Metadata_ThreeOffsetsForAGrayModel_IsInvalidDataNamingTheKey()
    {
        var properties = new ClassifierMetadata(["a", "b"], ImagePreprocessing.UnitRange(12, 10, ColorMode.Gray), "x", new Dictionary<string, string>(), 1, null, "test")
            .ToProperties().ToDictionary();
        properties[OnnxMetadataKeys.PixelOffset.Name] = "1,2,3";

        var e = Assert.Throws<InvalidDataException>(() => ClassifierMetadata.FromProperties(properties, "m.onnx"));

        Assert.That(e!.Message, Does.Contain("m.onnx").And.Contain(OnnxMetadataKeys.PixelOffset.Name).And.Contain("3 offsets").And.Contain("gray"));
    }

    [TestCase(2, "Means has 2 values")]
    [TestCase(4, "Means has 4 values")]
    public void Options_MeansOfTheWrongCount_AreRefused(int count, string message)
    {
        var options = new ImageClassifierOptions { Means = [.. Enumerable.Repeat(0.5f, count)], Stds = [0.2f] };

        var e = Assert.Throws<ArgumentException>(() => options.Validate());

        Assert.That(e!.Message, Does.Contain(message).And.Contain("one per colour channel"));
    }

    [Test]
    public void Load_ThreeMeansForAGrayModel_NamesTheCountAndTheColourMode()
    {
        string model = Path.Combine(dir, "gray.onnx");
        File.WriteAllBytes(model, OnnxModels.ChannelMeans(1, 10, 12));

        var e = Assert.Throws<ArgumentException>(() => ImageClassifier.Load(model, new ImageClassifierOptions { Means = Means, Stds = Stds }));

        Assert.That(e!.Message, Does.Contain(model).And.Contain("is scored as gray (1 channel) but 3 means (0.485,0.456,0.406) were given"));
    }

    [Test]
    public void Record_EqualityComparesEveryChannel()
    {
        var a = ImagePreprocessing.Standardized(4, 4, ColorMode.Rgb, Means, Stds);
        var b = ImagePreprocessing.Standardized(4, 4, ColorMode.Rgb, Means, Stds);
        var c = ImagePreprocessing.Standardized(4, 4, ColorMode.Rgb, [0.485f, 0.456f, 0.5f], Stds);

        Assert.That((a == b, a.GetHashCode() == b.GetHashCode(), a == c), Is.EqualTo((true, true, false)));
        Assert.That(a.ToString(), Does.Contain("Offsets = [").And.Contain(ImagePreprocessing.Join(a.Offsets)));
    }
}
