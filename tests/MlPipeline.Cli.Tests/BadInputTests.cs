using Google.Protobuf;
using MlPipeline.Datasets;

namespace MlPipeline.Cli.Tests;

/// <summary>
/// Every command against bad input: each gives a clear error naming the input and what was expected, the documented
/// exit code, no stack trace without --verbose, and no output file (complete or partial) in the output folder.
/// </summary>
public sealed class BadInputTests
{
    static string fixtures = "";

    [OneTimeSetUp]
    public static async Task CreateFixtures()
    {
        fixtures = TempDirectory.Create();
        string F(string name) => Path.Combine(fixtures, name);
        Directory.CreateDirectory(F("empty"));
        Directory.CreateDirectory(F("text-only"));
        File.WriteAllText(F("text-only/readme.txt"), "no images here");
        Mnist.Load(Mnist.Ensure()).Test.WritePngFolder(F("digits"), 12);

        // MNIST with one truncated idx file.
        Directory.CreateDirectory(F("idx"));
        foreach (string file in Directory.GetFiles(Mnist.Ensure())) { File.Copy(file, Path.Combine(F("idx"), Path.GetFileName(file))); }
        byte[] images = File.ReadAllBytes(F("idx/t10k-images-idx3-ubyte"));
        File.WriteAllBytes(F("idx/t10k-images-idx3-ubyte"), images[..5000]);

        // Models: random bytes, truncated, a non-float input, an input of rank 2.
        byte[] model = File.ReadAllBytes(Repository.File(Path.Combine("onnx", "mnist-cnn.onnx")));
        File.WriteAllBytes(F("random.onnx"), [.. Enumerable.Range(0, 4000).Select(i => (byte)(i * 7919 % 251))]);
        File.WriteAllBytes(F("truncated.onnx"), model[..(model.Length / 2)]);
        var proto = Onnx.ModelProto.Parser.ParseFrom(model);
        proto.Graph.Input[0].Type.TensorType.ElemType = (int)Onnx.TensorProto.Types.DataType.Double;
        File.WriteAllBytes(F("double-input.onnx"), proto.ToByteArray());
        proto = Onnx.ModelProto.Parser.ParseFrom(model);
        var dims = proto.Graph.Input[0].Type.TensorType.Shape.Dim;
        while (dims.Count > 2) { dims.RemoveAt(dims.Count - 1); }
        dims[1].DimValue = 784;
        File.WriteAllBytes(F("rank2-input.onnx"), proto.ToByteArray());

        // Labels files and a labelled-images CSV with a repeated path.
        File.WriteAllLines(F("few-labels.txt"), ["0", "1"]);
        File.WriteAllLines(F("dup-labels.txt"), ["0", "1", "1", "3", "4", "5", "6", "7", "8", "9"]);
        string first = Path.GetRelativePath(F("digits"), Directory.GetFiles(F("digits"), "*.png", SearchOption.AllDirectories)[0]);
        File.WriteAllLines(F("dup-paths.csv"), ["path,label", $"{first},7", $"{first},7"]);

        // Run folders: a finished tiny run, then copies with a corrupt model.json and a truncated checkpoint.
        var (exit, _, error) = await CliRunner.Run("train", "--limit", "64", "--epochs", "1", "--threads", "1", "--out", F("run"));
        Assert.That(exit, Is.EqualTo(0), error);
        foreach (string copy in new[] { "run-bad-json", "run-bad-checkpoint" })
        {
            Directory.CreateDirectory(F(copy));
            foreach (string file in Directory.GetFiles(F("run"))) { File.Copy(file, Path.Combine(F(copy), Path.GetFileName(file))); }
        }
        File.WriteAllText(F("run-bad-json/model.json"), "{ \"architecture\": ");
        // A hand-edited model.json whose Linear layer has two billion outputs (and the next layer to match).
        Directory.CreateDirectory(F("run-huge"));
        foreach (string file in Directory.GetFiles(F("run"))) { File.Copy(file, Path.Combine(F("run-huge"), Path.GetFileName(file))); }
        string json = File.ReadAllText(F("run-huge/model.json"));
        json = json.Replace("\"outFeatures\": 64", "\"outFeatures\": 2000000000", StringComparison.Ordinal).Replace("\"inFeatures\": 64", "\"inFeatures\": 2000000000", StringComparison.Ordinal);
        File.WriteAllText(F("run-huge/model.json"), json);
        // An unfinished run: a checkpoint and no model.json.
        Directory.CreateDirectory(F("run-unfinished"));
        File.Copy(F("run/checkpoint.bin"), F("run-unfinished/checkpoint.bin"));
        // The shipped model with a symbolic height and width: its layers still need 28x28, which only running it shows.
        File.WriteAllBytes(F("symbolic.onnx"), OnnxModels.Edit(model, OnnxModels.SymbolicImageSize));
        File.WriteAllText(F("a-file"), "not a folder");
        Directory.CreateDirectory(F("out.csv"));
        Directory.CreateDirectory(F("classes/3"));
        File.Copy(Directory.GetFiles(F("digits"), "*.png", SearchOption.AllDirectories)[0], F("classes/3/x.png"));
        Directory.CreateDirectory(F("one-class/a"));
        File.Copy(Directory.GetFiles(F("digits"), "*.png", SearchOption.AllDirectories)[0], F("one-class/a/x.png"));
        byte[] checkpoint = File.ReadAllBytes(F("run-bad-checkpoint/checkpoint.bin"));
        File.WriteAllBytes(F("run-bad-checkpoint/checkpoint.bin"), checkpoint[..(checkpoint.Length / 3)]);
    }

