namespace MlPipeline.Data;

/// <summary>
/// Progress of a long data step (decoding a set's images, checking them against a cache): reported after every chunk,
/// with the count, rate and time left; or, with <see cref="Message"/> set, a line worth showing once (what was read,
/// a cache reused or rebuilt and why).
/// </summary>
/// <param name="Step">What is being done, for example <c>Decoding the training images into the cache</c>.</param>
/// <param name="Done">Images done in this step.</param>
/// <param name="Total">Images in this step.</param>
/// <param name="Elapsed">Time spent in this step so far.</param>
public sealed record DataProgress(string Step, int Done, int Total, TimeSpan Elapsed)
{
    /// <summary>A line to show once; null on count reports.</summary>
    public string? Message { get; init; }

    /// <summary>Images per second so far in this step.</summary>
    public double ImagesPerSecond => Elapsed > TimeSpan.Zero ? Done / Elapsed.TotalSeconds : 0;

    /// <summary>Time left at the rate so far; null before the first image is done.</summary>
    public TimeSpan? Remaining => Done > 0 && Total >= Done ? Elapsed * ((double)(Total - Done) / Done) : null;

    /// <summary>A line to show once.</summary>
    public static DataProgress Note(string message) => new("", 0, 0, TimeSpan.Zero) { Message = message };
}
