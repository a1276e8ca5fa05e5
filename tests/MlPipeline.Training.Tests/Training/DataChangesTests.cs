using MlPipeline.Data;

namespace MlPipeline.Training.Tests.Training;

public sealed class DataChangesTests
{
    static CheckpointState State(IReadOnlyDictionary<string, string>? checksums, IReadOnlyList<ClassChecksum>? classes) =>
        new("{}", 64, 0.001, 42, 10, "unit range", 1, 0, 0, 0, 0, 0, []) { DataChecksums = checksums, DataClasses = classes };

    static readonly Dictionary<string, string> Sources = new() { ["images"] = "sha256:aaaa" };

    [Test]
    public void Describe_SameData_IsEmpty()
    {
        var state = State(Sources, [new("training", "a", 3, "sha256:1"), new("test", "a", 2, "sha256:2")]);

        Assert.That(DataChanges.Describe(state, state with { }), Is.Empty);
    }

    [Test]
    public void Describe_ClassesChanged_NamesEachWithItsSetAndWhatChanged()
    {
        var saved = State(Sources, [new("training", "a", 3, "sha256:11111111111111111111"), new("training", "b", 4, "sha256:2"), new("training", "c", 1, "sha256:3"), new("test", "a", 2, "sha256:4")]);
        var now = State(new Dictionary<string, string> { ["images"] = "sha256:bbbb" },
            [new("training", "a", 3, "sha256:99999999999999999999"), new("training", "b", 5, "sha256:2"), new("training", "d", 2, "sha256:5"), new("test", "a", 2, "sha256:4")]);

        var changes = DataChanges.Describe(saved, now);

        Assert.That(changes, Is.EqualTo(new[]
        {
            "class 'a' of the training set has the same 3 file count but other files or content (checksum sha256:999999999999…, was sha256:111111111111…)",
            "class 'b' of the training set has 5 file(s), not 4",
            "class 'c' of the training set is gone (it had 1 file(s))",
            "class 'd' of the training set is new (2 file(s))",
        }));
    }

    [Test]
    public void Describe_CheckpointWithoutClasses_ComparesTheSourcesChecksums()
    {
        var saved = State(new Dictionary<string, string> { ["train-images-idx3-ubyte"] = "md5a", ["t10k-images-idx3-ubyte"] = "md5b" }, null);
        var now = State(new Dictionary<string, string> { ["train-images-idx3-ubyte"] = "md5c", ["t10k-images-idx3-ubyte"] = "md5b" }, []);

        Assert.That(DataChanges.Describe(saved, now), Is.EqualTo(new[] { "'train-images-idx3-ubyte' has the checksum md5c, was md5a" }));
        Assert.That(DataChanges.Describe(saved, saved with { DataClasses = [new("training", "a", 1, "sha256:1")] }), Is.Empty);
    }

    [Test]
    public void RequireSame_CheckpointOfAnEarlierVersion_IsRefusedNamingTheOptionThatResumesAnyway()
    {
        var e = Assert.Throws<InvalidOperationException>(() => DataChanges.RequireSame("run/checkpoint.bin", State(null, null), State(Sources, [])));

        Assert.That(e!.Message, Does.Contain("Cannot resume 'run/checkpoint.bin'").And.Contain("records no checksums of its data").And.Contain("--resume-changed-data"));
    }
}
