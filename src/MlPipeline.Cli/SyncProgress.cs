namespace MlPipeline.Cli;

/// <summary>An <see cref="IProgress{T}"/> that handles each report on the reporting thread, in order (unlike <see cref="Progress{T}"/>).</summary>
internal sealed class SyncProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
