namespace MlPipeline.Training;

/// <summary>How the data of a resumed run differs from the data its checkpoint was trained on, in words.</summary>
internal static class DataChanges
{
    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> when <paramref name="now"/>'s data is not <paramref name="saved"/>'s:
    /// the message names each changed class of each set (file count, or the checksum when the count is the same), or
    /// the changed source checksum, and the option that resumes anyway.
    /// </summary>
    public static void RequireSame(string path, CheckpointState saved, CheckpointState now)
    {
        var changes = Describe(saved, now);
        if (changes.Count == 0) { return; }
        string shown = string.Join("; ", changes.Take(5)) + (changes.Count > 5 ? $"; and {changes.Count - 5} more" : "");
        throw new InvalidOperationException($"Cannot resume '{path}': the data differs from the data it was trained on: {shown}. "
            + "Resume with the same data, train into another folder, or pass --resume-changed-data (TrainingOptions.Run.ResumeChangedData) to continue on the changed data.");
    }

    /// <summary>The differences, most specific first: classes of sets, then source checksums; empty when the data is the same.</summary>
    public static List<string> Describe(CheckpointState saved, CheckpointState now)
    {
        if (saved.DataChecksums is null) { return ["the checkpoint records no checksums of its data (it was written by an earlier MlPipeline), so the data cannot be checked"]; }
        var changes = new List<string>();
        // A checkpoint written from model.json (TrainedModel.SaveRun) has the sources' checksums but no classes.
        if (saved.DataClasses is null) { return SourceChanges(saved.DataChecksums, now.DataChecksums); }
        var before = saved.DataClasses.ToDictionary(c => (c.Set, c.Label));
        var after = (now.DataClasses ?? []).ToDictionary(c => (c.Set, c.Label));
        foreach (var key in before.Keys.Union(after.Keys).OrderBy(k => k.Set, StringComparer.Ordinal).ThenBy(k => k.Label, StringComparer.Ordinal))
        {
            before.TryGetValue(key, out var was);
            after.TryGetValue(key, out var @is);
            string where = $"class '{key.Label}' of the {key.Set} set";
            if (@is is null) { changes.Add($"{where} is gone (it had {was!.Files} file(s))"); }
            else if (was is null) { changes.Add($"{where} is new ({@is.Files} file(s))"); }
            else if (was.Files != @is.Files) { changes.Add($"{where} has {@is.Files} file(s), not {was.Files}"); }
            else if (was.Checksum != @is.Checksum) { changes.Add($"{where} has the same {@is.Files} file count but other files or content (checksum {Short(@is.Checksum)}, was {Short(was.Checksum)})"); }
        }
        return changes.Count > 0 ? changes : SourceChanges(saved.DataChecksums, now.DataChecksums);
    }

    /// <summary>The sources whose checksum differs (an idx file of MNIST, or a set's images in their order).</summary>
    static List<string> SourceChanges(IReadOnlyDictionary<string, string> saved, IReadOnlyDictionary<string, string>? now)
    {
        var changes = new List<string>();
        now ??= new Dictionary<string, string>();
        foreach (string name in saved.Keys.Union(now.Keys).Order(StringComparer.Ordinal))
        {
            saved.TryGetValue(name, out string? was);
            now.TryGetValue(name, out string? @is);
            if (was != @is) { changes.Add(@is is null ? $"'{name}' is gone" : was is null ? $"'{name}' is new" : $"'{name}' has the checksum {Short(@is)}, was {Short(was)}"); }
        }
        return changes;
    }

    static string Short(string checksum) => checksum.Length > 19 ? checksum[..19] + "…" : checksum;
}
