namespace AsyncNet.Transports;

/// <summary>A stream protocol (asyncio's <c>Protocol</c>): receives bytes as they arrive.</summary>
/// <remarks>
/// Order: <c>ConnectionMade</c> → <see cref="DataReceived"/>* → <see cref="EofReceived"/>? → <c>ConnectionLost</c>.
/// </remarks>
public interface IProtocol : IBaseProtocol
{
    /// <summary>Bytes arrived.</summary>
    /// <param name="data">
    /// The bytes; the span points into the transport's receive buffer and is valid only during this call.
    /// Copy what must outlive it, or implement <see cref="IBufferedProtocol"/> to receive into your own buffers.
    /// </param>
    void DataReceived(ReadOnlySpan<byte> data);

    /// <summary>The peer finished sending (half-close).</summary>
    /// <returns>
    /// <see langword="true"/> to keep the connection half-open (this side may still write, then close);
    /// <see langword="false"/> to let the transport close itself.
    /// </returns>
    bool EofReceived() => false;
}
