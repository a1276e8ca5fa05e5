using System.Runtime.InteropServices;
using MlPipeline.Cli;

using var cancellation = new CancellationTokenSource();
// First Ctrl+C or SIGTERM asks the running command to stop cleanly (it finishes the current step and saves);
// a second one is left to the runtime's default and ends the process.
int signals = 0;
void OnSignal(PosixSignalContext context)
{
    if (Interlocked.Increment(ref signals) == 1)
    {
        context.Cancel = true;
        Console.Error.WriteLine();
        Console.Error.WriteLine("Stopping after the current step (press Ctrl+C again to abort) …");
        cancellation.Cancel();
    }
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
return await CliApp.RunAsync(args, new CliConsole(Console.Out, Console.Error, !Console.IsErrorRedirected) { PauseAt = Environment.GetEnvironmentVariable(CliConsole.PauseVariable) }, cancellation.Token);
