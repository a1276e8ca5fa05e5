namespace MlPipeline.Data;

/// <summary>
/// What one class of one set was made of: its decoded files' count and a SHA-256 over each file's path (relative to
/// the set's folder) and content, in path order. A resumed run compares them with the checkpoint's, so that it names
/// the class whose files changed.
/// </summary>
/// <param name="Set">The set: <c>training</c> (the <c>--data</c> images, before any validation split), <c>validation</c> or <c>test</c>.</param>
/// <param name="Label">The class.</param>
/// <param name="Files">Files of the class that were decoded.</param>
/// <param name="Checksum">SHA-256 of their relative paths and contents, as <c>sha256:</c> and hex digits.</param>
public sealed record ClassChecksum(string Set, string Label, int Files, string Checksum);
