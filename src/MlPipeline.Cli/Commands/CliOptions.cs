using System.CommandLine;

namespace MlPipeline.Cli.Commands;

/// <summary>Factories for options whose values are checked at parse time, so a bad value is a usage error naming the option.</summary>
internal static class CliOptions
{
    public static Option<int> Positive(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = $"{description} (default {defaultValue})", DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (TryGet(result, out int value) && value < 1) { result.AddError($"{name} must be at least 1, but was {value}."); }
        });
        return option;
    }

    public static Option<int?> OptionalPositive(string name, string description)
    {
        var option = new Option<int?>(name) { Description = description };
        option.Validators.Add(result =>
        {
            if (TryGet(result, out int? value) && value is < 1) { result.AddError($"{name} must be at least 1, but was {value}."); }
        });
        return option;
    }

    public static Option<string> OneOf(string name, string description, string defaultValue, IReadOnlyList<string> allowed)
    {
        var option = new Option<string>(name) { Description = $"{description}: {string.Join(", ", allowed)} (default {defaultValue})", DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (TryGet(result, out string? value) && (value is null || !allowed.Contains(value))) { result.AddError($"{name} must be one of {string.Join(", ", allowed)}, but was '{value}'."); }
        });
        return option;
    }

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
