using MlPipeline.Data;
using MlPipeline.Datasets.Internals;

namespace MlPipeline.Datasets;

// IdxDataSet: Loading the verified idx files as training and test image sets.
public sealed partial class IdxDataSet
{
    /// <summary>Loads the data set from a folder holding the four verified idx files (see <see cref="Ensure"/>).</summary>
    public TrainingData Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var checksums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, md5) in ExpectedMd5)
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{Name} file '{path}' is missing; run 'mlpipeline data {CacheName} --dir {directory}' first.", path);
            }
            string actual = Md5(path);
            if (actual != md5)
            {
                throw new InvalidDataException($"{Name} file '{path}' has MD5 {actual}; expected {md5}. Delete it and fetch {Name} again.");
            }
            checksums[name] = actual;
        }
        return new TrainingData(
            ReadSet(directory, "train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            ReadSet(directory, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
            checksums);
    }

    internal ImageSet ReadSet(string directory, string imagesFile, string labelsFile)
    {
        string imagesPath = Path.Combine(directory, imagesFile);
        string labelsPath = Path.Combine(directory, labelsFile);
        var (count, rows, columns, pixels) = IdxReader.ReadImages(imagesPath);
        byte[] labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != count)
        {
            throw new InvalidDataException($"'{labelsPath}' holds {labels.Length} labels but '{imagesPath}' holds {count} images; expected one label per image.");
        }
        return new ImageSet(pixels, [.. labels.Select(b => (int)b)], 1, rows, columns, ClassNames);
    }
}
