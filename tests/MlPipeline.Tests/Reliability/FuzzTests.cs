using MlPipeline.Evaluation;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Tests.Reliability;

/// <summary>The scoring library's readers of user files against seeded mutations (see <see cref="Fuzzer"/>).</summary>
[Category("Slow")]
public sealed class FuzzTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static byte[] Digit(int index) => Digits.Png(index);

    [Test]
    public void Predict_MutatedPng_GivesAPredictionOrInvalidData()
    {
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        Fuzzer.Run<InvalidDataException>("PNG", Digit(0), bytes => classifier.Predict(bytes));
    }

    [Test]
    public void Predict_MutatedJpeg_GivesAPredictionOrInvalidData()
    {
        byte[] jpeg;
        using (var bitmap = SKBitmap.Decode(Digit(1)))
        using (var image = SKImage.FromBitmap(bitmap))
        using (var data = image.Encode(SKEncodedImageFormat.Jpeg, 90)) { jpeg = data.ToArray(); }
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        Fuzzer.Run<InvalidDataException>("JPEG", jpeg, bytes => classifier.Predict(bytes));
    }

    [Test]
    public void Load_MutatedOnnx_GivesAClassifierOrInvalidData()
    {
        string path = Path.Combine(dir, "model.onnx");

        Fuzzer.Run<InvalidDataException>("ONNX", ImageClassifier.BuiltInMnistModel(), bytes =>
        {
            File.WriteAllBytes(path, bytes);
            using var classifier = ImageClassifier.Load(path);
        });
    }

    [Test]
    public void ReadLabelFiles_MutatedText_LoadOrInvalidData()
    {
        string csv = Path.Combine(dir, "labels.csv");
        byte[] valid = System.Text.Encoding.UTF8.GetBytes("path,label\n\"a b.png\",7\nc.png,\"1,2\"\nd/e.png,x\n");

        Fuzzer.Run<InvalidDataException>("labels CSV", valid, bytes =>
        {
            File.WriteAllBytes(csv, bytes);
            LabelledImages.FromCsv(csv);
        });
        Fuzzer.Run<InvalidDataException>("labels file", valid, bytes =>
        {
            File.WriteAllBytes(csv, bytes);
            ImageClassifierOptions.ReadLabels(csv);
        });
    }
}
