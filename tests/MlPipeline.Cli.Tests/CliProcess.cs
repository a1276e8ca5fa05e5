using System.Diagnostics;
using System.Text;

namespace MlPipeline.Cli.Tests;

/// <summary>A running <c>mlpipeline</c> process with its standard error collected.</summary>
internal sealed class CliProcess : IDisposable
{
    readonly Process process;
    readonly StringBuilder error = new();
    readonly StringBuilder output = new();
    readonly object changed = new();

    public CliProcess(params string[] args)
        : this(new Dictionary<string, string>(), args)
    {
    }

    /// <summary>Starts the CLI with <paramref name="environment"/> added to this process's variables.</summary>
    public CliProcess(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        // A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored across exec, so a
        // test run from such a job would see Ctrl+C lost. GNU env puts SIGINT back to its default first, as an
        // interactive terminal has it.
        bool gnuEnv = OperatingSystem.IsLinux() && File.Exists("/usr/bin/env");
        var start = new ProcessStartInfo(gnuEnv ? "/usr/bin/env" : "dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (gnuEnv) { start.ArgumentList.Add("--default-signal=INT"); start.ArgumentList.Add("dotnet"); }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MlPipeline.Cli.dll"));
        foreach (string arg in args) { start.ArgumentList.Add(arg); }
        foreach (var (name, value) in environment) { start.Environment[name] = value; }
        process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.ErrorDataReceived += (_, e) => Append(error, e.Data);
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.Exited += (_, _) => { lock (changed) { Monitor.PulseAll(changed); } };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    void Append(StringBuilder to, string? line)
    {
        lock (to) { to.AppendLine(line); }
        lock (changed) { Monitor.PulseAll(changed); }
    }

    /// <summary>Starts the CLI paused at <paramref name="point"/> (the CLI's test seam: it prints "paused at POINT" there and waits for a signal).</summary>
    public static CliProcess PausedAt(string point, params string[] args) =>
        new(new Dictionary<string, string> { ["MLPIPELINE_TEST_PAUSE"] = point }, args);

    public string Error { get { lock (error) { return error.ToString(); } } }

    public string Output { get { lock (output) { return output.ToString(); } } }

    /// <summary>
    /// Waits until the process prints <paramref name="text"/> (standard output or error): a line it prints only once
    /// it is working, long after its signal handlers exist. False if the process ended first or time ran out.
    /// </summary>
    public bool WaitFor(string text, TimeSpan timeout)
    {
        // Woken by each line the process prints and by its exit: no polling.
        var clock = Stopwatch.StartNew();
        lock (changed)
        {
            while (true)
            {
                if (Error.Contains(text, StringComparison.Ordinal) || Output.Contains(text, StringComparison.Ordinal)) { return true; }
                var left = timeout - clock.Elapsed;
                if (process.HasExited)
                {
                    // The last lines may still be on their way: WaitForExit drains the streams.
                    Monitor.Exit(changed);
                    try { process.WaitForExit(); } finally { Monitor.Enter(changed); }
                    return Error.Contains(text, StringComparison.Ordinal) || Output.Contains(text, StringComparison.Ordinal);
                }
                if (left <= TimeSpan.Zero) { return false; }
                Monitor.Wait(changed, left);
            }
        }
    }

    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public int Exit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The process did not stop within {timeout.TotalSeconds} s of the signal. Output:\n{Error}");
        }
        process.WaitForExit();
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) { process.Kill(entireProcessTree: true); }
        process.Dispose();
    }
}
