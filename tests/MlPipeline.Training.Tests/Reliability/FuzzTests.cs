using System.Diagnostics;
using MlPipeline.Data;
using MlPipeline.Evaluation;
using MlPipeline.Internals;
using MlPipeline.Scoring;
using MlPipeline.Training.Models;
using SkiaSharp;
using TorchSharp;

namespace MlPipeline.Training.Tests.Reliability;

/// <summary>
/// Seeded, count-bounded fuzzing: random and mutated bytes fed to every reader of user files must produce a result or
/// the documented error type, never anything else. A failure prints the seed, the iteration and the mutation, so it
/// can be replayed by running with that seed.
/// </summary>
[Category("Slow")]
public sealed class FuzzTests
{
    const int Seed = 20261128;
    // Each target sees a fixed number of inputs, so a run is the same run on any machine; the time cap only keeps a
    // very slow machine from running for minutes, and says so when it cuts a run short.
    const int Inputs = 1500;
    static readonly TimeSpan Cap = TimeSpan.FromSeconds(20);
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    /// <summary>One mutation of <paramref name="valid"/>: random bytes, flipped bytes, a cut, an insertion, a zeroed or repeated run.</summary>
    static (string Kind, byte[] Bytes) Mutate(byte[] valid, Random random)
    {
        var bytes = valid.ToList();
        int Pick() => random.Next(Math.Max(1, bytes.Count));
        switch (random.Next(6))
        {
            case 0:
                return ("random", [.. Enumerable.Range(0, random.Next(valid.Length * 2 + 1)).Select(_ => (byte)random.Next(256))]);
            case 1:
                for (int i = random.Next(1, 9); i > 0 && bytes.Count > 0; i--) { bytes[Pick()] = (byte)random.Next(256); }
                return ("flip", [.. bytes]);
            case 2:
                return ("truncate", valid[..random.Next(valid.Length + 1)]);
            case 3:
                bytes.InsertRange(Pick(), Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256)));
                return ("insert", [.. bytes]);
            case 4:
                {
                    int start = Pick(), length = Math.Min(random.Next(1, 256), bytes.Count - start);
                    for (int i = 0; i < length; i++) { bytes[start + i] = 0; }
                    return ("zero", [.. bytes]);
                }
            default:
                {
                    int start = Pick(), length = Math.Min(random.Next(1, 256), bytes.Count - start);
                    bytes.InsertRange(start, bytes.GetRange(start, length));
                    return ("repeat", [.. bytes]);
                }
        }
    }

    /// <summary>Runs <paramref name="target"/> on <see cref="Inputs"/> seeded mutations (fewer only past the time cap); only <typeparamref name="TAllowed"/> may escape.</summary>
    static void Fuzz<TAllowed>(string what, byte[] valid, Action<byte[]> target, int seed = Seed) where TAllowed : Exception
    {
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        int iterations = 0, rejected = 0;
        while (iterations < Inputs && clock.Elapsed < Cap)
        {
            var (kind, bytes) = Mutate(valid, random);
            try
            {
                target(bytes);
            }
            catch (TAllowed)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}: iteration {iterations} (seed {seed}, mutation '{kind}', {bytes.Length} bytes) threw {e.GetType().Name}: {e.Message}");
            }
            iterations++;
        }
        TestContext.Out.WriteLine($"{what}: {iterations} inputs (seed {seed}){(iterations < Inputs ? $", cut short by the {Cap.TotalSeconds} s cap" : "")}, {rejected} rejected with {typeof(TAllowed).Name}, {iterations - rejected} accepted");
        Assert.That(rejected, Is.GreaterThan(0), "the fuzzer produced no invalid input");
    }

    /// <summary>A finished one-epoch run on 64 images, whose files the fuzzers start from.</summary>
    string TinyRun()
    {
        string run = Path.Combine(dir, "run");
        ClassifierTrainer.Train(Digits.Subset(64, 20), new TrainingOptions { OutputDirectory = run, Epochs = 1, Limit = 64, BatchSize = 32, Threads = 1 });
        return run;
    }

    static byte[] Digit(int index) => Digits.Png(index);

    [Test]
    public void Predict_MutatedPng_GivesAPredictionOrInvalidData()
    {
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        Fuzz<InvalidDataException>("PNG", Digit(0), bytes => classifier.Predict(bytes));
    }

    [Test]
    public void Predict_MutatedJpeg_GivesAPredictionOrInvalidData()
    {
        byte[] jpeg;
        using (var bitmap = SKBitmap.Decode(Digit(1)))
        using (var image = SKImage.FromBitmap(bitmap))
        using (var data = image.Encode(SKEncodedImageFormat.Jpeg, 90)) { jpeg = data.ToArray(); }
        using var classifier = ImageClassifier.LoadBuiltInMnist();

        Fuzz<InvalidDataException>("JPEG", jpeg, bytes => classifier.Predict(bytes));
    }

    [Test]
    public void Load_MutatedOnnx_GivesAClassifierOrInvalidData()
    {
        string path = Path.Combine(dir, "model.onnx");

        Fuzz<InvalidDataException>("ONNX", ImageClassifier.BuiltInMnistModel(), bytes =>
        {
            File.WriteAllBytes(path, bytes);
            using var classifier = ImageClassifier.Load(path);
        });
    }

    [Test]
    public void ReadImages_MutatedIdx_GivesImagesOrInvalidData()
    {
        string path = Path.Combine(dir, "images-idx3-ubyte");
        var test = Digits.Mnist.Test.Take(50);
        byte[] valid = [0, 0, 8, 3, 0, 0, 0, 50, 0, 0, 0, 28, 0, 0, 0, 28, .. test.Pixels.ToArray()];

        Fuzz<InvalidDataException>("idx", valid, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            IdxReader.ReadImages(path);
        });
    }

    [Test]
    public void LoadCheckpoint_MutatedBytes_LoadsOrInvalidData()
    {
        string checkpoint = Path.Combine(TinyRun(), Checkpoint.FileName);
        byte[] valid = File.ReadAllBytes(checkpoint);
        using var scope = torch.NewDisposeScope();
        var model = ModuleFactory.Build(ModelSpec.Cnn(10, 1, 28, 28));
        var optimizer = torch.optim.Adam(model.parameters());

        Fuzz<InvalidDataException>("checkpoint", valid, bytes =>
        {
            File.WriteAllBytes(checkpoint, bytes);
            Checkpoint.Load(checkpoint, model, optimizer);
        });
    }

    [Test]
    public void LoadRun_MutatedModelJson_LoadsOrInvalidData()
    {
        string run = TinyRun();
        string info = Path.Combine(run, ClassifierTrainer.ModelInfoFileName);
        byte[] valid = File.ReadAllBytes(info);

        Fuzz<InvalidDataException>("model.json", valid, bytes =>
        {
            File.WriteAllBytes(info, bytes);
            using var model = TrainedModel.Load(run);
        });
    }

    [Test]
    public void ReadLabelFiles_MutatedText_LoadOrInvalidData()
    {
        string csv = Path.Combine(dir, "labels.csv");
        byte[] valid = System.Text.Encoding.UTF8.GetBytes("path,label\n\"a b.png\",7\nc.png,\"1,2\"\nd/e.png,x\n");

        Fuzz<InvalidDataException>("labels CSV", valid, bytes =>
        {
            File.WriteAllBytes(csv, bytes);
            LabelledImages.FromCsv(csv);
        });
        Fuzz<InvalidDataException>("labels file", valid, bytes =>
        {
            File.WriteAllBytes(csv, bytes);
            ImageClassifierOptions.ReadLabels(csv);
        });
    }
}
