using System.CommandLine;
using MlPipeline.Cli.Commands;
using MlPipeline.Scoring;

namespace MlPipeline.Cli.Tests;

public sealed class CliOptionsTests
{
    [TestCase("gray", ColorMode.Gray)]
    [TestCase("rgb", ColorMode.Rgb)]
    [TestCase("bgr", ColorMode.Bgr)]
    public void OptionalChoice_ALowercaseName_GivesItsMember(string token, ColorMode expected)
    {
        var option = CliOptions.OptionalChoice<ColorMode>("--color", "Colour mode");
        var parse = new RootCommand { option }.Parse(["--color", token]);

        Assert.That(parse.Errors, Is.Empty);
        Assert.That(parse.GetValue(option), Is.EqualTo(expected));
    }

    [Test]
    public void OptionalChoice_NotGiven_IsNull()
    {
        var option = CliOptions.OptionalChoice<ResizeMode>("--resize", "Resizing");

        Assert.That(new RootCommand { option }.Parse([]).GetValue(option), Is.Null);
    }

    [TestCase("Pad")]
    [TestCase("1")]
    [TestCase("sideways")]
    public void OptionalChoice_AnotherSpelling_IsAnErrorNamingTheAcceptedValues(string token)
    {
        var option = CliOptions.OptionalChoice<ResizeMode>("--resize", "Resizing");
        var parse = new RootCommand { option }.Parse(["--resize", token]);

        Assert.That(parse.Errors.Select(e => e.Message), Is.EqualTo(new[] { $"Argument '{token}' not recognized. Must be one of:\n\t'stretch'\n\t'pad'\n\t'crop'" }));
    }

    [Test]
    public void OptionalChoice_Help_ListsTheAcceptedValues()
    {
        var option = CliOptions.OptionalChoice<TensorLayout>("--layout", "Input layout");

        Assert.That(option.HelpName, Is.EqualTo("nchw|nhwc"));
    }

    static Option<MlPipeline.Training.EarlyStoppingMonitor> Monitor() => CliOptions.OneOf("--monitor", "What early stopping watches",
        MlPipeline.Training.EarlyStoppingMonitor.ValLoss, ("val_loss", MlPipeline.Training.EarlyStoppingMonitor.ValLoss), ("val_accuracy", MlPipeline.Training.EarlyStoppingMonitor.ValAccuracy));

    [TestCase(new string[0], MlPipeline.Training.EarlyStoppingMonitor.ValLoss)]
    [TestCase(new[] { "--monitor", "val_loss" }, MlPipeline.Training.EarlyStoppingMonitor.ValLoss)]
    [TestCase(new[] { "--monitor", "val_accuracy" }, MlPipeline.Training.EarlyStoppingMonitor.ValAccuracy)]
    public void OneOf_ASpelling_GivesItsMember_AndNoneTheDefault(string[] args, MlPipeline.Training.EarlyStoppingMonitor expected)
    {
        var option = Monitor();
        var parse = new RootCommand { option }.Parse(args);

        Assert.That(parse.Errors, Is.Empty);
        Assert.That(parse.GetValue(option), Is.EqualTo(expected));
    }

    [TestCase("ValAccuracy")]
    [TestCase("1")]
    [TestCase("val_acc")]
    public void OneOf_AnotherSpelling_IsAnErrorNamingEverySpelling(string token)
    {
        var parse = new RootCommand { Monitor() }.Parse(["--monitor", token]);

        Assert.That(parse.Errors.Select(e => e.Message), Is.EqualTo(new[] { $"--monitor must be one of val_loss, val_accuracy, but was '{token}'." }));
    }
}
