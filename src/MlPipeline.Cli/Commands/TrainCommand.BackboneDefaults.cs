using System.CommandLine;
using System.Globalization;
using MlPipeline.Training;
using MlPipeline.Training.Models;

namespace MlPipeline.Cli.Commands;

// TrainCommand: the defaults of a head trained on a frozen backbone's cached features.
internal static partial class TrainCommand
{
    // Measured on the emoji folders (README, "Defaults with a backbone"): the from-scratch defaults (5 epochs, a linear
    // head, a constant rate) stop a frozen backbone's head at 66 % while it still improves; this recipe reaches 81 %.
    // A cosine schedule over a fixed number of epochs ends at a rate of 0, so the last epoch is the model and no epoch
    // is chosen on the validation images, which without --test are also the test images.
    internal const HeadKind BackboneHead = HeadKind.Mlp;
    internal const int BackboneEpochs = 50;
    internal const LearningRateSchedule BackboneSchedule = LearningRateSchedule.Cosine;
    internal const double BackboneWeightDecay = 0.05;
    internal const double BackboneLabelSmoothing = 0.1;

    /// <summary>Whether the command line gives <paramref name="option"/> (rather than leaving it at its default).</summary>
    static bool IsGiven(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>Whether the backbone defaults apply: a --backbone, frozen (no --fine-tune above 0).</summary>
    static bool UsesBackboneDefaults(ParseResult parse, string? backbone) => backbone is not null && parse.GetValue(FineTune) == 0;

    /// <summary>The option's value: the backbone default when those apply and the option is not given, else what the command line says.</summary>
    static T Value<T>(ParseResult parse, Option<T> option, bool backboneDefaults, T backboneDefault) =>
        backboneDefaults && !IsGiven(parse, option) ? backboneDefault : parse.GetValue(option)!;

    /// <summary>
    /// The line printed at the start of a run on a frozen backbone naming the defaults in effect for the options not
    /// given; null when none applies.
    /// </summary>
    internal static string? DescribeBackboneDefaults(ParseResult parse, string? backbone)
    {
        if (!UsesBackboneDefaults(parse, backbone)) { return null; }
        (Option Option, string Value)[] defaults =
        [
            (Head, CliOptions.Spelling(BackboneHead, Heads)),
            (Epochs, BackboneEpochs.ToString(CultureInfo.InvariantCulture)),
            (Schedule, CliOptions.Spelling(BackboneSchedule, Schedules)),
            (WeightDecay, BackboneWeightDecay.ToString(CultureInfo.InvariantCulture)),
            (LabelSmoothing, BackboneLabelSmoothing.ToString(CultureInfo.InvariantCulture)),
        ];
        var applied = defaults.Where(d => !IsGiven(parse, d.Option)).Select(d => $"{d.Option.Name} {d.Value}").ToList();
        return applied.Count == 0
            ? null
            : $"backbone defaults: {string.Join(", ", applied)} (tuned for a head on the {backbone} backbone's cached features); give any of these options to change it.";
    }
}
