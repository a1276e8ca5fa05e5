using System.Security.Cryptography;
using Google.Protobuf;
using MlPipeline.Scoring;
using Onnx;

namespace MlPipeline.Training.Transfer;

/// <summary>
/// A pretrained feature extractor shipped in a NuGet package and restored like any dependency (never downloaded at run
/// time): today ImageNet's ResNet-18 from <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, with the package's own
/// input normalisation (RGB → BGR, minus a mean image). <see cref="Locate"/> finds its files; the composed graph
/// (normalisation, then the network, with a symbolic batch and the exporter's opset) computes the features for
/// training and is the front of the exported model.
/// </summary>
public sealed record Backbone
{
    /// <summary>The name of ImageNet's ResNet-18 backbone.</summary>
    public const string ResNet18 = "resnet18";

    /// <summary>The backbones known, by name.</summary>
    public static IReadOnlyList<string> KnownNames { get; } = [ResNet18];

    /// <summary>The NuGet package that ships the files.</summary>
    public string Package { get; private init; } = "";

    /// <summary>The package version MlPipeline is built and tested with.</summary>
    public string PackageVersion { get; private init; } = "";

    /// <summary>The backbone's name, for example <c>resnet18</c>.</summary>
    public string Name { get; private init; } = "";

    /// <summary>The network's ONNX file.</summary>
    public string ModelPath { get; private init; } = "";

    /// <summary>The normalisation's ONNX file.</summary>
    public string PreprocessPath { get; private init; } = "";

    /// <summary>Features per image (the network's output channels).</summary>
    public int FeatureSize { get; private init; }

    /// <summary>
    /// How an image becomes the composed graph's input: <see cref="InputSize"/>² RGB pixels as they are (0–255, offset 0,
    /// scale 1); the package's normalisation is inside the graph. Resize mode: stretch (ML.NET's default fill).
    /// </summary>
    public ImagePreprocessing Preprocessing => new(InputSize, InputSize, ColorMode.Rgb, 0f, 1f);

    /// <summary>Input width and height in pixels.</summary>
    public int InputSize { get; private init; }

    const string ResNetPackage = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    const string ResNetVersion = "0.23.1";

