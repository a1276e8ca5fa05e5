using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MlPipeline.Internals;
using MlPipeline.Training.Internals;
using TorchSharp;
using TorchSharp.Modules;

namespace MlPipeline.Training;

/// <summary>
/// One file holds the run's state, the model's weights and Adam's moments, so a checkpoint is complete or absent:
/// it is written to a temporary file and renamed into place. Layout: "MLPCKPT2", the JSON state (length-prefixed),
/// then the tensors (length-prefixed) after their SHA-256, which is checked before any tensor is loaded.
/// </summary>
internal static class Checkpoint
{
    public const string FileName = RunFolder.CheckpointFile;
    static readonly byte[] Magic = "MLPCKPT2"u8.ToArray();

    public static void Save(string path, CheckpointState state, torch.nn.Module model, torch.optim.Optimizer optimizer)
    {
        using var tensors = new MemoryStream();
        using (var payload = new BinaryWriter(tensors, Encoding.UTF8, leaveOpen: true))
        {
            model.save(payload);
            ((OptimizerHelper)optimizer).save_state_dict(payload);
        }
        using var atomic = AtomicFile.Begin(path);
        using (var writer = new BinaryWriter(atomic.Stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(state, Json.Options);
            writer.Write(json.Length);
            writer.Write(json);
            writer.Write(tensors.Length);
            writer.Write(SHA256.HashData(tensors.GetBuffer().AsSpan(0, (int)tensors.Length)));
            writer.Write(tensors.GetBuffer(), 0, (int)tensors.Length);
        }
        atomic.Commit();
    }

    public static CheckpointState ReadState(string path)
    {
        using var stream = OpenRead(path);
        using var reader = new BinaryReader(stream);
        return ReadState(reader, path);
    }

    /// <summary>Reads the state and loads weights (and, when given, the optimizer's moments).</summary>
    public static CheckpointState Load(string path, torch.nn.Module model, torch.optim.Optimizer? optimizer)
    {
        using var stream = OpenRead(path);
        using var reader = new BinaryReader(stream);
        var state = ReadState(reader, path);
        // The tensors are checked against their SHA-256 before TorchSharp sees them: its native loader trusts the
        // sizes it reads, and a damaged file could otherwise corrupt memory instead of failing cleanly.
        byte[] payload;
        try
        {
            long length = reader.ReadInt64();
            if (length <= 0 || length > stream.Length - stream.Position - 32)
            {
                throw new InvalidDataException($"Checkpoint '{path}' declares {length} bytes of weights, which do not fit in the file.");
            }
            byte[] hash = reader.ReadBytes(32);
            payload = reader.ReadBytes((int)length);
            if (!SHA256.HashData(payload).AsSpan().SequenceEqual(hash))
            {
                throw new InvalidDataException($"Checkpoint '{path}' is corrupt: the weights do not match their SHA-256 checksum.");
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"Checkpoint '{path}' is truncated: {e.Message}", e);
        }
        try
        {
            using var tensors = new BinaryReader(new MemoryStream(payload, writable: false));
            model.load(tensors, strict: true);
            if (optimizer is not null) { ((OptimizerHelper)optimizer).load_state_dict(tensors); }
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidOperationException or IOException or ExternalException or FormatException)
        {
            throw new InvalidDataException($"Checkpoint '{path}' is corrupt or belongs to another architecture: {e.Message}", e);
        }
        return state;
    }

    static FileStream OpenRead(string path)
    {
        if (!File.Exists(path)) { throw new FileNotFoundException($"Checkpoint '{path}' does not exist; train first with 'mlpipeline train --out {Path.GetDirectoryName(path)}'.", path); }
        return MlPipeline.Internals.FileSystem.OpenRead(path, "Checkpoint");
    }

    static CheckpointState ReadState(BinaryReader reader, string path)
    {
        try
        {
            byte[] magic = reader.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic))
            {
                throw new InvalidDataException($"Checkpoint '{path}' does not start with the MlPipeline checkpoint signature MLPCKPT2 (a checkpoint of an older MlPipeline, or not a checkpoint).");
            }
            int length = reader.ReadInt32();
            if (length <= 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
            {
                throw new InvalidDataException($"Checkpoint '{path}' declares a {length}-byte header that does not fit in the file.");
            }
            return JsonSerializer.Deserialize<CheckpointState>(reader.ReadBytes(length), Json.Options)
                ?? throw new InvalidDataException($"Checkpoint '{path}' has an empty header.");
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or NotSupportedException or ArgumentException)
        {
            throw new InvalidDataException($"Checkpoint '{path}' is truncated or corrupt: {e.Message}", e);
        }
    }
}
