namespace AsyncNet.Echo;

/// <summary>An echoed byte differed from the byte sent at that offset of the connection's stream.</summary>
public sealed class EchoMismatchException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="connection">The connection's index (0-based, in connect order).</param>
    /// <param name="offset">The byte's offset in the connection's stream.</param>
    /// <param name="expected">The byte sent there.</param>
    /// <param name="actual">The byte echoed there.</param>
    /// <param name="messageLength">The bytes per message on the wire (frame header included), to name the message.</param>
    public EchoMismatchException(int connection, long offset, byte expected, byte actual, int messageLength)
        : base(string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"Echo mismatch on connection {connection} at byte {offset:N0} (message {offset / messageLength:N0}, byte {offset % messageLength} of {messageLength}): expected 0x{expected:X2}, got 0x{actual:X2}."))
    {
        Connection = connection;
        Offset = offset;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What differed.</param>
    public EchoMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public EchoMismatchException()
        : this("An echoed byte differed from the byte sent.")
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What differed.</param>
    /// <param name="innerException">The cause.</param>
    public EchoMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The connection's index (0-based, in connect order); -1 if unknown.</summary>
    public int Connection { get; } = -1;

    /// <summary>The offset of the first differing byte in the connection's stream; -1 if unknown.</summary>
    public long Offset { get; } = -1;

    /// <summary>The byte sent at <see cref="Offset"/>.</summary>
    public byte Expected { get; }

    /// <summary>The byte echoed at <see cref="Offset"/>.</summary>
    public byte Actual { get; }
}
