namespace MlPipeline.Scoring;

/// <summary>
/// One typed entry of an ONNX model's <c>metadata_props</c>: its name, how its value is written and read, and the name
/// older files used for it. The keys themselves are in <see cref="OnnxMetadataKeys"/>.
/// </summary>
/// <typeparam name="T">The type of the entry's value.</typeparam>
public sealed class OnnxMetadataKey<T>
{
    readonly Func<T, string> format;
    readonly Func<string, T> parse;

    internal OnnxMetadataKey(string name, Func<T, string> format, Func<string, T> parse, string? formerName = null)
    {
        Name = name;
        FormerName = formerName;
        this.format = format;
        this.parse = parse;
    }

    /// <summary>The key as MlPipeline writes it (for example <c>mlpipeline.labels</c>).</summary>
    public string Name { get; }

    /// <summary>The key older MlPipeline versions wrote the same value under, still read when <see cref="Name"/> is absent; null when it never changed.</summary>
    public string? FormerName { get; }

    /// <summary>The value as the entry's text.</summary>
    public string Format(T value) => format(value);

    /// <summary>The value read from the entry's text.</summary>
    /// <exception cref="FormatException">The text is not a value of this key (other parse exceptions, such as <see cref="System.Text.Json.JsonException"/>, pass through).</exception>
    public T Parse(string text) => parse(text);

    /// <summary>Finds the entry under <see cref="Name"/>, else under <see cref="FormerName"/>; gives the name it was found under and its text.</summary>
    public bool TryFind(IReadOnlyDictionary<string, string> properties, out string foundName, out string text)
    {
        ArgumentNullException.ThrowIfNull(properties);
        foreach (string? candidate in new[] { Name, FormerName })
        {
            if (candidate is not null && properties.TryGetValue(candidate, out var value))
            {
                (foundName, text) = (candidate, value);
                return true;
            }
        }
        (foundName, text) = (Name, "");
        return false;
    }

    /// <summary>The key's name.</summary>
    public override string ToString() => Name;
}
