using System.Diagnostics;
using System.Text;

namespace MlPipeline.Cli.Tests;

/// <summary>A running <c>mlpipeline</c> process with its standard error collected.</summary>
internal sealed class CliProcess : IDisposable
{
    readonly Process process;
    readonly StringBuilder error = new();
    readonly StringBuilder output = new();

    public CliProcess(params string[] args)
    {
        // A shell starts background jobs with SIGINT ignored, and an ignored signal stays ignored across exec, so a
        // test run from such a job would see Ctrl+C lost. GNU env puts SIGINT back to its default first, as an
        // interactive terminal has it.
        bool gnuEnv = OperatingSystem.IsLinux() && File.Exists("/usr/bin/env");
        var start = new ProcessStartInfo(gnuEnv ? "/usr/bin/env" : "dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (gnuEnv) { start.ArgumentList.Add("--default-signal=INT"); start.ArgumentList.Add("dotnet"); }
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MlPipeline.Cli.dll"));
        foreach (string arg in args) { start.ArgumentList.Add(arg); }
        process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) => { lock (error) { error.AppendLine(e.Data); } };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    public string Error { get { lock (error) { return error.ToString(); } } }

    public string Output { get { lock (output) { return output.ToString(); } } }

    /// <summary>
    /// Waits until the process prints <paramref name="text"/> (standard output or error): a line it prints only once
    /// it is working, long after its signal handlers exist. False if the process ended first or time ran out.
    /// </summary>
    public bool WaitFor(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Error.Contains(text, StringComparison.Ordinal) || Output.Contains(text, StringComparison.Ordinal)) { return true; }
            if (process.HasExited) { return false; }
            Thread.Sleep(50);
        }
        return false;
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