    [OneTimeTearDown]
    public static void DeleteFixtures() => Directory.Delete(fixtures, recursive: true);

    // {F} is the fixtures folder, {O} an empty output folder that must stay empty. Exit codes are the literal values
    // the README documents: 1 failure, 2 invalid usage.
    static readonly object[] Cases =
    [
        new object[] { "train --data {F}/missing --out {O}/run", 1, "does not exist" },
        new object[] { "train --data {F}/idx --out {O}/run", 1, "t10k-images-idx3-ubyte" },
        new object[] { "train --epochs -1 --out {O}/run", 2, "--epochs must be at least 1" },
        new object[] { "train --batch-size 0 --out {O}/run", 2, "--batch-size must be from 1 to 65536" },
        new object[] { "train --model vgg --out {O}/run", 2, "--model must be one of cnn, mlp, resnet, but was 'vgg'" },
        new object[] { "train --lr -0.5 --out {O}/run", 2, "--lr must be a normal positive float32" },
        new object[] { "train --limit 0 --out {O}/run", 2, "--limit must be at least 1" },
        new object[] { "export --run {F}/missing --out {O}/m.onnx", 1, "Run folder '{F}/missing' does not exist" },
        new object[] { "export --run {F}/run-bad-json --out {O}/m.onnx", 1, "model.json' is not a valid" },
        new object[] { "export --run {F}/run-bad-checkpoint --out {O}/m.onnx", 1, "checkpoint.bin" },
        new object[] { "export --run {F}/run --out {O}/m.onnx --opset 99", 2, "--opset must be from 13 to 17" },
        new object[] { "score --input {F}/missing --output {O}/p.csv", 1, "'{F}/missing' does not exist" },
        new object[] { "score --input {F}/empty --output {O}/p.csv", 1, "holds no images" },
        new object[] { "score --input {F}/text-only --output {O}/p.csv", 1, "1 other files were ignored" },
        new object[] { "score --model {F}/missing.onnx --input {F}/digits --output {O}/p.csv", 1, "missing.onnx' does not exist" },
        new object[] { "score --model {F}/random.onnx --input {F}/digits --output {O}/p.csv", 1, "random.onnx' is not a valid ONNX model" },
        new object[] { "score --model {F}/truncated.onnx --input {F}/digits --output {O}/p.csv", 1, "truncated.onnx' is not a valid ONNX model" },
        new object[] { "score --model {F}/double-input.onnx --input {F}/digits --output {O}/p.csv", 1, "double-input.onnx' is not a valid ONNX model" },
        new object[] { "score --model {F}/rank2-input.onnx --input {F}/digits --output {O}/p.csv", 1, "rank2-input.onnx' is not a valid ONNX model" },
        new object[] { "score --color rgb --input {F}/digits --output {O}/p.csv", 1, "takes 1 channel(s) but colour mode rgb gives 3" },
        new object[] { "score --size 32x32 --input {F}/digits --output {O}/p.csv", 1, "takes 28x28 images but the preprocessing size is 32x32" },
        new object[] { "score --labels {F}/few-labels.txt --input {F}/digits --output {O}/p.csv", 1, "outputs 10 classes but 2 labels were given" },
        new object[] { "score --labels {F}/dup-labels.txt --input {F}/digits --output {O}/p.csv", 1, "repeats the label '1'" },
        new object[] { "score --labels {F}/missing.txt --input {F}/digits --output {O}/p.csv", 1, "missing.txt' does not exist" },
        new object[] { "score --size 0x5 --input {F}/digits --output {O}/p.csv", 2, "--size must be WIDTHxHEIGHT" },
        new object[] { "score --output {O}/p.txt --input {F}/digits", 2, "--output must end in .csv or .jsonl" },
        new object[] { "score --batch-size 0 --input {F}/digits --output {O}/p.csv", 2, "--batch-size must be from 1 to 65536" },
        new object[] { "score --mean 0.1 --input {F}/digits --output {O}/p.csv", 2, "--mean and --std go together" },
        new object[] { "score --scale 0 --input {F}/digits --output {O}/p.csv", 2, "--scale must be a finite, non-zero number (or three, one per channel, separated by commas), but was '0'" },
        new object[] { "score --mean 0.5,0.5 --std 0.2 --input {F}/digits --output {O}/p.csv", 2, "--mean must be one value or three (one per channel), but '0.5,0.5' has 2" },
        new object[] { "score --mean 0.5,x,0.5 --std 0.2 --input {F}/digits --output {O}/p.csv", 2, "--mean must be a finite number (or three, one per channel, separated by commas), but was '0.5,x,0.5'" },
        new object[] { "score --mean 0.1,0.2,0.3 --std 0.2 --input {F}/digits --output {O}/p.csv", 2, "is scored as gray (1 channel) but 3 means (0.1,0.2,0.3) were given; expected one value." },
        new object[] { "score --offset 1,2,3 --scale 1,2 --input {F}/digits --output {O}/p.csv", 2, "--scale must be one value or three (one per channel), but '1,2' has 2" },
        new object[] { "train --augment wobble --limit 64 --out {O}/run", 2, "--augment: Augmentation 'wobble' is unknown; expected none, light, standard, or a list of flip, rotate=DEGREES" },
        new object[] { "train --augment rotate=400 --limit 64 --out {O}/run", 2, "Augmentation rotate=400 is out of range; expected 0 to 180" },
        new object[] { "train --early-stopping 0 --limit 64 --out {O}/run", 2, "--early-stopping must be from 1 to 10000, but was 0" },
        new object[] { "train --lr-schedule fast --limit 64 --out {O}/run", 2, "--lr-schedule must be one of constant, onecycle, cosine, plateau, but was 'fast'" },
        new object[] { "train --monitor val_acc --limit 64 --out {O}/run", 2, "--monitor must be one of val_loss, val_accuracy" },
        new object[] { "train --weight-decay -1 --limit 64 --out {O}/run", 2, "--weight-decay must be from 0 to 1, but was -1" },
        new object[] { "train --label-smoothing 1 --limit 64 --out {O}/run", 2, "--label-smoothing must be from 0 to below 1, but was 1" },
        new object[] { "train --early-stopping 2 --limit 64 --out {O}/run", 2, "Early stopping watches a validation set, and this data has none" },
        new object[] { "train --lr-schedule plateau --limit 64 --out {O}/run", 2, "The plateau schedule watches the validation loss" },
        new object[] { "train --normalize --mean 0.1 --std 0.3 --limit 64 --out {O}/run", 2, "Give either --normalize (the training split's statistics) or --mean and --std, not both" },
        new object[] { "train --mean 0.1,0.2,0.3 --std 0.3 --limit 64 --out {O}/run", 2, "need one value or one per channel, and the images have 1 channel(s)" },
        new object[] { "evaluate --input {F}/missing --report {O}/r", 1, "'{F}/missing' does not exist" },
        new object[] { "evaluate --input {F}/digits --labels {F}/dup-paths.csv --report {O}/r", 1, "twice (lines 2 and 3)" },
        new object[] { "evaluate --input {F}/digits --labels {F}/missing.csv --report {O}/r", 1, "missing.csv' does not exist" },
        new object[] { "evaluate --input {F}/digits --report {O}/r --run {F}/empty", 1, "neither a history.json file nor a run folder" },
        new object[] { "demo --threads 0 --out {O}/demo", 2, "--threads must be from 1 to 256" },
        new object[] { "data mnist-png --dir {F}/missing --out {O}/png", 1, "does not exist" },
        // Round 2 (#11): crashes, data loss, wrong results and unclear messages found by a hostile pass.
        new object[] { "score --model {F}/symbolic.onnx --size 32x32 --input {F}/digits --recursive --output {O}/p.csv", 1, "symbolic.onnx' failed on a batch of 12 image(s) of 1x32x32" },
        new object[] { "evaluate --model {F}/symbolic.onnx --size 32x32 --input {F}/digits --report {O}/r", 1, "failed on a batch" },
        new object[] { "score --threads 100000 --input {F}/digits --output {O}/p.csv", 2, "--threads must be from 1 to 256, but was 100000" },
        new object[] { "score --batch-size 2000000000 --input {F}/digits --output {O}/p.csv", 2, "--batch-size must be from 1 to 65536" },
        new object[] { "export --run {F}/run-huge --out {O}/m.onnx", 1, "parameters, over the limit of 250,000,000" },
        new object[] { "score --scale 1e38 --input {F}/digits --output {O}/p.csv", 2, "--offset 0 and --scale 1E+38 turn pixels 0 to 255 into values beyond float's range" },
        new object[] { "score --offset 0,0,0 --scale 1,1,1e38 --input {F}/digits --output {O}/p.csv", 2, "--offset 0,0,0 and --scale 1,1,1E+38 turn pixels" },
        new object[] { "evaluate --scale 1e38 --input {F}/digits --report {O}/r", 2, "--scale 1E+38 turn pixels" },
        new object[] { "score --scale 1e36 --input {F}/digits --recursive --output {O}/p.csv", 1, "the model produced non-finite scores" },
        new object[] { "evaluate --scale 1e36 --input {F}/digits --report {O}/r", 1, "the model produced non-finite scores" },
        new object[] { "score --std 1e-40 --mean 0 --input {F}/digits --output {O}/p.csv", 2, "--mean 0 and --std 1E-40 turn pixels 0 to 255 into values beyond float's range" },
        new object[] { "score --input {F}/a-file --output {O}/p.csv", 1, "a-file' is a file; expected a folder" },
        new object[] { "score --model {F}/digits --input {F}/digits --output {O}/p.csv", 1, "Model '{F}/digits' is a folder; expected a file" },
        new object[] { "export --run {F}/a-file --out {O}/m.onnx", 1, "Run folder '{F}/a-file' is a file; expected a folder" },
        new object[] { "export --run {F}/run-unfinished --out {O}/m.onnx", 1, "is unfinished (1 epoch(s) done, no model.json yet); finish it with 'mlpipeline train --out {F}/run-unfinished --resume'" },
        new object[] { "export --run {F}/empty --out {O}/m.onnx", 1, "is not a training run" },
        new object[] { "data mnist --dir {F}/a-file", 1, "MNIST folder '{F}/a-file' is a file; expected a folder" },
        new object[] { "data mnist --dir {O}/mnist --from {F}/nowhere", 1, "--from '{F}/nowhere' does not exist" },
        new object[] { "train --resume --limit 64 --out {O}/run", 1, "holds no checkpoint to resume" },
        new object[] { "train --backbone resnet50 --out {O}/run", 2, "Argument 'resnet50' not recognized. Must be one of:\n\t'resnet18'" },
        new object[] { "train --backbone resnet18 --out {O}/run", 2, "--backbone resnet18 trains on image folders read as 224x224 RGB; write MNIST as PNG folders first" },
        new object[] { "train --backbone resnet18 --model cnn --data {F}/digits --out {O}/run", 2, "Give either --model (trained from scratch) or --backbone resnet18" },
        new object[] { "train --head mlp --limit 64 --out {O}/run", 2, "--head, --fine-tune and --augment-copies apply to training on a --backbone" },
        new object[] { "train --backbone resnet18 --size 64x64 --data {F}/digits --out {O}/run", 2, "--size 64x64 does not fit the resnet18 backbone, which takes 224x224 images" },
        new object[] { "train --backbone resnet18 --augment-copies 2 --data {F}/digits --out {O}/run", 2, "AugmentCopies (2) needs an Augmentation (--augment)" },
        new object[] { "train --backbone resnet18 --augment flip --data {F}/digits --out {O}/run", 2, "With a frozen backbone, augmentation means features of augmented copies computed once: give AugmentCopies (--augment-copies N)" },
        new object[] { "train --backbone resnet18 --augment-copies 33 --data {F}/digits --out {O}/run", 2, "--augment-copies must be from 0 to 32" },
        new object[] { "train --backbone resnet18 --data {F}/one-class --out {O}/run", 1, "holds 1 class ('a'); a classifier needs at least two" },
        new object[] { "train --background white --limit 64 --out {O}/run", 2, "--size, --color, --resize, --background, --ignore-exif, --val and --test apply to image folders" },
        new object[] { "train --ignore-exif --limit 64 --out {O}/run", 2, "--size, --color, --resize, --background, --ignore-exif, --val and --test apply to image folders; MNIST comes with its own" },
        new object[] { "evaluate --input {F}/missing --labels {F}/dup-paths.csv --report {O}/r", 1, "Input folder '{F}/missing' does not exist" },
        new object[] { "score --input {F}/digits --recursive --output {F}/out.csv", 1, "--output '{F}/out.csv' is a folder; expected a file to write" },
        new object[] { "score --input {F}/digits --output {F}/a-file/p.csv", 1, "a-file' is a file, not a folder" },
        new object[] { "evaluate --input {F}/digits --report {F}/a-file", 1, "--report '{F}/a-file' is a file" },
        new object[] { "score --top-k 11 --input {F}/digits --output {O}/p.csv", 2, "--top-k must be at most the model's 10 classes, but was 11" },
        new object[] { "evaluate --top-k 11 --input {F}/digits --report {O}/r", 2, "--top-k must be at most the model's 10 classes" },
        new object[] { "score --input {F}/classes --output {O}/p.csv", 1, "it has subfolders: add --recursive" },
        new object[] { "data mnist-png --out {F}/digits --limit 5", 1, "already holds files" },
        new object[] { "evaluate --input {F}/digits --report {F}/digits/3", 2, "is inside --input" },
        new object[] { "score --resize sideways --input {F}/digits --output {O}/p.csv", 2, "Argument 'sideways' not recognized. Must be one of:\n\t'stretch'\n\t'pad'\n\t'crop'" },
        new object[] { "score --layout chw --input {F}/digits --output {O}/p.csv", 2, "Argument 'chw' not recognized. Must be one of:\n\t'nchw'\n\t'nhwc'" },
        new object[] { "score --background grey --input {F}/digits --output {O}/p.csv", 2, "Argument 'grey' not recognized. Must be one of:\n\t'black'\n\t'white'" },
        new object[] { "score --resize-shorter 0 --input {F}/digits --output {O}/p.csv", 2, "--resize-shorter" },
        new object[] { "score --resize-shorter 20 --input {F}/digits --output {O}/p.csv", 2, "resize-shorter 20 is invalid; expected 28 to 16384" },
        new object[] { "score --layout nhwc --input {F}/digits --output {O}/p.csv", 1, "28 channels in NHWC layout; expected 1 (gray) or 3 (RGB/BGR); check --layout" },
    ];

