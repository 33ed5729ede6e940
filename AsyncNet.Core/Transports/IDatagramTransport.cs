using System.Net;

namespace AsyncNet.Transports;

/// <summary>A datagram transport: UDP or a Unix datagram socket (asyncio's <c>DatagramTransport</c>).</summary>
/// <remarks>
/// <para>
/// Made by <see cref="DatagramTransportFactory.CreateDatagramEndpointAsync"/>; call it on the loop thread. Datagrams are
/// sent in the order given. Write flow control follows the stream transports (asyncio does the same for
/// datagrams): the protocol's <c>PauseWriting</c> runs once when the queued bytes go strictly above the
/// high-water mark, <c>ResumeWriting</c> once when they fall to or below the low mark (defaults 64 KiB and
/// 16 KiB, set in <see cref="DatagramEndpointOptions"/>).
/// </para>
/// <para>
/// <see cref="ITransport.Close"/> stops receiving, sends what is queued, then calls <c>ConnectionLost</c>(null)
/// on a later iteration; <see cref="Abort"/> drops the queue first. Either way <c>ConnectionLost</c> runs exactly once.
/// </para>
/// </remarks>
public interface IDatagramTransport : ITransport
{
    /// <summary>Sends one datagram; never blocks (queued if the socket is not writable).</summary>
    /// <param name="data">The datagram; copied if it must wait. An empty datagram is sent as such.</param>
    /// <param name="to">The destination; null to use the connected remote address.</param>
    /// <remarks>
    /// With nothing queued, the datagram goes to the socket at once. An OS error on the send (message too long,
    /// a pending ICMP error) is not thrown: it goes to <see cref="IDatagramProtocol.ErrorReceived"/>, and the
    /// transport stays open.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The transport is closing.</exception>
    /// <exception cref="ArgumentException">No destination and the transport is not connected, or a destination that differs from the connected one.</exception>
    void SendTo(ReadOnlySpan<byte> data, EndPoint? to = null);

    /// <summary>Bytes of datagrams queued and not yet sent (payload only).</summary>
    int WriteBufferSize { get; }

    /// <summary>Closes now, dropping queued datagrams; <c>ConnectionLost</c>(null) follows once.</summary>
    void Abort();
}
