using Microsoft.ML;
using Microsoft.ML.Data;
using MlPipeline.Scoring;
using SkiaSharp;

namespace MlPipeline.Tests.Scoring;

/// <summary>
/// The preprocessing foreign models need (torchvision's resize-then-centre-crop, channels-last inputs, transparent
/// pixels on a background), each checked against values computed without MlPipeline: Pillow itself, the tensor's
/// index arithmetic, the compositing formula.
/// </summary>
public sealed class ForeignModelPreprocessingTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static SKBitmap Random(int width, int height, int seed, bool transparent = false)
    {
        var random = new Random(seed);
        var bitmap = new SKBitmap(width, height, SKColorType.Bgra8888, SKAlphaType.Unpremul);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)((x * 7) + (y * 3)), transparent ? (byte)random.Next(256) : (byte)255));
            }
        }
        return bitmap;
    }

    string WritePng(string name, SKBitmap bitmap)
    {
        string path = Path.Combine(dir, name);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    /// <summary>torchvision 0.14's Resize(n) + CenterCrop((h, w)) on a PIL image, in Pillow, as RGB bytes [H, W, 3].</summary>
    const string TorchvisionResizeCrop = """
        import sys
        from PIL import Image
        im = Image.open(sys.argv[1]).convert("RGB")
        n, cw, ch = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
        w, h = im.size
        nw, nh = (n, int(n * h / w)) if w <= h else (int(n * w / h), n)
        im = im.resize((nw, nh), Image.BILINEAR)
        top, left = int(round((nh - ch) / 2.0)), int(round((nw - cw) / 2.0))
        sys.stdout.buffer.write(im.crop((left, top, left + cw, top + ch)).tobytes())
        """;

    [TestCase(37, 29, 24, 20, 20, Description = "wider than tall, downscaled")]
    [TestCase(29, 41, 24, 24, 24, Description = "taller than wide, odd margins")]
    [TestCase(12, 9, 16, 16, 14, Description = "upscaled")]
    [TestCase(300, 200, 160, 150, 160, Description = "a 2x reduction, the antialiasing filter widened")]
    [TestCase(50, 50, 50, 50, 50, Description = "already the size: no resampling")]
    [TestCase(3, 200, 40, 32, 32, Description = "a thin strip: the resized image is 40x2666, the crop its middle")]
    public void ResizeShorterThenCentreCrop_EqualsTorchvisionOnPillow_BitForBit(int width, int height, int shorter, int cropWidth, int cropHeight)
    {
        using var bitmap = Random(width, height, width * height);
        string png = WritePng("image.png", bitmap);
        var preprocessing = new ImagePreprocessing(cropWidth, cropHeight, ColorMode.Rgb, 0f, 1f) { ResizeShorter = shorter };
        var ml = new MLContext(seed: 0);
        var rows = ml.Data.LoadFromEnumerable(new[] { new PathRow { Path = png } });

        float[] ours = ml.Transforms.LoadImageTensor("t", nameof(PathRow.Path), preprocessing).Fit(rows).Transform(rows).GetColumn<float[]>("t").Single();
        byte[] pillow = Pillow.Run(TorchvisionResizeCrop, png, shorter.ToString(), cropWidth.ToString(), cropHeight.ToString());

        Assert.That(pillow, Has.Length.EqualTo(cropWidth * cropHeight * 3));
        int plane = cropWidth * cropHeight;
        float[] expected = new float[3 * plane];
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++) { expected[(c * plane) + i] = pillow[(i * 3) + c]; }
        }
        Assert.That(ours, Is.EqualTo(expected));
    }

    [Test]
    public void ResizeShorter_ComputesOnlyTheCrop_SoAHugeResizeOfAThinImageStaysSmall()
    {
        // 2x4000 with the shorter side to 16,384: the resized image would be 16,384 x 32,768,000 pixels (2 PB of BGRA).
        using var bitmap = Random(2, 4000, 1);
        byte[] png = File.ReadAllBytes(WritePng("thin.png", bitmap));
        using var classifier = ImageClassifier.Load(Repository.File("onnx/mnist-cnn.onnx"),
            new ImageClassifierOptions { ResizeShorter = 16_384 });

        long before = GC.GetAllocatedBytesForCurrentThread();
        float[] tensor = classifier.Preprocess(png);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(tensor, Has.Length.EqualTo(28 * 28));
        Assert.That(allocated, Is.LessThan(64L << 20), "the weights and rows of the 28x28 crop, not of the resized image");
    }

    [Test]
    public void ResizeShorter_SmallerThanTheCrop_IsRejectedNamingBothSizes()
    {
        var e = Assert.Throws<ArgumentException>(() => new ImagePreprocessing(224, 224, ColorMode.Rgb, 0f, 1f) { ResizeShorter = 200 }.Validate());
        Assert.That(e!.Message, Does.Contain("resize-shorter 200").And.Contain("224 to 16384"));
    }

    [Test]
    public void ChannelsLast_LaysEachPixelsChannelsSideBySide()
    {
        using var bitmap = Random(5, 3, 7);
        byte[] png = File.ReadAllBytes(WritePng("small.png", bitmap));
        var nchw = new ImagePreprocessing(5, 3, ColorMode.Rgb, 0f, 1f);
        var nhwc = nchw with { Layout = TensorLayout.Nhwc };
        var ml = new MLContext(seed: 0);
        var rows = ml.Data.LoadFromEnumerable(new[] { new BytesRow { Image = png } });

        float[] planes = ml.Transforms.LoadImageTensor("t", nameof(BytesRow.Image), nchw).Fit(rows).Transform(rows).GetColumn<float[]>("t").Single();
        float[] interleaved = ml.Transforms.LoadImageTensor("t", nameof(BytesRow.Image), nhwc).Fit(rows).Transform(rows).GetColumn<float[]>("t").Single();

        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 5; x++)
            {
                var pixel = bitmap.GetPixel(x, y);
                float[] rgb = [pixel.Red, pixel.Green, pixel.Blue];
                for (int c = 0; c < 3; c++)
                {
                    Assert.That(planes[(c * 15) + (y * 5) + x], Is.EqualTo(rgb[c]));
                    Assert.That(interleaved[(((y * 5) + x) * 3) + c], Is.EqualTo(rgb[c]));
                }
            }
        }
    }

    [Test]
    public void AKerasStyleChannelsLastModel_IsDetectedAndScoredRight()
    {
        string model = Path.Combine(dir, "nhwc.onnx");
        File.WriteAllBytes(model, OnnxModels.ChannelMeansNhwc(3, 6, 4));
        using var bitmap = Random(4, 6, 3);
        string png = WritePng("image.png", bitmap);

        using var classifier = ImageClassifier.Load(model, new ImageClassifierOptions { IncludeProbabilities = true });
        var probabilities = classifier.Predict(png).Probabilities!;

        Assert.That(classifier.Preprocessing.Layout, Is.EqualTo(TensorLayout.Nhwc));
        Assert.That(classifier.Channels, Is.EqualTo(3));
        // The channel means of the pixels scaled to [0, 1], computed here from the bitmap.
        double[] means = new double[3];
        for (int y = 0; y < 6; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                var p = bitmap.GetPixel(x, y);
                means[0] += p.Red / 255.0 / 24;
                means[1] += p.Green / 255.0 / 24;
                means[2] += p.Blue / 255.0 / 24;
            }
        }
        Assert.That(probabilities, Is.EqualTo(OnnxModels.Softmax(means)).Within(1e-6));
    }

    [Test]
    public void AnAmbiguousOrWrongLayout_IsAnErrorNamingTheShape()
    {
        string model = Path.Combine(dir, "nhwc.onnx");
        File.WriteAllBytes(model, OnnxModels.ChannelMeansNhwc(3, 6, 4));

        var e = Assert.Throws<InvalidDataException>(() => ImageClassifier.Load(model, new ImageClassifierOptions { Layout = TensorLayout.Nchw }));

        Assert.That(e!.Message, Does.Contain("[-1, 6, 4, 3]").And.Contain("6 channels in NCHW layout").And.Contain("ImageClassifierOptions.Layout"));
    }

    [TestCase(BackgroundColor.White, 255)]
    [TestCase(BackgroundColor.Black, 0)]
    public void TransparentPixels_AreLaidOnTheBackground(BackgroundColor background, int value)
    {
        using var bitmap = Random(4, 4, 11, transparent: true);
        byte[] png = File.ReadAllBytes(WritePng("alpha.png", bitmap));
        var preprocessing = new ImagePreprocessing(4, 4, ColorMode.Rgb, 0f, 1f) { Background = background };
        var ml = new MLContext(seed: 0);
        var rows = ml.Data.LoadFromEnumerable(new[] { new BytesRow { Image = png } });

        float[] tensor = ml.Transforms.LoadImageTensor("t", nameof(BytesRow.Image), preprocessing).Fit(rows).Transform(rows).GetColumn<float[]>("t").Single();

        for (int i = 0; i < 16; i++)
        {
            var p = bitmap.GetPixel(i % 4, i / 4);
            byte[] rgb = [p.Red, p.Green, p.Blue];
            for (int c = 0; c < 3; c++)
            {
                double expected = Math.Round(((rgb[c] * p.Alpha) + (value * (255.0 - p.Alpha))) / 255.0, MidpointRounding.AwayFromZero);
                Assert.That(tensor[(c * 16) + i], Is.EqualTo(expected), $"pixel {i} channel {c} alpha {p.Alpha}");
            }
        }
    }

    sealed class PathRow
    {
        public string Path { get; set; } = "";
    }

    sealed class BytesRow
    {
        public byte[] Image { get; set; } = [];
    }
}
