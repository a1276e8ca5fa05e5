using MlPipeline.Datasets.Internals;

namespace MlPipeline.Datasets.Tests.Reliability;

/// <summary>The data sets' readers of user files against seeded mutations (see <see cref="Fuzzer"/>).</summary>
[Category("Slow")]
public sealed class FuzzTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    [Test]
    public void ReadImages_MutatedIdx_GivesImagesOrInvalidData()
    {
        string path = Path.Combine(dir, "images-idx3-ubyte");
        var test = Digits.Mnist.Test.Take(50);
        byte[] valid = [0, 0, 8, 3, 0, 0, 0, 50, 0, 0, 0, 28, 0, 0, 0, 28, .. test.ToArray()];

        Fuzzer.Run<InvalidDataException>("idx", valid, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            IdxReader.ReadImages(path);
        });
    }
}
