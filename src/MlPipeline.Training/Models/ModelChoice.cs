namespace MlPipeline.Training.Models;

/// <summary>
/// The model <see cref="ClassifierTrainer"/> trains: a built-in architecture by name (<c>cnn</c> or <c>mlp</c>, see
/// <see cref="ModelSpec.BuiltInNames"/>), sized to the data once it is read, or a custom <see cref="ModelSpec"/>. A
/// string or a <see cref="ModelSpec"/> converts to it, so <c>Model = "mlp"</c> and <c>Model = spec</c> both read as written.
/// </summary>
public sealed record ModelChoice
{
    ModelChoice(string name, ModelSpec? spec)
    {
        Name = name;
        Spec = spec;
    }

    /// <summary>The built-in architecture's name, or the custom <see cref="Spec"/>'s.</summary>
    public string Name { get; }

    /// <summary>The custom architecture, or null for a built-in one (whose layers follow from the data).</summary>
    public ModelSpec? Spec { get; }

    /// <summary>The built-in architecture <paramref name="name"/>; <see cref="TrainingOptions.Validate"/> checks that it is one.</summary>
    public static ModelChoice FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new(name, null);
    }

    /// <summary>The custom architecture <paramref name="spec"/>, trained as it is.</summary>
    public static ModelChoice FromSpec(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new(spec.Name, spec);
    }

    /// <summary>The built-in architecture <paramref name="name"/> (as <see cref="FromName"/>).</summary>
    public static implicit operator ModelChoice(string name) => FromName(name);

    /// <summary>The custom architecture <paramref name="spec"/> (as <see cref="FromSpec"/>).</summary>
    public static implicit operator ModelChoice(ModelSpec spec) => FromSpec(spec);

    /// <summary>The architecture to train for images of the given shape: the custom spec, or the built-in one sized to them.</summary>
    public ModelSpec Resolve(int classes, int channels, int height, int width) =>
        Spec ?? ModelSpec.FromName(Name, classes, channels, height, width);

    /// <summary>The model's name.</summary>
    public override string ToString() => Name;
}
