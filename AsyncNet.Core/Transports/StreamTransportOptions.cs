using System.Net;
using System.Net.Sockets;
using AsyncNet.Buffers;

namespace AsyncNet.Transports;

/// <summary>Settings every stream connection has, whether it connected out or was accepted by a <see cref="Server"/>.</summary>
/// <remarks>TCP-only settings (<see cref="NoDelay"/>, <see cref="KeepAlive"/>, <see cref="Cork"/>) are ignored on Unix sockets.</remarks>
public abstract record StreamTransportOptions
{
    /// <summary>The default <see cref="ReadBufferSize"/>: 256 KiB.</summary>
    public const int DefaultReadBufferSize = 256 * 1024;

    /// <summary>The largest <see cref="ReadBufferSize"/>: 1 MiB.</summary>
    public const int MaxReadBufferSize = BufferPool.MaximumLength;

    /// <summary>The default write-buffer high-water mark: 64 KiB (asyncio's).</summary>
    public const int DefaultWriteBufferHighWaterMark = WriteFlowControl.DefaultHighWaterMark;

    private protected StreamTransportOptions()
    {
    }

    /// <summary>Whether to disable Nagle's algorithm (TCP_NODELAY), so small writes leave at once. The default is <see langword="true"/>.</summary>
    public bool NoDelay { get; init; } = true;

    /// <summary>Whether to send TCP keep-alive probes on an idle connection (SO_KEEPALIVE). The default is <see langword="false"/>.</summary>
    public bool KeepAlive { get; init; }

    /// <summary>
    /// Whether to set TCP_CORK (Linux only): the kernel holds partial segments until they fill up, the cork is
    /// removed, or 200 ms pass. The default is <see langword="false"/>.
    /// </summary>
    /// <remarks>Useful for bulk senders that write headers and bodies separately; harmful for request/response traffic.</remarks>
    public bool Cork { get; init; }

    /// <summary>The kernel's send buffer size (SO_SNDBUF), or <see langword="null"/> to keep the OS default (auto-tuned). The default is <see langword="null"/>.</summary>
    /// <remarks>Linux doubles the value given and enforces a minimum.</remarks>
    public int? SendBufferSize { get; init; }

    /// <summary>The kernel's receive buffer size (SO_RCVBUF), or <see langword="null"/> to keep the OS default (auto-tuned). The default is <see langword="null"/>.</summary>
    public int? ReceiveBufferSize { get; init; }

    /// <summary>
    /// How many bytes one read asks the socket for. The default is <see cref="DefaultReadBufferSize"/> (256 KiB);
    /// at most <see cref="MaxReadBufferSize"/>.
    /// </summary>
    /// <remarks>
    /// Reads go into one buffer owned by the loop and shared by its connections (a <c>DataReceived</c> span is
    /// valid only during the call), so a large read size costs no memory per connection; bulk transfers need
    /// fewer system calls with it. For an <see cref="IBufferedProtocol"/> this is the size hint given to
    /// <see cref="IBufferedProtocol.GetBuffer"/>.
    /// </remarks>
    public int ReadBufferSize { get; init; } = DefaultReadBufferSize;

    /// <summary>
    /// The write buffer's high-water mark, or <see langword="null"/> for the default:
    /// <see cref="DefaultWriteBufferHighWaterMark"/> (64 KiB), or 4 × <see cref="WriteBufferLowWaterMark"/> when only that is set.
    /// </summary>
    public int? WriteBufferHighWaterMark { get; init; }

    /// <summary>The write buffer's low-water mark, or <see langword="null"/> for a quarter of the high mark. The default is <see langword="null"/>.</summary>
    public int? WriteBufferLowWaterMark { get; init; }

    /// <summary>
    /// Idle detection for each connection: read-idle, write-idle and all-idle timeouts, reported to a protocol that
    /// implements <see cref="IIdleAwareProtocol"/> or, with <see cref="IdleOptions.CloseOnIdle"/>, ending the connection
    /// with an <see cref="IdleTimeoutException"/>. The default is <see langword="null"/>: no idle detection, and no
    /// cost.
    /// </summary>
    /// <remarks>See <see cref="IdleOptions"/> for what counts as activity and when idle stretches are reported.</remarks>
    public IdleOptions? Idle { get; init; }

    /// <summary>
    /// How long a graceful close (<see cref="ITransport.Close"/>) may wait for the peer to take the bytes still queued;
    /// then the connection is aborted, the bytes are dropped, and <c>ConnectionLost</c> gets a
    /// <see cref="CloseTimeoutException"/>. The default is <see langword="null"/>: wait as long as the peer
    /// keeps the connection open (asyncio's behaviour), which a peer that stops reading can make forever.
    /// </summary>
    /// <remarks>Counted from the <c>Close</c> call, whatever progress the peer makes meanwhile; one loop timer, only while a close flushes.</remarks>
    public TimeSpan? CloseTimeout { get; init; }

    /// <summary>Throws if a setting is out of range.</summary>
    /// <param name="parameterName">The name of the options argument, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    private protected virtual void Validate(string parameterName)
    {
        Idle?.Validate(parameterName);
        if (CloseTimeout is { } closeTimeout && closeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, closeTimeout, "CloseTimeout must be positive when set.");
        }

