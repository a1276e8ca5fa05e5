using MlPipeline.Evaluation;
using MlPipeline.Internals;

namespace MlPipeline.Data;

// ImageFolderData: no file in two sets.
public static partial class ImageFolderData
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> when two of the sets share a file, compared by identity (device and inode,
    /// as <see cref="OutputPaths"/> compares an output with the inputs: <c>..</c>, symbolic and hard links alike), naming
    /// the sets, the number of shared files and one of them. A file in two sets makes the held-out figures measure an
    /// image the model learned from (or the validation set choose the model the test set then measures).
    /// </summary>
    /// <param name="sets">The sets; the first is the training set.</param>
    /// <param name="split">Whether a share of the training set is split off: then a file it holds twice (through a link) could be on both sides.</param>
    static void RequireDisjoint(IReadOnlyList<(string Role, string? Source, IReadOnlyList<LabelledImage>? Items)> sets, bool split)
    {
        var keyed = sets.Select(s => s.Items?.Select(i => (Key: Identity(i.Path), i.Path)).ToList()).ToList();
        if (split && keyed[0] is { } training)
        {
            var twice = training.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
            if (twice.Count > 0)
            {
                var first = twice[0].ToList();
                throw new ArgumentException($"The training set '{sets[0].Source}' holds {twice.Count} file(s) twice under other names, for example '{first[1].Path}' (the same file as '{first[0].Path}'); "
                    + "the validation split could put one name in training and the other in validation. Remove the extra links, or give the validation images with ImageFolderOptions.Validation.");
            }
        }
        for (int a = 0; a < sets.Count; a++)
        {
            if (keyed[a] is not { } first) { continue; }
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, path) in first) { seen.TryAdd(key, path); }
            for (int b = a + 1; b < sets.Count; b++)
            {
                if (keyed[b] is not { } second) { continue; }
                var shared = second.Where(p => seen.ContainsKey(p.Key)).ToList();
                if (shared.Count == 0) { continue; }
                string other = seen[shared[0].Key];
                string example = other == shared[0].Path ? $"'{other}'" : $"'{shared[0].Path}' (the same file as '{other}')";
                throw new ArgumentException($"The {sets[b].Role} set '{sets[b].Source}' and the {sets[a].Role} set '{sets[a].Source}' share {shared.Count} file(s), for example {example}; "
                    + $"a file in both would make the {sets[b].Role} figures measure images that are not held out. Give sets with no file in common (files are compared by device and inode, so links to one file count as that file).");
            }
        }
    }

    /// <summary>What makes a file itself: its device and inode, or where there are none (Windows) its real path.</summary>
    static string Identity(string path) =>
        FileSystem.IdOf(path) is { } id ? $"{id.Device}:{id.Inode}" : FileSystem.RealPath(path);
}
