using System.Text;
using MlPipeline.Formats;
using MlPipeline.Scoring;

namespace MlPipeline.Tests.Formats;

/// <summary>score's predictions files, written and read by their one owner, against the formats' literal text.</summary>
public sealed class PredictionsFileTests
{
    string dir = "";

    [SetUp]
    public void SetUp() => dir = TempDirectory.Create();

    [TearDown]
    public void TearDown() => Directory.Delete(dir, recursive: true);

    static readonly Prediction Cat = new("a/cat, \"1\".png", "cat", 0.75f, [new("cat", 0.75f), new("dog", 0.2f)], [0.75f, 0.2f, 0.05f]);

    static string Written(bool jsonl, ScoreResult[] results, out string errors)
    {
        using var predictions = new MemoryStream();
        using var failures = new MemoryStream();
        using (var writer = new PredictionsWriter(predictions, failures, jsonl, topK: 2))
        {
            writer.WriteHeader(PredictionsFile.Columns(2, ["cat", "dog", "bird"]));
            foreach (var result in results) { Assert.That(writer.Write(result), Is.True); }
            writer.Flush();
        }
        errors = Encoding.UTF8.GetString(failures.ToArray());
        return Encoding.UTF8.GetString(predictions.ToArray());
    }

    [Test]
    public void Csv_IsQuotedRfc4180WithSixDecimals()
    {
        string text = Written(jsonl: false, [new(Cat.Path!, Cat, null), new("b.png", null, "not an image")], out string errors);
        Assert.Multiple(() =>
        {
            Assert.That(text, Is.EqualTo(
                "path,label,confidence,top1_label,top1_probability,top2_label,top2_probability,p_cat,p_dog,p_bird\n" +
                "\"a/cat, \"\"1\"\".png\",cat,0.75,cat,0.75,dog,0.2,0.75,0.2,0.05\n"));
            // The errors file's header is written when the partial file is started, not by the writer.
            Assert.That(errors, Is.EqualTo("b.png,not an image\n"));
        });
    }

    [Test]
    public void JsonLines_HaveNoHeaderAndCamelCaseFields()
    {
        string text = Written(jsonl: true, [new(Cat.Path!, Cat, null)], out _);
        Assert.That(text, Is.EqualTo(
            "{\"path\":\"a/cat, \\u00221\\u0022.png\",\"label\":\"cat\",\"confidence\":0.75,\"topK\":[{\"label\":\"cat\",\"probability\":0.75},{\"label\":\"dog\",\"probability\":0.2}],\"probabilities\":[0.75,0.2,0.05]}\n"));
    }

    [Test]
    public void ReadProbabilities_ReadsWhatScoreWrites_AndRefusesARowThatIsNotADistribution()
    {
        string file = Path.Combine(dir, "p.csv");
        File.WriteAllText(file, Written(jsonl: false, [new(Cat.Path!, Cat, null)], out _));
        var (labels, rows) = PredictionsFile.ReadProbabilities(file);
        Assert.Multiple(() =>
        {
            Assert.That(labels, Is.EqualTo(new[] { "cat", "dog", "bird" }));
            Assert.That(rows.Single().Path, Is.EqualTo(Cat.Path));
            Assert.That(rows.Single().Probabilities, Is.EqualTo(new[] { 0.75f, 0.2f, 0.05f }));
        });
        File.AppendAllText(file, "b.png,cat,0.9,cat,0.9,dog,0.1,0.9,0.1,0.1\n");
        Assert.That(() => PredictionsFile.ReadProbabilities(file), Throws.TypeOf<InvalidDataException>()
            .With.Message.Contains("line 3: the class probabilities sum to 1.1"));
    }

    [Test]
    public void CompleteLength_EndsAtTheLastRecord_NotAtALineFeedInsideQuotes()
    {
        string file = Path.Combine(dir, "p.csv.partial");
        const string Complete = "path,label\n\"a\nb.png\",cat\n";
        File.WriteAllText(file, Complete + "\"c\nd.png\",d");
        Assert.That(PredictionsFile.CompleteLength(file, csv: true), Is.EqualTo(Complete.Length));
    }

    [TestCase("garbage\n")]
    [TestCase("")]
    [TestCase("file,reason\na.png,bad\n")]
    public void ReadErrors_AFileWithoutTheErrorsHeader_IsRefused(string text)
    {
        string file = Path.Combine(dir, "p.csv.errors.csv");
        File.WriteAllText(file, text);
        Assert.That(() => PredictionsFile.ReadErrors(file), Throws.TypeOf<InvalidDataException>().With.Message.Contains("does not start with the header path,error"));
    }

    [TestCase("{\"label\":\"cat\"}")]
    [TestCase("{\"path\":7}")]
    [TestCase("[1,2]")]
    public void Read_AJsonLineWithoutAPath_IsRefusedNamingTheLine(string line)
    {
        string file = Path.Combine(dir, "p.jsonl");
        File.WriteAllText(file, "{\"path\":\"a.png\"}\n" + line + "\n");
        Assert.That(() => PredictionsFile.Read(file, jsonl: true), Throws.TypeOf<InvalidDataException>().With.Message.Contains("line 2 is not a prediction: expected a JSON object with a \"path\" string"));
    }
}
