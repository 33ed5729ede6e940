using System.Net;

namespace AsyncNet.Transports;

/// <summary>A datagram protocol (asyncio's <c>DatagramProtocol</c>).</summary>
/// <remarks>
/// Order: <c>ConnectionMade</c> → (<see cref="DatagramReceived"/> | <see cref="ErrorReceived"/>)* →
/// <c>ConnectionLost</c>, all on the loop thread. An exception thrown by <see cref="DatagramReceived"/> goes to
/// the loop's exception handler; the endpoint keeps receiving.
/// </remarks>
public interface IDatagramProtocol : IBaseProtocol
{
    /// <summary>A datagram arrived.</summary>
    /// <param name="data">The datagram; valid only during this call (it is the transport's receive buffer).</param>
    /// <param name="from">
    /// The sender. The transport reuses one instance per sender address, so it may be kept and compared; for an
    /// anonymous Unix sender it is an endpoint with an empty path.
    /// </param>
    void DatagramReceived(ReadOnlySpan<byte> data, EndPoint from);

    /// <summary>A send or receive failed (for example ICMP port unreachable); the endpoint stays open.</summary>
    /// <param name="exception">
    /// The error, classified (<see cref="Errors.SocketErrors"/>): for example a
    /// <see cref="Errors.ConnectionRefusedException"/> on a connected UDP endpoint whose peer's port is closed.
    /// </param>
    void ErrorReceived(Exception exception)
    {
    }
}
