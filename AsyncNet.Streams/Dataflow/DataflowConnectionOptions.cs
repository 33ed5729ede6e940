namespace AsyncNet.Streams.Dataflow;

/// <summary>Settings of a <see cref="DataflowConnection"/>: how much each direction may hold.</summary>
/// <remarks>
/// The receiving side holds at most <see cref="ReceiveCapacity"/> × <see cref="MaxSegmentLength"/> bytes in its source
/// block, plus what the connection's <see cref="StreamReader"/> buffers (its <see cref="StreamReader.Limit"/>); the
/// sending side at most <see cref="SendCapacity"/> segments beyond the transport's write buffer.
/// </remarks>
public sealed record DataflowConnectionOptions
{
    /// <summary>The default <see cref="ReceiveCapacity"/>: 4 segments.</summary>
    public const int DefaultReceiveCapacity = 4;

    /// <summary>The default <see cref="MaxSegmentLength"/>: 64 KiB, the reader's default limit.</summary>
    public const int DefaultMaxSegmentLength = 64 * 1024;

    /// <summary>The default <see cref="SendCapacity"/>: 1 segment.</summary>
    public const int DefaultSendCapacity = 1;

    /// <summary>The defaults.</summary>
    public static DataflowConnectionOptions Default { get; } = new();

    /// <summary>
    /// How many received segments the source block holds for its targets (its <c>BoundedCapacity</c>). When it is full
    /// the connection stops taking bytes from its reader, so the reader fills to its limit and pauses the transport's
    /// reading. The default is <see cref="DefaultReceiveCapacity"/> (4).
    /// </summary>
    public int ReceiveCapacity { get; init; } = DefaultReceiveCapacity;

    /// <summary>
    /// The longest segment the source offers: one segment carries whatever the reader has buffered, up to this many
    /// bytes. The default is <see cref="DefaultMaxSegmentLength"/> (64 KiB).
    /// </summary>
    public int MaxSegmentLength { get; init; } = DefaultMaxSegmentLength;

    /// <summary>
    /// How many segments the target block accepts that are not yet handed to the transport, counting the one whose drain
    /// is pending (its <c>BoundedCapacity</c>). With the default of <see cref="DefaultSendCapacity"/> (1) the target
    /// postpones every offer while a drain is pending.
    /// </summary>
    public int SendCapacity { get; init; } = DefaultSendCapacity;

    /// <summary>Throws if a setting is out of range.</summary>
    /// <param name="parameterName">The name of the options argument, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is below 1.</exception>
    internal void Validate(string parameterName)
    {
        if (ReceiveCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, ReceiveCapacity, $"ReceiveCapacity must be at least 1; it was {ReceiveCapacity}.");
        }

        if (MaxSegmentLength < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, MaxSegmentLength, $"MaxSegmentLength must be at least 1; it was {MaxSegmentLength}.");
        }

        if (SendCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, SendCapacity, $"SendCapacity must be at least 1; it was {SendCapacity}.");
        }
    }
}
