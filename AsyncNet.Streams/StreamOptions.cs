namespace AsyncNet.Streams;

/// <summary>Settings of a <see cref="StreamReader"/>/<see cref="StreamWriter"/> pair.</summary>
public sealed class StreamOptions
{
    /// <summary>The default <see cref="Limit"/>: 64 KiB (asyncio's).</summary>
    public const int DefaultLimit = 64 * 1024;

    /// <summary>The defaults.</summary>
    public static StreamOptions Default { get; } = new();

    /// <summary>
    /// The reader's limit: the longest line or separated chunk <see cref="StreamReader.ReadUntilAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
    /// and <see cref="StreamReader.ReadLineAsync(CancellationToken)"/> accept, and the flow-control mark: the transport
    /// stops reading when more unread bytes than this are buffered and resumes at half of it. The default is
    /// <see cref="DefaultLimit"/> (64 KiB).
    /// </summary>
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>
    /// Whether the reader copies small segments into the free room of the previous one (the default). Tests turn it off
    /// so every received segment keeps its own array and separator searches cross real segment boundaries.
    /// </summary>
    internal bool CompactSegments { get; init; } = true;

    /// <summary>Throws if a setting is out of range.</summary>
    /// <param name="parameterName">The name of the options argument, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Limit"/> is below 1.</exception>
    internal void Validate(string parameterName)
    {
        if (Limit < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, Limit, "Limit must be at least 1.");
        }
    }
}
