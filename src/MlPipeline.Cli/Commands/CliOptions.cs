using System.CommandLine;
using System.Globalization;
using System.Numerics;

namespace MlPipeline.Cli.Commands;

/// <summary>
/// Factories for options whose values are checked at parse time against the range their consumer accepts, so a bad
/// value is a usage error (exit 2) naming the option and the accepted range. Defaults appear once in the help, as
/// System.CommandLine's own "[default: …]".
/// </summary>
internal static class CliOptions
{
    /// <summary>An integer option from <paramref name="min"/> to <paramref name="max"/> with a default.</summary>
    public static Option<int> Range(string name, string description, int defaultValue, int min, int max)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue, CustomParser = result => ParseInteger(result, name, min, max) ?? 0 };
        option.Validators.Add(result =>
        {
            if (TryGet(result, out int value) && (value < min || value > max)) { result.AddError(OutOfRange(name, value, min, max)); }
        });
        return option;
    }

    /// <summary>An optional integer option from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<int?> OptionalRange(string name, string description, int min, int max)
    {
        var option = new Option<int?>(name) { Description = description, CustomParser = result => ParseInteger(result, name, min, max) };
        option.Validators.Add(result =>
        {
            if (TryGet(result, out int? value) && value is { } v && (v < min || v > max)) { result.AddError(OutOfRange(name, v, min, max)); }
        });
        return option;
    }

    /// <summary>A positive integer option with a default and no upper bound beyond <see cref="int.MaxValue"/>.</summary>
    public static Option<int> Positive(string name, string description, int defaultValue) =>
        Range(name, description, defaultValue, 1, int.MaxValue);

    /// <summary>An optional positive integer option.</summary>
    public static Option<int?> OptionalPositive(string name, string description) =>
        OptionalRange(name, description, 1, int.MaxValue);

    /// <summary>
    /// An optional list of finite floats separated by commas: one value, or one per colour channel (three).
    /// <paramref name="accept"/> states any further condition on each value and <paramref name="expected"/> says it in words.
    /// </summary>
    public static Option<float[]?> OptionalChannelValues(string name, string description, Func<float, bool>? accept = null, string expected = "a finite number")
    {
        return new Option<float[]?>(name)
        {
            Description = description,
            CustomParser = result =>
            {
                if (result.Tokens.Count == 0) { return null; }
                string text = string.Join(",", result.Tokens.Select(t => t.Value));
                var parts = text.Split(',');
                var values = new float[parts.Length];
                for (int i = 0; i < parts.Length; i++)
                {
                    if (!float.TryParse(parts[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]) || (accept is not null && !accept(values[i])))
                    {
                        result.AddError($"{name} must be {expected} (or three, one per channel, separated by commas), but was '{text}'.");
                        return null;
                    }
                }
                if (values.Length is not (1 or 3))
                {
                    result.AddError($"{name} must be one value or three (one per channel), but '{text}' has {values.Length}.");
                    return null;
                }
                return values;
            },
        };
    }

    /// <summary>A number option from 0 to <paramref name="max"/> (inclusive, or below it when <paramref name="maxInclusive"/> is false) with a default.</summary>
    public static Option<double> NonNegative(string name, string description, double defaultValue, double max = double.MaxValue, bool maxInclusive = true)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue, CustomParser = result => ParseNumber(result, name) };
        option.Validators.Add(result =>
        {
            if (TryGet(result, out double value) && !(value >= 0 && (maxInclusive ? value <= max : value < max)))
            {
                string range = max == double.MaxValue ? "0 or more" : string.Create(CultureInfo.InvariantCulture, $"from 0 to {(maxInclusive ? "" : "below ")}{max}");
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be {range}, but was {value}."));
            }
        });
        return option;
    }

    /// <summary>
    /// An optional choice bound to <typeparamref name="TEnum"/>: the accepted spellings are the lowercase names of
    /// <paramref name="members"/> (all members when none are given), listed in the help (<c>--name &lt;a|b&gt;</c>);
    /// any other token is a usage error naming them.
    /// </summary>
    public static Option<TEnum?> OptionalChoice<TEnum>(string name, string description, params TEnum[] members) where TEnum : struct, Enum
    {
        var values = members.Length > 0 ? members : Enum.GetValues<TEnum>();
        string[] names = [.. values.Select(v => v.ToString().ToLowerInvariant())];
        var option = new Option<TEnum?>(name)
        {
            Description = description,
            HelpName = string.Join("|", names.Order(StringComparer.Ordinal)),
            // AcceptOnlyFromAmong reports any other token; this only maps an accepted spelling to its member.
            CustomParser = result => result.Tokens.Count > 0 && Array.IndexOf(names, result.Tokens[^1].Value) is var at and >= 0 ? values[at] : null,
        };
        option.AcceptOnlyFromAmong(names);
        return option;
    }

    /// <summary>The values of a list option, or null when it was not given (System.CommandLine reads an absent array option as empty).</summary>
    public static float[]? ChannelValues(ParseResult parse, Option<float[]?> option) => parse.GetValue(option) is { Length: > 0 } values ? values : null;

    /// <summary>
    /// An option bound to an enum: each of <paramref name="choices"/> is a spelling on the command line and the member
    /// it stands for; any other value is an error naming them all. <see cref="Spelling"/> gives a member's spelling back.
    /// </summary>
    public static Option<TEnum> OneOf<TEnum>(string name, string description, TEnum defaultValue, params (string Spelling, TEnum Value)[] choices) where TEnum : struct, Enum
    {
        string allowed = string.Join(", ", choices.Select(c => c.Spelling));
        return new Option<TEnum>(name)
        {
            Description = $"{description}: {allowed}",
            HelpName = string.Join("|", choices.Select(c => c.Spelling)),
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                string value = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                foreach (var (spelling, member) in choices)
                {
                    if (spelling == value) { return member; }
                }
                result.AddError($"{name} must be one of {allowed}, but was '{value}'.");
                return defaultValue;
            },
        };
    }

    /// <summary>The spelling of <paramref name="value"/> among <paramref name="choices"/> (as given to <see cref="OneOf{TEnum}"/>).</summary>
    public static string Spelling<TEnum>(TEnum value, (string Spelling, TEnum Value)[] choices) where TEnum : struct, Enum =>
        choices.First(c => c.Value.Equals(value)).Spelling;

    /// <summary>A text option whose value is one of <paramref name="allowed"/> (names that are data, not an enum: data sets, architectures); any other value is an error naming them all.</summary>
    public static Option<string> OneOf(string name, string description, string defaultValue, IReadOnlyList<string> allowed)
    {
        var option = new Option<string>(name) { Description = $"{description}: {string.Join(", ", allowed)}", DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (TryGet(result, out string? value) && (value is null || !allowed.Contains(value))) { result.AddError($"{name} must be one of {string.Join(", ", allowed)}, but was '{value}'."); }
        });
        return option;
    }

    /// <summary>Parses <c>WIDTHxHEIGHT</c> (each 1 to <paramref name="max"/>); null stays null.</summary>
    public static (int Width, int Height)? ParseSize(string? value, string option, int max = 65536)
    {
        if (value is null) { return null; }
        var parts = value.Split('x', 'X');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int w) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int h) || w < 1 || w > max || h < 1 || h > max)
        {
            throw new ArgumentException($"{option} must be WIDTHxHEIGHT with numbers from 1 to {max} (for example 28x28), but was '{value}'.");
        }
        return (w, h);
    }

    /// <summary>
    /// The whole number a token gives, or null with an error naming the option, the range and the token: System.CommandLine's
    /// own message names the CLR type instead ("as expected type 'System.Nullable`1[System.Int32]'").
    /// </summary>
    static int? ParseInteger(System.CommandLine.Parsing.ArgumentResult result, string name, int min, int max)
    {
        if (result.Tokens.Count == 0) { return null; }
        string text = result.Tokens[^1].Value;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)) { return value; }
        string range = (min, max) switch
        {
            (int.MinValue, int.MaxValue) => "",
            (_, int.MaxValue) => string.Create(CultureInfo.InvariantCulture, $" of at least {min}"),
            _ => string.Create(CultureInfo.InvariantCulture, $" from {min} to {max}"),
        };
        result.AddError($"{name} must be a whole number{range}, but was '{text}'.");
        return null;
    }

    /// <summary>The number a token gives (invariant culture), or 0 with an error naming the option and the token, not System.CommandLine's CLR type name.</summary>
    public static double ParseNumber(System.CommandLine.Parsing.ArgumentResult result, string name)
    {
        if (result.Tokens.Count == 0) { return 0; }
        string text = result.Tokens[^1].Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) { return value; }
        result.AddError($"{name} must be a number (such as 0.001 or 1e-3), but was '{text}'.");
        return 0;
    }

    /// <summary>A whole-number option of any int value (a seed) with a default; a token that is not one is an error naming the option.</summary>
    public static Option<int> Integer(string name, string description, int defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue, CustomParser = result => ParseInteger(result, name, int.MinValue, int.MaxValue) ?? 0 };

    static string OutOfRange<T>(string name, T value, T min, T max) where T : INumber<T> =>
        max == T.CreateTruncating(int.MaxValue)
            ? string.Create(CultureInfo.InvariantCulture, $"{name} must be at least {min}, but was {value}.")
            : string.Create(CultureInfo.InvariantCulture, $"{name} must be from {min} to {max}, but was {value}.");

    /// <summary>The option's value, or false when it did not convert (System.CommandLine reports that error itself).</summary>
    public static bool TryGet<T>(System.CommandLine.Parsing.OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }
}
