using System.Text.Json;
using MlPipeline.Internals;

namespace MlPipeline.Evaluation;

/// <summary>
/// The owner of a training run's <c>history.json</c>: a JSON array of <see cref="EpochMetrics"/>, one per finished
/// epoch, written by training after every epoch and read by the training-curves plot.
/// </summary>
public static class TrainingHistory
{
    /// <summary>The file's name in a run folder.</summary>
    public const string FileName = "history.json";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Reads the epochs of <paramref name="path"/>, a <c>history.json</c> or a run folder holding one.</summary>
    /// <exception cref="FileNotFoundException">The history file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a training history; the message says what is wrong.</exception>
    public static IReadOnlyList<EpochMetrics> Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Directory.Exists(path)) { path = Path.Combine(path, FileName); }
        if (!File.Exists(path)) { throw new FileNotFoundException($"Training history '{path}' does not exist.", path); }
        try
        {
            var epochs = JsonSerializer.Deserialize<List<EpochMetrics>>(FileSystem.ReadAllText(path, "Training history"), Json);
            if (epochs is null || epochs.Count == 0) { throw new InvalidDataException($"Training history '{path}' holds no epochs; expected a JSON array of epochs."); }
            if (epochs.Any(e => e is null || e.Epoch < 1)) { throw new InvalidDataException($"Training history '{path}' has an entry without a positive 'epoch'; expected objects with epoch, trainLoss, trainAccuracy, testLoss, testAccuracy."); }
            return epochs;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Training history '{path}' is not valid JSON of the expected shape (an array of epochs): {e.Message}", e);
        }
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="epochs"/>, atomically.</summary>
    internal static void Write(string path, IReadOnlyList<EpochMetrics> epochs) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(epochs, Json) + "\n");
}