        if (ReadBufferSize < 1 || ReadBufferSize > MaxReadBufferSize)
        {
            throw new ArgumentOutOfRangeException(parameterName, ReadBufferSize, $"ReadBufferSize must be between 1 and {MaxReadBufferSize}.");
        }

        if (SendBufferSize is < 1 || ReceiveBufferSize is < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, "SendBufferSize and ReceiveBufferSize must be positive when set.");
        }

        // Resolving the marks validates them.
        _ = WriteFlowControl.ResolveLimits(WriteBufferHighWaterMark, WriteBufferLowWaterMark, parameterName);
    }

    internal void ValidateFor(string parameterName) => Validate(parameterName);
}

/// <summary>Settings for <see cref="StreamTransportFactory.CreateConnectionAsync{TProtocol}(Loop.EventLoop, Func{TProtocol}, string, int, ConnectionOptions?, CancellationToken)"/> and its Unix-socket twin.</summary>
public sealed record ConnectionOptions : StreamTransportOptions
{
    /// <summary>The defaults.</summary>
    public static ConnectionOptions Default { get; } = new();

    /// <summary>
    /// Which address family to connect over when a host name resolves to several: <see cref="AddressFamily.InterNetwork"/>,
    /// <see cref="AddressFamily.InterNetworkV6"/>, or <see cref="AddressFamily.Unspecified"/> for any. The default is <see cref="AddressFamily.Unspecified"/>.
    /// </summary>
    public AddressFamily AddressFamily { get; init; } = AddressFamily.Unspecified;

    /// <summary>A local address to bind before connecting (asyncio's <c>local_addr</c>), or <see langword="null"/> to let the OS choose. The default is <see langword="null"/>.</summary>
    public IPEndPoint? LocalEndPoint { get; init; }

    /// <inheritdoc/>
    private protected override void Validate(string parameterName)
    {
        base.Validate(parameterName);
        if (AddressFamily is not (AddressFamily.Unspecified or AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentOutOfRangeException(parameterName, AddressFamily, "AddressFamily must be InterNetwork, InterNetworkV6 or Unspecified.");
        }
    }
}

/// <summary>Settings for <see cref="StreamTransportFactory.CreateServerAsync{TProtocol}(Loop.EventLoop, Func{TProtocol}, string?, int, ServerOptions?, CancellationToken)"/> and its Unix-socket twin.</summary>
/// <remarks>The per-connection settings inherited from <see cref="StreamTransportOptions"/> apply to every accepted connection.</remarks>
public sealed record ServerOptions : StreamTransportOptions
{
    /// <summary>The default <see cref="Backlog"/>: 100 (asyncio's).</summary>
    public const int DefaultBacklog = 100;

    /// <summary>The defaults.</summary>
    public static ServerOptions Default { get; } = new();

    /// <summary>The listen backlog: connections the kernel queues before they are accepted. The default is <see cref="DefaultBacklog"/>.</summary>
    public int Backlog { get; init; } = DefaultBacklog;

    /// <summary>
    /// Whether to set SO_REUSEADDR, so a restarted server can bind a port with connections still in TIME_WAIT.
    /// The default is <see langword="true"/> (asyncio's on Unix).
    /// </summary>
    /// <remarks>
    /// On Unix, .NET's <see cref="Socket.Bind"/> sets SO_REUSEADDR on every TCP socket itself (to match Windows), so
    /// <see langword="false"/> cannot take it away there; it only keeps AsyncNet from setting it.
    /// </remarks>
    public bool ReuseAddress { get; init; } = true;

    /// <summary>
    /// Whether to set SO_REUSEPORT, so several sockets (in this or other processes) can listen on the same port and
    /// the kernel spreads connections among them. The default is <see langword="false"/>.
    /// </summary>
    public bool ReusePort { get; init; }

    /// <summary>Whether the server accepts connections as soon as it is created; otherwise call <see cref="Server.StartServing"/>. The default is <see langword="true"/>.</summary>
    /// <remarks>A server started on an <see cref="Loop.EventLoopGroup"/> always starts serving.</remarks>
    public bool StartServing { get; init; } = true;

    /// <summary>
    /// How a server started on an <see cref="Loop.EventLoopGroup"/> spreads connections over the loops; ignored by a
    /// server on one loop. The default is <see cref="AcceptDistribution.Auto"/>: one SO_REUSEPORT listener per loop for
    /// TCP on Linux, one acceptor handing connections round-robin otherwise.
    /// </summary>
    public AcceptDistribution Distribution { get; init; } = AcceptDistribution.Auto;

    /// <inheritdoc/>
    private protected override void Validate(string parameterName)
    {
        base.Validate(parameterName);
        if (Backlog < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, Backlog, "Backlog must be positive.");
        }

        if (!Enum.IsDefined(Distribution))
        {
            throw new ArgumentOutOfRangeException(parameterName, Distribution, "Distribution is not an AcceptDistribution value.");
        }
    }
}
