using AsyncNet.Transports;

namespace AsyncNet.Streams;

/// <summary>Settings of a <see cref="StreamReader"/>/<see cref="StreamWriter"/> pair.</summary>
public sealed record StreamOptions
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
    /// Called on the loop thread when the connection has been idle, with its writer (so it can send a heartbeat, or
    /// close) and the report. The default is <see langword="null"/>: idle reports are ignored.
    /// </summary>
    /// <remarks>
    /// The timeouts themselves are transport settings: set <see cref="StreamTransportOptions.Idle"/> on the
    /// <see cref="ConnectionOptions"/> or <see cref="ServerOptions"/> passed beside these options. With
    /// <see cref="IdleOptions.CloseOnIdle"/>, read-idle and all-idle close the connection instead of calling this, and
    /// the reader's pending and later reads, <see cref="StreamWriter.DrainAsync"/> and
    /// <see cref="StreamWriter.WaitClosedAsync"/> throw the <see cref="Transports.IdleTimeoutException"/>. Writes made here
    /// leave together when it returns; an exception thrown here closes the connection with it and goes to the loop's
    /// exception handler.
    /// </remarks>
    public Action<StreamWriter, IdleEvent>? OnIdle { get; init; }

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
