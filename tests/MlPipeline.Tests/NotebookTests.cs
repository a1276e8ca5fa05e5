using System.Text.Json;

namespace MlPipeline.Tests;

/// <summary>The committed notebooks are clean and reference the library the documented way.</summary>
public sealed class NotebookTests
{
    static IEnumerable<string> Notebooks()
    {
        return Directory.GetFiles(Path.Combine(Repository.Root, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal);
    }

    [Test]
    public void Notebooks_AllFive_AreCommitted()
    {
        Assert.That(Notebooks().Select(Path.GetFileName), Is.EqualTo(new[] { "01-train-and-export.ipynb", "02-score-and-evaluate.ipynb", "03-bring-your-own-model.ipynb", "04-train-on-your-own-images.ipynb", "05-transfer-learning.ipynb" }));
    }

    [TestCaseSource(nameof(Notebooks))]
    public void Notebook_Committed_HasNoOutputsAndUsesTheBuiltLibrary(string path)
    {
        using var notebook = JsonDocument.Parse(File.ReadAllText(path));
        var code = notebook.RootElement.GetProperty("cells").EnumerateArray().Where(c => c.GetProperty("cell_type").GetString() == "code").ToList();
        string Source(JsonElement c) => string.Concat(c.GetProperty("source").EnumerateArray().Select(l => l.GetString()));

        Assert.That(code, Is.Not.Empty);
        foreach (var cell in code)
        {
            Assert.That(cell.GetProperty("outputs").GetArrayLength(), Is.Zero, $"stale outputs in: {Source(cell)[..Math.Min(60, Source(cell).Length)]}");
            Assert.That(cell.GetProperty("execution_count").ValueKind, Is.EqualTo(JsonValueKind.Null));
        }
        Assert.That(Source(code[0]), Does.Contain("#r \"lib/MlPipeline.dll\""));
        Assert.That(code.Select(Source), Has.None.Contains("MlPipeline.Internals"));
    }
}
