namespace MlPipeline.Cli;

/// <summary>
/// The libraries' messages name their own options (<c>ImageClassifierOptions.Layout</c>, <c>ImageFolderOptions.Validation</c>);
/// the CLI's user sets them through flags, so the messages the CLI shows name the flags instead.
/// </summary>
internal static class LibraryWording
{
    // Longer phrases first: a phrase may hold a shorter one.
    static readonly (string Library, string Cli)[] Phrases =
    [
        ("ImageClassifierOptions.Offsets/Scales or Means/Stds", "--offset/--scale or --mean/--std"),
        ("(ImageClassifierOptions.Width/Height, ColorMode)", "(--size, --color)"),
        ("(ImageClassifierOptions.Width and Height)", "(--size WxH)"),
        ("ImageClassifierOptions.ColorMode = ColorMode.Rgb or ColorMode.Bgr", "--color rgb or bgr"),
        ("ImageClassifierOptions.ColorMode = ColorMode.Gray", "--color gray"),
        ("ImageClassifierOptions.Layout", "--layout"),
        ("a .csv file with every class probability (ImageClassifierOptions.IncludeProbabilities)", "a .csv file with --probabilities"),
        ("with every class probability (ImageClassifierOptions.IncludeProbabilities)", "with --probabilities"),
        ("(ImageClassifierOptions.Labels)", "(--labels FILE)"),
        ("with ImageFolderOptions.Validation", "with --val"),
        ("put the cache on another disk (ImageFolderOptions.CacheDirectory), or give a smaller size (ImageFolderOptions.Width/Height)", "train into a folder on another disk (--out), or give a smaller --size"),
        ("(ImageFolderOptions.Width and Height)", "(--size WxH)"),
        ("(ImageFolderOptions.Width/Height)", "(--size)"),
    ];

    /// <summary>The message with the library options it names replaced by the CLI flags that set them.</summary>
    public static string ToFlags(string message)
    {
        foreach (var (library, cli) in Phrases) { message = message.Replace(library, cli, StringComparison.Ordinal); }
        return message;
    }
}