    [TestCaseSource(nameof(Cases))]
    public async Task Command_BadInput_ClearErrorExitCodeNoTraceNoOutput(string command, int expectedExit, string expected)
    {
        string output = TempDirectory.Create();
        try
        {
            string[] args = [.. command.Split(' ').Select(a => a.Replace("{F}", fixtures, StringComparison.Ordinal).Replace("{O}", output, StringComparison.Ordinal))];

            var (exit, _, error) = await CliRunner.Run(args);

            Assert.That(exit, Is.EqualTo(expectedExit), error);
            Assert.That(error, Does.Contain(expected.Replace("{F}", fixtures, StringComparison.Ordinal)));
            Assert.That(error, Does.Not.Contain("   at "), "no stack trace without --verbose");
            Assert.That(error, Does.Not.Contain("(Parameter '"), "messages name options, not C# parameters");
            Assert.That(error.Split('\n').Count(l => l.StartsWith("error:", StringComparison.Ordinal)), Is.EqualTo(1), "one error line");
            Assert.That(Directory.GetFileSystemEntries(output, "*", SearchOption.AllDirectories).Where(File.Exists), Is.Empty, "no output left behind");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Test]
    public async Task Command_Verbose_AddsTheStackTrace()
    {
        var (exit, _, error) = await CliRunner.Run("score", "--input", Path.Combine(fixtures, "missing"), "--verbose");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("   at "));
    }
}
