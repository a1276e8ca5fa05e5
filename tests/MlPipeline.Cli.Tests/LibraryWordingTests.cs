namespace MlPipeline.Cli.Tests;

/// <summary>The library's messages name its options; what the CLI shows names its flags.</summary>
public sealed class LibraryWordingTests
{
    [TestCase("Model 'm.onnx' output 'logits' is NaN for an image: the model produced non-finite scores. Inputs range from 0 to 255; check ImageClassifierOptions.Offsets/Scales or Means/Stds.",
        "Model 'm.onnx' output 'logits' is NaN for an image: the model produced non-finite scores. Inputs range from 0 to 255; check --offset/--scale or --mean/--std.")]
    [TestCase("Check the input size and colour mode it expects (ImageClassifierOptions.Width/Height, ColorMode).", "Check the input size and colour mode it expects (--size, --color).")]
    [TestCase("6 channels in NCHW layout; expected 1 (gray) or 3 (RGB/BGR); check ImageClassifierOptions.Layout.", "6 channels in NCHW layout; expected 1 (gray) or 3 (RGB/BGR); check --layout.")]
    [TestCase("Model 'm.onnx' has a symbolic input width and no metadata; give the size (ImageClassifierOptions.Width and Height).", "Model 'm.onnx' has a symbolic input width and no metadata; give the size (--size WxH).")]
    [TestCase("takes 1 channel(s) but colour mode rgb gives 3; use ImageClassifierOptions.ColorMode = ColorMode.Gray.", "takes 1 channel(s) but colour mode rgb gives 3; use --color gray.")]
    [TestCase("takes 3 channel(s) but colour mode gray gives 1; use ImageClassifierOptions.ColorMode = ColorMode.Rgb or ColorMode.Bgr.", "takes 3 channel(s) but colour mode gray gives 1; use --color rgb or bgr.")]
    [TestCase("a symbolic number of classes and no metadata; give the labels (ImageClassifierOptions.Labels).", "a symbolic number of classes and no metadata; give the labels (--labels FILE).")]
    [TestCase("Remove the extra links, or give the validation images with ImageFolderOptions.Validation.", "Remove the extra links, or give the validation images with --val.")]
    [TestCase("have different sizes: 'a.png' is 2x2 and 'b.png' is 3x3; give the size to resize them to (ImageFolderOptions.Width and Height).", "have different sizes: 'a.png' is 2x2 and 'b.png' is 3x3; give the size to resize them to (--size WxH).")]
    [TestCase("Give a smaller size (ImageFolderOptions.Width/Height) or fewer images.", "Give a smaller size (--size) or fewer images.")]
    [TestCase("free some space, put the cache on another disk (ImageFolderOptions.CacheDirectory), or give a smaller size (ImageFolderOptions.Width/Height).",
        "free some space, train into a folder on another disk (--out), or give a smaller --size.")]
    public void ToFlags_ALibraryMessage_NamesTheFlags(string library, string cli) =>
        Assert.That(LibraryWording.ToFlags(library), Is.EqualTo(cli));

    [Test]
    public void UserMessage_ALibraryArgumentException_NamesTheFlagAndDropsTheParameterTail()
    {
        var e = new ArgumentException("Give a smaller size (ImageFolderOptions.Width/Height) or fewer images.", "options");

        Assert.That(CliApp.UserMessage(e), Is.EqualTo("Give a smaller size (--size) or fewer images."));
    }
}
