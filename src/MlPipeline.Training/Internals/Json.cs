using System.Text.Json;
using System.Text.Json.Serialization;

namespace MlPipeline.Training.Internals;

/// <summary>The one JSON configuration for run files: camelCase, indented, enums as strings.</summary>
internal static class Json
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static T Read<T>(string path)
    {
        if (!File.Exists(path)) { throw new FileNotFoundException($"'{path}' does not exist.", path); }
        try
        {
            return JsonSerializer.Deserialize<T>(MlPipeline.Internals.FileSystem.ReadAllText(path, "Run file"), Options)
                ?? throw new InvalidDataException($"'{path}' holds JSON null; expected a {typeof(T).Name}.");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or FormatException or InvalidOperationException)
        {
            // Besides malformed JSON, System.Text.Json throws NotSupportedException for a missing type discriminator
            // and the records' constructors may reject values: all of them mean the file is not what it should be.
            throw new InvalidDataException($"'{path}' is not a valid {typeof(T).Name} JSON file: {e.Message}", e);
        }
    }

    public static void Write<T>(string path, T value) =>
        MlPipeline.Internals.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, Options) + "\n");
}
