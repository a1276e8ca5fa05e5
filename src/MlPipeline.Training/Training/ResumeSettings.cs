using System.Globalization;

namespace MlPipeline.Training;

/// <summary>
/// The training settings beyond batch size, learning rate and seed that a resume must repeat, as a structure kept in
/// the checkpoint and compared field by field, so that a refused resume names each setting that differs and nothing else.
/// </summary>
/// <param name="Augmentation">The augmentation, in its option form ("none", "standard", "rotate=10,…").</param>
/// <param name="Schedule">The learning-rate schedule.</param>
/// <param name="ScheduleEpochs">The epochs a one-cycle or cosine schedule is spread over; null for the others, which do not depend on it.</param>
/// <param name="WeightDecay">AdamW's weight decay.</param>
/// <param name="LabelSmoothing">The label smoothing.</param>
/// <param name="ClassWeights">The class weighting of the loss.</param>
/// <param name="EarlyStopping">Early stopping; null when off.</param>
/// <param name="Backbone">The pretrained backbone; null when training from scratch.</param>
/// <param name="AugmentCopies">With a backbone, the augmented copies of each training image.</param>
/// <param name="FineTuneBlocks">With a backbone, the blocks fine-tuned.</param>
internal sealed record ResumeSettings(string Augmentation, LearningRateSchedule Schedule, int? ScheduleEpochs, double WeightDecay, double LabelSmoothing,
    ClassWeighting ClassWeights, EarlyStopping? EarlyStopping, string? Backbone, int AugmentCopies, int FineTuneBlocks)
{
    /// <summary>The settings of <paramref name="options"/>.</summary>
    public static ResumeSettings Of(TrainingOptions options) => new(
        options.Augmentation.ToString(), options.Schedule,
        options.Schedule is LearningRateSchedule.OneCycle or LearningRateSchedule.Cosine ? options.Epochs : null,
        options.WeightDecay, options.LabelSmoothing, options.ClassWeights, options.EarlyStopping,
        options.Backbone, options.Backbone is null ? 0 : options.AugmentCopies, options.Backbone is null ? 0 : options.FineTuneBlocks);

    /// <summary>
    /// The settings in words, as checkpoints of earlier versions hold them (and new ones still do, for those versions):
    /// what a resume of such a checkpoint compares.
    /// </summary>
    public string Text => string.Create(CultureInfo.InvariantCulture,
        $"augment {Augmentation}, schedule {Schedule}{(ScheduleEpochs is { } n ? $" over {n} epochs" : "")}, weight decay {WeightDecay}, label smoothing {LabelSmoothing}, class weights {ClassWeights}, early stopping {Describe(EarlyStopping)}{(Backbone is { } b ? $", backbone {b}, augment copies {AugmentCopies}{(FineTuneBlocks > 0 ? $", fine-tuned blocks {FineTuneBlocks}" : "")}" : "")}");

    static string Describe(EarlyStopping? e) =>
        e is null ? "off" : string.Create(CultureInfo.InvariantCulture, $"patience {e.Patience} on {e.Monitor} (min delta {e.MinDelta})");

    /// <summary>Each setting of <paramref name="now"/> that differs from these, as "name saved (now requested)".</summary>
    public List<string> Differences(ResumeSettings now)
    {
        ArgumentNullException.ThrowIfNull(now);
        var differences = new List<string>();
        void Compare<T>(string name, T saved, T requested, Func<T, string> describe)
        {
            if (!EqualityComparer<T>.Default.Equals(saved, requested)) { differences.Add($"{name} {describe(saved)} (now {describe(requested)})"); }
        }
        static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
        Compare("augment", Augmentation, now.Augmentation, a => a);
        Compare("learning-rate schedule", Schedule, now.Schedule, s => s.ToString().ToLowerInvariant());
        if (Schedule == now.Schedule)
        {
            Compare($"{Schedule.ToString().ToLowerInvariant()} schedule over", ScheduleEpochs, now.ScheduleEpochs,
                e => e is { } n ? $"{n} epochs" : "the run");
        }
        Compare("weight decay", WeightDecay, now.WeightDecay, Number);
        Compare("label smoothing", LabelSmoothing, now.LabelSmoothing, Number);
        Compare("class weights", ClassWeights, now.ClassWeights, c => c.ToString().ToLowerInvariant());
        Compare("early stopping", EarlyStopping, now.EarlyStopping, Describe);
        Compare("backbone", Backbone, now.Backbone, b => b ?? "none");
        Compare("augment copies", AugmentCopies, now.AugmentCopies, c => c.ToString(CultureInfo.InvariantCulture));
        Compare("fine-tuned blocks", FineTuneBlocks, now.FineTuneBlocks, c => c.ToString(CultureInfo.InvariantCulture));
        return differences;
    }
}
