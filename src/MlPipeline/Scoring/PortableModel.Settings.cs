using System.Text.Json;

namespace MlPipeline.Scoring;

internal static partial class PortableModel
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>An expression that gives the settings as constant text (<see cref="Encode"/>: nothing to escape).</summary>
    static string ExpressionOf<T>(T settings) => $"x => \"{Encode(settings)}\"";

    /// <summary>The settings as the constant column holds them: base64 of their JSON.</summary>
    internal static string Encode<T>(T settings) => Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(settings, Json));

    /// <summary>Settings read back from the constant column.</summary>
    /// <exception cref="InvalidDataException">The column holds no settings.</exception>
    static T Parse<T>(string config) where T : class =>
        JsonSerializer.Deserialize<T>(Convert.FromBase64String(config), Json)
            ?? throw new InvalidDataException($"The saved MlPipeline settings '{config}' are empty.");

    /// <summary>What image loading needs.</summary>
    internal sealed record ImageSettings(ImagePreprocessing Preprocessing, string? ImageFolder, long MaxImagePixels, bool ReducedScale);

    /// <summary>What score mapping needs; the model's name, output and input range name it in an error (null in chains saved by earlier builds).</summary>
    internal sealed record ScoringSettings(string[] Labels, bool OutputIsProbabilities)
    {
        public string? Source { get; init; }

        public string? OutputName { get; init; }

        public string? Inputs { get; init; }
    }
}
