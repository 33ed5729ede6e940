namespace AsyncNet.Streams;

/// <summary>
/// The stream ended before a read got what it needed (asyncio's <c>IncompleteReadError</c>): thrown by
/// <see cref="StreamReader.ReadExactlyAsync(int, CancellationToken)"/> and
/// <see cref="StreamReader.ReadUntilAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.
/// </summary>
/// <remarks>The bytes that did arrive are in <see cref="Partial"/>; the reader's buffer was emptied to give them.</remarks>
public sealed class IncompleteReadException : EndOfStreamException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="partial">The bytes read before the end of the stream.</param>
    /// <param name="expected">How many bytes the read needed, or <see langword="null"/> when it was looking for a separator.</param>
    public IncompleteReadException(byte[] partial, int? expected)
        : base(Describe(partial, expected))
    {
        ArgumentNullException.ThrowIfNull(partial);
        Partial = partial;
        Expected = expected;
    }

    /// <summary>Creates the exception with no partial bytes.</summary>
    public IncompleteReadException()
        : this([], null)
    {
    }

    /// <summary>Creates the exception with a message and no partial bytes.</summary>
    /// <param name="message">The message.</param>
    public IncompleteReadException(string message)
        : base(message)
    {
        Partial = [];
    }

    /// <summary>Creates the exception with a message, an inner exception and no partial bytes.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public IncompleteReadException(string message, Exception innerException)
        : base(message, innerException)
    {
        Partial = [];
    }

    /// <summary>The bytes read before the end of the stream (possibly none).</summary>
    public byte[] Partial { get; }

    /// <summary>How many bytes the read needed, or <see langword="null"/> when it read up to a separator.</summary>
    public int? Expected { get; }

    private static string Describe(byte[] partial, int? expected) =>
        expected is int n
            ? $"The stream ended after {partial?.Length ?? 0} of {n} expected bytes."
            : $"The stream ended after {partial?.Length ?? 0} bytes, before the separator.";
}
