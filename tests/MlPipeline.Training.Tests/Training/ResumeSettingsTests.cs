using MlPipeline.Training;

namespace MlPipeline.Training.Tests.Training;

/// <summary>What a resume compares beyond batch size, rate and seed: each setting on its own, through the checkpoint's JSON.</summary>
public sealed class ResumeSettingsTests
{
    static ResumeSettings RoundTrip(ResumeSettings settings) =>
        System.Text.Json.JsonSerializer.Deserialize<ResumeSettings>(System.Text.Json.JsonSerializer.Serialize(settings, MlPipeline.Training.Internals.Json.Options), MlPipeline.Training.Internals.Json.Options)!;

    [Test]
    public void Differences_SameOptionsAfterTheCheckpointsJson_AreNone()
    {
        var options = new TrainingOptions { Augmentation = Augmentation.Parse("rotate=10,flip"), Schedule = LearningRateSchedule.Cosine, EarlyStopping = new EarlyStopping(3, EarlyStoppingMonitor.ValAccuracy, 0.01), Backbone = "resnet18", AugmentCopies = 2 };

        Assert.That(RoundTrip(ResumeSettings.Of(options)).Differences(ResumeSettings.Of(options)), Is.Empty);
    }

    [Test]
    public void Differences_NameEachChangedSettingAlone()
    {
        var saved = ResumeSettings.Of(new TrainingOptions { Schedule = LearningRateSchedule.Cosine, Epochs = 5, WeightDecay = 0.05 });

        Assert.That(saved.Differences(ResumeSettings.Of(new TrainingOptions { Schedule = LearningRateSchedule.Cosine, Epochs = 8, WeightDecay = 0.05 })),
            Is.EqualTo(new[] { "cosine schedule over 5 epochs (now 8 epochs)" }));
        Assert.That(saved.Differences(ResumeSettings.Of(new TrainingOptions { Schedule = LearningRateSchedule.Constant, Epochs = 8, WeightDecay = 0.01, EarlyStopping = new EarlyStopping(2) })),
            Is.EqualTo(new[] { "learning-rate schedule cosine (now constant)", "weight decay 0.05 (now 0.01)", "early stopping off (now patience 2 on ValLoss (min delta 0))" }));
    }

    [Test]
    public void Of_ScheduleThatDoesNotDependOnTheEpochs_IgnoresThem()
    {
        var constant = ResumeSettings.Of(new TrainingOptions { Epochs = 5 });

        Assert.That(constant.Differences(ResumeSettings.Of(new TrainingOptions { Epochs = 50 })), Is.Empty, "a constant rate trains on for more epochs");
    }

    [Test]
    public void Text_IsTheWordingCheckpointsOfEarlierVersionsCompare()
    {
        // The text those checkpoints hold, unchanged: a resume of one compares it.
        var options = new TrainingOptions { Augmentation = Augmentation.Light, Schedule = LearningRateSchedule.Cosine, Epochs = 5, WeightDecay = 0.05, LabelSmoothing = 0.1, EarlyStopping = new EarlyStopping(3, EarlyStoppingMonitor.ValAccuracy, 0.01), Backbone = "resnet18", AugmentCopies = 2, FineTuneBlocks = 1 };

        Assert.That(ResumeSettings.Of(options).Text, Is.EqualTo("augment flip,shift=0.1, schedule Cosine over 5 epochs, weight decay 0.05, label smoothing 0.1, class weights None, early stopping patience 3 on ValAccuracy (min delta 0.01), backbone resnet18, augment copies 2, fine-tuned blocks 1"));
        Assert.That(ResumeSettings.Of(new TrainingOptions()).Text, Is.EqualTo("augment none, schedule Constant, weight decay 0, label smoothing 0, class weights None, early stopping off"));
    }
}
