namespace AsyncNet.Transports;

/// <summary>
/// A stream protocol that lends the transport its own buffer to receive into (asyncio's
/// <c>BufferedProtocol</c>): zero copies between the socket and the protocol.
/// </summary>
/// <remarks>
/// Order: <c>ConnectionMade</c> → (<see cref="GetBuffer"/> → <see cref="BufferUpdated"/>)* →
/// <see cref="EofReceived"/>? → <c>ConnectionLost</c>. Each <see cref="GetBuffer"/> is followed by
/// exactly one <see cref="BufferUpdated"/> with a positive count, or by no call if the read found nothing
/// or failed (the next read asks again).
/// </remarks>
public interface IBufferedProtocol : IBaseProtocol
{
    /// <summary>Returns a buffer for the next read.</summary>
    /// <param name="sizeHint">How many bytes the transport would like room for; a hint, not a minimum.</param>
    /// <returns>A non-empty buffer the transport writes into.</returns>
    Memory<byte> GetBuffer(int sizeHint);

    /// <summary>The transport wrote <paramref name="bytesWritten"/> bytes at the start of the last buffer.</summary>
    /// <param name="bytesWritten">How many bytes arrived (at least one).</param>
    void BufferUpdated(int bytesWritten);

    /// <summary>The peer finished sending (half-close).</summary>
    /// <returns><see langword="true"/> to keep the connection half-open; <see langword="false"/> to close.</returns>
    bool EofReceived() => false;
}
