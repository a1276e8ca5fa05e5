namespace MlPipeline.Cli.Tests;

/// <summary>The folder the scoring, merge and evaluation fixtures score: 60 MNIST digits in class folders and two files that fail.</summary>
internal static class ScoredFolder
{
    /// <summary>Writes the folder under <paramref name="dir"/> and returns its path.</summary>
    public static string Create(string dir)
    {
        string input = Digits.WritePngFolder(Path.Combine(dir, "digits"), 60);
        // Two files that fail, so that errors files are written and merged too.
        File.WriteAllBytes(Path.Combine(input, "3", "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        File.WriteAllBytes(Path.Combine(input, "7", "empty.png"), []);
        return input;
    }
}
