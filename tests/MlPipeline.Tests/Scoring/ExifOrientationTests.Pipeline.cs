using System.Text.Json;
using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using MlPipeline.Data;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Tests.Scoring;

/// <summary>The orientation through scoring, ML.NET pipelines and their saved form, training's folder reading and the model metadata.</summary>
public sealed partial class ExifOrientationTests
{
    /// <summary>MNIST test digit <paramref name="index"/> as an upright 28x28 bitmap.</summary>
    static SKBitmap Digit(int index)
    {
        var pixels = Digits.Mnist.Test.Image(index);
        var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Bgra8888, SKAlphaType.Unpremul));
        for (int p = 0; p < 784; p++) { bitmap.SetPixel(p % 28, p / 28, new SKColor(pixels[p], pixels[p], pixels[p])); }
        return bitmap;
    }

    /// <summary>The largest difference of two model inputs, in pixel levels.</summary>
    static double Levels(float[] a, float[] b, ImagePreprocessing p) =>
        a.Zip(b, (x, y) => Math.Abs(x - y)).Max() / Math.Abs(p.Scales[0]);

    [Test]
    public void Preprocess_TaggedDigit_EqualsTheUprightFileWithinJpegNoise_AndIsTheStoredOneWhenIgnored([Values(2, 3, 6, 8)] int orientation)
    {
        using var upright = Digit(0);
        using var stored = ExifJpeg.Stored(upright, orientation);
        byte[] tagged = ExifJpeg.Tagged(stored, orientation);
        using var classifier = ImageClassifier.LoadBuiltInMnist();
        using var ignoring = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { IgnoreExifOrientation = true });

        float[] oriented = classifier.Preprocess(tagged);
        float[] asStored = ignoring.Preprocess(tagged);

        Assert.That(Levels(oriented, classifier.Preprocess(ExifJpeg.Encode(upright)), classifier.Preprocessing), Is.LessThanOrEqualTo(JpegNoise));
        Assert.That(asStored, Is.EqualTo(classifier.Preprocess(ExifJpeg.Encode(stored))), "ignored, the tag changes nothing");
        Assert.That(Levels(asStored, oriented, classifier.Preprocessing), Is.GreaterThan(100), "a turned or mirrored digit is another picture");
        Assert.That(ignoring.Preprocessing.DescribeGeometry(), Does.EndWith(", EXIF orientation ignored"));
    }

    [Test]
    public void ScoreFolder_DigitsStoredSidewaysWithTheirTag_ScoreAsTheUprightDigits()
    {
        string folder = Path.Combine(dir, "sideways");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < 40; i++)
        {
            using var digit = Digit(i);
            using var stored = ExifJpeg.Stored(digit, 6);
            string name = $"{i:D2}.jpg";
            Write(Path.Combine("sideways", name), ExifJpeg.Tagged(stored, 6));
            Write(Path.Combine("upright", name), ExifJpeg.Encode(digit));
            labels[name] = Digits.Mnist.Test.ClassNames[Digits.Mnist.Test.Labels.Span[i]];
        }
        using var classifier = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { Threads = 1 });
        using var ignoring = ImageClassifier.LoadBuiltInMnist(new ImageClassifierOptions { Threads = 1, IgnoreExifOrientation = true });
        int Right(ImageClassifier c, string f) => c.ScoreFolder(f).Count(r => r.Prediction!.Label == labels[r.Path]);

        int sideways = Right(classifier, folder), upright = Right(classifier, Path.Combine(dir, "upright")), ignored = Right(ignoring, folder);

        Assert.That(upright, Is.GreaterThanOrEqualTo(38));
        Assert.That(sideways, Is.EqualTo(upright));
        Assert.That(ignored, Is.LessThan(20), "the digits as stored lie on their side");
    }

    [Test]
    public void LoadImageTensor_SavedAndLoaded_KeepsTheOrientationChoice([Values] bool ignore)
    {
        using var upright = Upright();
        using var stored = ExifJpeg.Stored(upright, 6);
        var ml = new MLContext(seed: 0);
        var rows = ml.Data.LoadFromEnumerable(new[] { new BytesRow { Image = ExifJpeg.Tagged(stored, 6) } });
        var preprocessing = new ImagePreprocessing(24, 16, ColorMode.Rgb, 0f, 1f) { IgnoreExifOrientation = ignore };
        var fitted = ml.Transforms.LoadImageTensor("t", nameof(BytesRow.Image), preprocessing).Fit(rows);
        string zip = Path.Combine(dir, "tensor.zip");
        ml.Model.Save(fitted, rows.Schema, zip);

        float[] before = fitted.Transform(rows).GetColumn<float[]>("t").Single();
        float[] after = new MLContext(seed: 1).Model.Load(zip, out _).Transform(rows).GetColumn<float[]>("t").Single();
        float[] uprightTensor = new float[3 * 24 * 16];
        new ImagePreprocessor(preprocessing).Fill(ExifJpeg.Encode(upright), long.MaxValue, uprightTensor);

        Assert.That(after, Is.EqualTo(before));
        Assert.That(Levels(after, uprightTensor, preprocessing), ignore ? Is.GreaterThan(100) : Is.LessThanOrEqualTo(JpegNoise));
    }

    sealed class BytesRow
    {
        public byte[] Image { get; set; } = [];
    }

    /// <summary>Class folders a and b holding the 24x16 picture stored under six orientations, tagged.</summary>
    string TaggedFolder()
    {
        using var upright = Upright();
        foreach (var (label, orientation) in new[] { ("a", 1), ("a", 6), ("a", 8), ("b", 3), ("b", 5), ("b", 7) })
        {
            using var stored = ExifJpeg.Stored(upright, orientation);
            Write(Path.Combine("set", label, $"o{orientation}.jpg"), ExifJpeg.Tagged(stored, orientation));
        }
        return Path.Combine(dir, "set");
    }

    [Test]
    public void ImageFolderDataLoad_TaggedFiles_AreReadUprightAtTheirUprightSize()
    {
        var loaded = ImageFolderData.Load(TaggedFolder(), new ImageFolderOptions { ValidationSplit = 0.5 });

        using var upright = Upright();
        byte[] rgb = Rgb(upright);
        byte[] planar = [.. Enumerable.Range(0, 3).SelectMany(c => Enumerable.Range(0, 24 * 16).Select(i => rgb[(i * 3) + c]))];
        var sets = new[] { loaded.Data.Train, loaded.Data.Test };
        Assert.That(loaded.Preprocessing, Is.EqualTo(new ImagePreprocessing(24, 16, ColorMode.Rgb, 0f, 1f)), "no size given: the size the images share upright");
        Assert.That(sets.Sum(s => s.Count), Is.EqualTo(6));
        foreach (var set in sets)
        {
            for (int i = 0; i < set.Count; i++) { Assert.That(MaxDifference(set.Image(i), planar), Is.LessThanOrEqualTo(JpegNoise)); }
        }
    }

    [Test]
    public void ImageFolderDataLoad_IgnoreExifOrientation_ReadsTheStoredSizesAndRecordsTheChoice()
    {
        string folder = TaggedFolder();

        var e = Assert.Throws<InvalidDataException>(() => ImageFolderData.Load(folder, new ImageFolderOptions { IgnoreExifOrientation = true }));
        var loaded = ImageFolderData.Load(folder, new ImageFolderOptions { IgnoreExifOrientation = true, Width = 24, Height = 16 });

        Assert.That(e!.Message, Does.Contain("have different sizes").And.Contain("24x16").And.Contain("16x24"));
        Assert.That(loaded.Preprocessing.IgnoreExifOrientation, Is.True);
        Assert.That(loaded.Data.Source!.IgnoreExifOrientation, Is.True, "what training records with the model");
    }

    [Test]
    public void Metadata_ExifOrientation_IsWrittenOnlyWhenIgnored_AndAbsentMeansApply()
    {
        var applying = new ClassifierMetadata(["a", "b"], ImagePreprocessing.UnitRange(24, 16, ColorMode.Rgb), "x", new Dictionary<string, string>(), 1, null, "test");
        var ignoring = applying with { Preprocessing = applying.Preprocessing with { IgnoreExifOrientation = true } };

        var written = ignoring.ToProperties();
        var bad = written.ToDictionary();
        bad[OnnxMetadataKeys.IgnoreExifOrientation.Name] = "sideways";

        Assert.That(applying.ToProperties().ContainsKey(OnnxMetadataKeys.IgnoreExifOrientation.Name), Is.False, "older readers see older files");
        Assert.That(written[OnnxMetadataKeys.IgnoreExifOrientation.Name], Is.EqualTo("ignore"));
        Assert.That(ClassifierMetadata.FromProperties(written, "m")!.Preprocessing, Is.EqualTo(ignoring.Preprocessing));
        Assert.That(ClassifierMetadata.FromProperties(applying.ToProperties(), "m")!.Preprocessing.IgnoreExifOrientation, Is.False);
        var e = Assert.Throws<InvalidDataException>(() => ClassifierMetadata.FromProperties(bad, "m.onnx"));
        Assert.That(e!.Message, Does.Contain("m.onnx").And.Contain("'mlpipeline.exif_orientation' value 'sideways'").And.Contain("expected apply or ignore"));
    }

    [Test]
    public void Load_ModelWhoseMetadataIgnoresTheOrientation_IgnoresItUnlessTheOptionsSayOtherwise()
    {
        var preprocessing = ImagePreprocessing.UnitRange(24, 16, ColorMode.Rgb) with { IgnoreExifOrientation = true };
        var proto = Onnx.ModelProto.Parser.ParseFrom(OnnxModels.ChannelMeans(3, 16, 24));
        foreach (var (key, value) in new ClassifierMetadata(["r", "g", "b"], preprocessing, "channel-means", new Dictionary<string, string>(), 1, null, "test").ToProperties())
        {
            proto.MetadataProps.Add(new Onnx.StringStringEntryProto { Key = key, Value = value });
        }
        string model = Write("m.onnx", proto.ToByteArray());

        using var fromMetadata = ImageClassifier.Load(model);
        using var overridden = ImageClassifier.Load(model, new ImageClassifierOptions { IgnoreExifOrientation = false });

        Assert.That(fromMetadata.Preprocessing, Is.EqualTo(preprocessing));
        Assert.That(overridden.Preprocessing.IgnoreExifOrientation, Is.False);
    }

    [Test]
    public void ImagePreprocessingJson_WithoutTheOrientationField_AppliesTheOrientation()
    {
        var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var ignoring = ImagePreprocessing.UnitRange(24, 16, ColorMode.Gray) with { IgnoreExifOrientation = true };

        string json = JsonSerializer.Serialize(ignoring, web);
        string older = json.Replace(",\"ignoreExifOrientation\":true", "", StringComparison.Ordinal);

        Assert.That(json, Does.Contain("\"ignoreExifOrientation\":true"));
        Assert.That(JsonSerializer.Deserialize<ImagePreprocessing>(json, web), Is.EqualTo(ignoring));
        Assert.That(older, Does.Not.Contain("ignoreExifOrientation"));
        Assert.That(JsonSerializer.Deserialize<ImagePreprocessing>(older, web)!.IgnoreExifOrientation, Is.False, "a file written before the field applies the orientation");
    }
}
