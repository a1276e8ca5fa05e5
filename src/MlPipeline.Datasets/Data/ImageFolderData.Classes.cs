using MlPipeline.Evaluation;
using MlPipeline.Internals;
using MlPipeline.Scoring;

namespace MlPipeline.Data;

// ImageFolderData: which classes the decoded images make.
public static partial class ImageFolderData
{
    /// <summary>
    /// The classes are counted after decoding: a class none of whose files could be decoded has no image to learn or
    /// be measured on, so it is left out of the labels (with a warning naming its folder, or its label in a CSV), as an
    /// empty class folder is; fewer than two classes left is an error.
    /// </summary>
    static ImageSet KeepDecodedClasses(string source, ImageSet all, IReadOnlyList<LabelledImage> items, IReadOnlyList<ScoreResult> failed, List<string> warnings)
    {
        var counts = new int[all.ClassNames.Count];
        foreach (int label in all.Labels.Span) { counts[label]++; }
        var kept = Enumerable.Range(0, counts.Length).Where(c => counts[c] > 0).ToList();
        if (kept.Count == counts.Length) { return all; }
        bool folder = FileSystem.KindOf(source) == FileSystem.Kind.Directory;
        var dropped = Enumerable.Range(0, counts.Length).Where(c => counts[c] == 0).Select(c => all.ClassNames[c]).ToList();
        string Undecodable(string name)
        {
            var files = items.Where(i => i.Label == name).ToList();
            string where = folder ? $"class folder '{Path.Combine(source, name)}'" : $"label '{name}' of '{source}'";
            var first = failed.FirstOrDefault(f => f.Path == files[0].Path);
            return $"{where}: none of its {files.Count} image file(s) could be decoded (for example {files[0].Path}: {first?.Error ?? "unreadable"})";
        }
        if (kept.Count < 2)
        {
            string left = kept.Count == 1 ? $"only '{all.ClassNames[kept[0]]}'" : "none";
            throw new InvalidDataException($"'{source}' has {kept.Count} class{(kept.Count == 1 ? "" : "es")} with a decodable image ({left}); a classifier needs at least two. {string.Join("; ", dropped.Select(Undecodable))}.");
        }
        foreach (string name in dropped) { warnings.Add($"{Undecodable(name)}, so '{name}' is left out of the labels"); }
        var index = new int[counts.Length];
        for (int k = 0; k < kept.Count; k++) { index[kept[k]] = k; }
        int[] labels = [.. all.Labels.ToArray().Select(l => index[l])];
        // The pixels stay where they are: only the label numbers change.
        return all.Relabelled(labels, [.. kept.Select(c => all.ClassNames[c])]);
    }
}