    /// <summary>
    /// Finds the backbone's files: in <paramref name="directory"/> when given (a <c>DnnImageModels</c> folder), else
    /// beside MlPipeline.Training's assembly and the application (where the package's build step copies them), else in
    /// the NuGet global packages folder (<c>NUGET_PACKAGES</c> or <c>~/.nuget/packages</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a known backbone.</exception>
    /// <exception cref="FileNotFoundException">The package's files are in none of those places (the message lists them and says how to restore the package).</exception>
    public static Backbone Locate(string name, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!KnownNames.Contains(name))
        {
            throw new ArgumentException($"Backbone '{name}' is not known; expected one of: {string.Join(", ", KnownNames)}.", nameof(name));
        }
        const string model = "ResNet18Onnx/ResNet18.onnx", prep = "ResNetPrepOnnx/ResNetPreprocess.onnx";
        var candidates = directory is not null ? [directory] : DefaultDirectories(ResNetPackage, ResNetVersion);
        foreach (string candidate in candidates)
        {
            string m = Path.Combine(candidate, model), p = Path.Combine(candidate, prep);
            if (File.Exists(m) && File.Exists(p))
            {
                return new Backbone { Name = name, Package = ResNetPackage, PackageVersion = ResNetVersion, ModelPath = m, PreprocessPath = p, FeatureSize = 512, InputSize = 224 };
            }
        }
        throw new FileNotFoundException(
            $"The {name} backbone's files ({model} and {prep}) are in none of: {string.Join(", ", candidates.Select(c => $"'{c}'"))}. " +
            $"They come with the NuGet package {ResNetPackage} {ResNetVersion}: reference it (<PackageReference Include=\"{ResNetPackage}\" Version=\"{ResNetVersion}\" />) and restore, or pass the folder holding DnnImageModels' contents.");
    }

    static List<string> DefaultDirectories(string package, string version)
    {
        var list = new List<string>();
        if (Path.GetDirectoryName(typeof(Backbone).Assembly.Location) is { Length: > 0 } assembly) { list.Add(Path.Combine(assembly, "DnnImageModels")); }
        list.Add(Path.Combine(AppContext.BaseDirectory, "DnnImageModels"));
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        list.Add(Path.Combine(packages, package.ToLowerInvariant(), version, "tools", "DnnImageModels"));
        return [.. list.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>SHA-256 of the network's file, recorded with a trained head so that export can refuse a different file.</summary>
    public string ModelChecksum()
    {
        using var stream = File.OpenRead(ModelPath);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The output tensor of the composed features graph: [batch, C, H, W] at the cut.</summary>
    internal const string FeaturesName = "features";

    /// <summary>Residual blocks in the network (the most that can be fine-tuned).</summary>
    public int CountBlocks() => Read(ModelPath).Graph.Node.Count(n => n.OpType == "Add");

    /// <summary>Where the network is cut so that its last <paramref name="trainableBlocks"/> residual blocks train with the head (0: the frozen network's pooled output).</summary>
    internal BackboneCut Cut(int trainableBlocks) => BackboneBlocks.Cut(Read(ModelPath), trainableBlocks, InputSize, $"{Name}/");

    /// <summary>
    /// A standalone model of the normalisation and the network up to <paramref name="cut"/>: input
    /// <paramref name="inputName"/> [batch, 3, 224, 224] raw RGB pixels, output <see cref="FeaturesName"/> [batch, C, H, W].
    /// </summary>
    internal ModelProto FeaturesModel(string inputName, int opset, BackboneCut cut)
    {
        var graph = new GraphProto { Name = $"{Name}-features" };
        graph.Input.Add(Export.OnnxGraphs.TensorInfo(inputName, "batch", 3, InputSize, InputSize));
        string output = AppendTo(graph, inputName, opset, cut);
        graph.Node.Add(Export.OnnxGraphs.Node("Identity", "features_identity", [output], [FeaturesName]));
        graph.Output.Add(Export.OnnxGraphs.TensorInfo(FeaturesName, "batch", cut.Channels, cut.Height, cut.Width));
        var proto = new ModelProto { IrVersion = Export.OnnxExporter.IrVersion, ProducerName = "MlPipeline", Graph = graph };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return proto;
    }

    /// <summary>
    /// Appends the normalisation and the network to <paramref name="graph"/>, reading <paramref name="input"/>, and
    /// returns the name of the features tensor. Every name from the package's files gets a prefix (no clash with the
    /// head's), the fixed batch of 1 in their shapes is dropped (their ops broadcast or work per image), and the nodes
    /// move from opset 8 to <paramref name="opset"/> (13 to 17) where their meaning is unchanged.
    /// </summary>
    internal string AppendTo(GraphProto graph, string input, int opset, BackboneCut cut)
    {
        string prepOut = Append(graph, Read(PreprocessPath), "prep/", input, opset, null);
        return Append(graph, Read(ModelPath), $"{Name}/", prepOut, opset, cut.TensorName);
    }

    static ModelProto Read(string path)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{path}' is not a readable ONNX model: {e.Message}", e);
        }
    }

    /// <summary>Copies <paramref name="source"/>'s single-input, single-output graph into <paramref name="graph"/>, its input fed from <paramref name="input"/>.</summary>
    /// <param name="stopAt">The (prefixed) tensor the copy ends at: later nodes, and constants only they use, are left out.</param>
    static string Append(GraphProto graph, ModelProto source, string prefix, string input, int opset, string? stopAt)
    {
        var g = source.Graph;
        var initializers = g.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = g.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        if (inputs.Count != 1 || g.Output.Count != 1)
        {
            throw new InvalidDataException($"Backbone graph '{g.Name}' has {inputs.Count} inputs and {g.Output.Count} outputs; expected one of each.");
        }
        long sourceOpset = source.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        string Rename(string name) => name.Length == 0 ? name : name == inputs[0].Name ? input : prefix + name;
        var nodes = g.Node.ToList();
        if (stopAt is not null)
        {
            int last = nodes.FindIndex(n => n.Output.Any(o => Rename(o) == stopAt));
            if (last < 0) { throw new InvalidOperationException($"No node of '{g.Name}' computes '{stopAt}'."); }
            nodes = nodes[..(last + 1)];
        }
        var used = nodes.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        foreach (var tensor in g.Initializer.Where(t => used.Contains(t.Name)))
        {
            var copy = tensor.Clone();
            copy.Name = Rename(tensor.Name);
            graph.Initializer.Add(copy);
        }
        foreach (var node in nodes)
        {
            var copy = node.Clone();
            copy.Name = prefix + (node.Name.Length > 0 ? node.Name : node.Output[0]);
            copy.Input.Clear();
            copy.Input.AddRange(node.Input.Select(Rename));
            copy.Output.Clear();
            copy.Output.AddRange(node.Output.Select(Rename));
            Export.OnnxGraphs.Upgrade(copy, sourceOpset, opset, graph, prefix);
            graph.Node.Add(copy);
        }
        return stopAt ?? Rename(g.Output[0].Name);
    }
}
