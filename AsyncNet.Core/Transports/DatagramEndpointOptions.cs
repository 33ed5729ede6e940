using System.Net.Sockets;

namespace AsyncNet.Transports;

/// <summary>Settings for <see cref="DatagramTransportFactory.CreateDatagramEndpointAsync"/>: socket options and the transport's buffers.</summary>
public sealed record DatagramEndpointOptions
{
    /// <summary>The default <see cref="MaxDatagramSize"/>: 64 KiB, enough for any UDP datagram.</summary>
    public const int DefaultMaxDatagramSize = 64 * 1024;

    /// <summary>The default <see cref="WriteBufferHighWaterMark"/>: 64 KiB, as asyncio and the stream transports.</summary>
    public const int DefaultWriteBufferHighWaterMark = WriteFlowControl.DefaultHighWaterMark;

    /// <summary>
    /// The address family of the socket when neither a local nor a remote endpoint is given. The default is
    /// <see cref="AddressFamily.Unspecified"/>: the family comes from the endpoints, and one must be given.
    /// </summary>
    /// <remarks>When an endpoint is given, this must be unspecified or match it.</remarks>
    public AddressFamily Family { get; init; } = AddressFamily.Unspecified;

    /// <summary>Sets <c>SO_REUSEADDR</c> before binding. The default is <see langword="false"/>.</summary>
    /// <remarks>
    /// On Linux a UDP port bound with this by one socket can be bound again by another socket of any user,
    /// which then receives its datagrams; asyncio refuses the option for that reason. Prefer <see cref="ReusePort"/>.
    /// </remarks>
    public bool ReuseAddress { get; init; }

    /// <summary>
    /// Sets <c>SO_REUSEPORT</c> before binding, so several sockets of the same user can bind one address and
    /// share its datagrams. The default is <see langword="false"/>. Linux and the BSDs only.
    /// </summary>
    public bool ReusePort { get; init; }

    /// <summary>Sets <c>SO_BROADCAST</c>, allowing sends to broadcast addresses. The default is <see langword="false"/>.</summary>
    public bool AllowBroadcast { get; init; }

    /// <summary>The socket's receive buffer (<c>SO_RCVBUF</c>) in bytes. The default, <see langword="null"/>, keeps the OS default.</summary>
    /// <remarks>Datagrams that arrive while it is full are dropped by the OS: raise it for bursty traffic.</remarks>
    public int? ReceiveBufferSize { get; init; }

    /// <summary>The socket's send buffer (<c>SO_SNDBUF</c>) in bytes. The default, <see langword="null"/>, keeps the OS default.</summary>
    public int? SendBufferSize { get; init; }

    /// <summary>
    /// The largest datagram the transport receives whole: the size of its one receive buffer. The default is
    /// <see cref="DefaultMaxDatagramSize"/> (64 KiB).
    /// </summary>
    /// <remarks>
    /// A longer datagram (possible on Unix datagram sockets) is not delivered: the protocol's
    /// <see cref="IDatagramProtocol.ErrorReceived"/> gets a <see cref="Errors.NetworkException"/> with
    /// <see cref="SocketError.MessageSize"/> instead, and the endpoint stays open.
    /// </remarks>
    public int MaxDatagramSize { get; init; } = DefaultMaxDatagramSize;

    /// <summary>
    /// Pause-writing is sent to the protocol when the queued datagrams' bytes go strictly above this mark.
    /// The default, <see langword="null"/>, is <see cref="DefaultWriteBufferHighWaterMark"/> (64 KiB), or
    /// 4 × <see cref="WriteBufferLowWaterMark"/> when only the low mark is given.
    /// </summary>
    public int? WriteBufferHighWaterMark { get; init; }

    /// <summary>
    /// Resume-writing is sent to the protocol when the queued bytes fall to or below this mark. The default,
    /// <see langword="null"/>, is a quarter of the high mark (16 KiB by default).
    /// </summary>
    public int? WriteBufferLowWaterMark { get; init; }
}
