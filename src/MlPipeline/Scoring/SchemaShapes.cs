using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlPipeline.Scoring;

/// <summary>
/// The <see cref="SchemaShape"/> of columns a transform adds. ML.NET keeps <c>SchemaShape.Column</c>'s constructor
/// internal; its public <c>CustomMapping</c> estimator derives the shape of any column (type, size, key count and
/// annotations) from a schema definition, so each added column is described through one.
/// </summary>
internal static class SchemaShapes
{
    static readonly MLContext Ml = new(seed: 0);

    /// <summary>Checks that <paramref name="input"/> has <paramref name="column"/>; the message says what was expected there.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing.</exception>
    public static void Require(SchemaShape input, string column, string expected)
    {
        if (!input.Any(c => c.Name == column))
        {
            throw new ArgumentOutOfRangeException(nameof(input), $"The input has no column '{column}'; expected {expected} there.");
        }
    }

    /// <summary><paramref name="input"/>'s columns, those named like an added column replaced, then the added ones.</summary>
    public static SchemaShape Append(SchemaShape input, IReadOnlyList<DataViewSchema.DetachedColumn> added)
    {
        var ours = added.Select(Shape).ToList();
        return new SchemaShape([.. input.Where(c => !ours.Any(o => o.Name == c.Name)), .. ours]);
    }

    static SchemaShape.Column Shape(DataViewSchema.DetachedColumn column) => column.Type switch
    {
        TextDataViewType => Shape<string>(column),
        KeyDataViewType => Shape<uint>(column),
        VectorDataViewType { ItemType: var item } when item == NumberDataViewType.Single => Shape<float[]>(column),
        _ => throw new NotSupportedException($"Column '{column.Name}' of type {column.Type} has no shape here."),
    };

    static SchemaShape.Column Shape<T>(DataViewSchema.DetachedColumn column)
    {
        var definition = SchemaDefinition.Create(typeof(Value<T>));
        definition[0].ColumnName = column.Name;
        definition[0].ColumnType = column.Type;
        foreach (var annotation in column.Annotations.Schema)
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            column.Annotations.GetValue(annotation.Name, ref names);
            definition[0].AddAnnotation(annotation.Name, names, annotation.Type);
        }
        var estimator = Ml.Transforms.CustomMapping<Nothing, Value<T>>((_, _) => { }, contractName: null, outputSchemaDefinition: definition);
        return estimator.GetOutputSchema(new SchemaShape([])).Single(c => c.Name == column.Name);
    }

    sealed class Nothing;

    sealed class Value<T>
    {
        public T? Item { get; set; }
    }
}
