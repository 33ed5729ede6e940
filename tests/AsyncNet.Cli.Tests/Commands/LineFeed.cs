using System.Collections.Concurrent;

namespace AsyncNet.Cli.Tests.Commands;

/// <summary>A <see cref="TextReader"/> whose lines a test hands in while the reader waits, as a terminal would type them.</summary>
internal sealed class LineFeed : TextReader
{
    private readonly BlockingCollection<string> _lines = [];

    public void Send(string line) => _lines.Add(line);

    /// <summary>Ends the input: the reader sees the end of the stream once the lines sent are read.</summary>
    public void End() => _lines.CompleteAdding();

    public override string? ReadLine() => _lines.TryTake(out string? line, Timeout.Infinite) ? line : null;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _lines.Dispose();
        }

        base.Dispose(disposing);
    }
}
