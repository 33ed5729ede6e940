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

    /// <summary>
    /// Whether the buffer the last <see cref="GetBuffer"/> returned is a whole array lent by the loop's
    /// <see cref="Buffers.BufferPool"/>, whose received bytes nothing changes until the array goes back to that pool.
    /// Read by the transport between <see cref="GetBuffer"/> and <see cref="BufferUpdated"/>.
    /// </summary>
    /// <remarks>
    /// When it is, a write made during <see cref="BufferUpdated"/> of bytes that lie in that array (a received message
    /// written back, or forwarded) joins the callback's send from where it lies, without a copy; what the kernel does
    /// not take is copied when the callback returns, and the array is kept from being lent again until then, even if
    /// it goes back to the pool sooner. <see langword="false"/> (the default): such writes are copied, as any other.
    /// </remarks>
    bool BufferIsPooled => false;

    /// <summary>The peer finished sending (half-close).</summary>
    /// <returns><see langword="true"/> to keep the connection half-open; <see langword="false"/> to close.</returns>
    bool EofReceived() => false;
}
