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
}
