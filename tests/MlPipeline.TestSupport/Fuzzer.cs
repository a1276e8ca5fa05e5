using System.Diagnostics;
using NUnit.Framework;

namespace MlPipeline.TestSupport;

/// <summary>
/// Seeded, count-bounded fuzzing: random and mutated bytes fed to a reader of user files must produce a result or the
/// documented error type, never anything else. A failure names the seed, the iteration and the mutation, so it can
/// be replayed.
/// </summary>
public static class Fuzzer
{
    /// <summary>The seed every fuzz test starts from.</summary>
    public const int Seed = 20261128;

    /// <summary>
    /// Inputs each target sees: a fixed number, so a run is the same run on any machine. The time cap only keeps a very
    /// slow machine from running for minutes, and the output says when it cut a run short.
    /// </summary>
    public const int Inputs = 1500;

    static readonly TimeSpan Cap = TimeSpan.FromSeconds(20);

    /// <summary>One mutation of <paramref name="valid"/>: random bytes, flipped bytes, a cut, an insertion, a zeroed or repeated run.</summary>
    static (string Kind, byte[] Bytes) Mutate(byte[] valid, Random random)
    {
        var bytes = valid.ToList();
        int Pick() => random.Next(Math.Max(1, bytes.Count));
        switch (random.Next(6))
        {
            case 0:
                return ("random", [.. Enumerable.Range(0, random.Next(valid.Length * 2 + 1)).Select(_ => (byte)random.Next(256))]);
            case 1:
                for (int i = random.Next(1, 9); i > 0 && bytes.Count > 0; i--) { bytes[Pick()] = (byte)random.Next(256); }
                return ("flip", [.. bytes]);
            case 2:
                return ("truncate", valid[..random.Next(valid.Length + 1)]);
            case 3:
                bytes.InsertRange(Pick(), Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256)));
                return ("insert", [.. bytes]);
            case 4:
                {
                    int start = Pick(), length = Math.Min(random.Next(1, 256), bytes.Count - start);
                    for (int i = 0; i < length; i++) { bytes[start + i] = 0; }
                    return ("zero", [.. bytes]);
                }
            default:
                {
                    int start = Pick(), length = Math.Min(random.Next(1, 256), bytes.Count - start);
                    bytes.InsertRange(start, bytes.GetRange(start, length));
                    return ("repeat", [.. bytes]);
                }
        }
    }

    /// <summary>Runs <paramref name="target"/> on <see cref="Inputs"/> seeded mutations (fewer only past the time cap); only <typeparamref name="TAllowed"/> may escape.</summary>
    public static void Run<TAllowed>(string what, byte[] valid, Action<byte[]> target, int seed = Seed) where TAllowed : Exception
    {
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        int iterations = 0, rejected = 0;
        while (iterations < Inputs && clock.Elapsed < Cap)
        {
            var (kind, bytes) = Mutate(valid, random);
            try
            {
                target(bytes);
            }
            catch (TAllowed)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}: iteration {iterations} (seed {seed}, mutation '{kind}', {bytes.Length} bytes) threw {e.GetType().Name}: {e.Message}");
            }
            iterations++;
        }
        TestContext.Out.WriteLine($"{what}: {iterations} inputs (seed {seed}){(iterations < Inputs ? $", cut short by the {Cap.TotalSeconds} s cap" : "")}, {rejected} rejected with {typeof(TAllowed).Name}, {iterations - rejected} accepted");
        Assert.That(rejected, Is.GreaterThan(0), "the fuzzer produced no invalid input");
    }

}
