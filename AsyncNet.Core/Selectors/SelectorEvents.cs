namespace AsyncNet.Selectors;

/// <summary>The readiness a selector watches for, and reports.</summary>
/// <remarks>
/// Register with <see cref="Read"/>, <see cref="Write"/> or both. <see cref="Error"/> and
/// <see cref="HangUp"/> are never registered: a selector always watches for them and reports them beside
/// the interest they affect, so an error or hang-up on a descriptor registered for reading is reported as
/// <c>Read | Error</c> (the reader then sees the error from its next read), as asyncio does.
/// </remarks>
[Flags]
public enum SelectorEvents
{
    /// <summary>No readiness.</summary>
    None = 0,

    /// <summary>Readable: data, end of stream or a pending connection to accept.</summary>
    Read = 1,

    /// <summary>Writable: room in the send buffer, or a non-blocking connect has finished.</summary>
    Write = 2,

    /// <summary>An error condition is pending on the descriptor (reported only).</summary>
    Error = 4,

    /// <summary>The peer hung up (reported only).</summary>
    HangUp = 8,
}
