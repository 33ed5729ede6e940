using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using AsyncNet.Errors;
using AsyncNet.Loop;

namespace AsyncNet.Transports;

/// <summary>Opens datagram endpoints on a loop: UDP over IPv4 or IPv6, and Unix datagram sockets.</summary>
/// <remarks>Beside the transports it makes, as extension methods on the loop: the loop itself knows nothing of transports.</remarks>
public static class DatagramTransportFactory
{
    private static readonly DatagramEndpointOptions s_defaultDatagramOptions = new();

    /// <summary>
    /// Creates a datagram endpoint (asyncio's <c>create_datagram_endpoint</c>): a UDP socket, or a Unix datagram
    /// socket, bound to <paramref name="localEndPoint"/> and/or connected to <paramref name="remoteEndPoint"/>.
    /// </summary>
    /// <param name="loop">The loop the endpoint runs on.</param>
    /// <param name="protocolFactory">Makes the endpoint's protocol; called once, on the loop thread.</param>
    /// <param name="localEndPoint">
    /// The address to bind: an <see cref="IPEndPoint"/> (port 0 picks a free port), a <see cref="DnsEndPoint"/>
    /// (resolved with <see cref="EventLoop.GetAddrInfoAsync"/>), or a <see cref="UnixDomainSocketEndPoint"/>. Null lets the
    /// OS choose: with a remote endpoint, the connect picks the local address; without one, an IP socket is bound
    /// to the wildcard address and a free port; a Unix socket stays unbound, sends anonymously and cannot be
    /// answered.
    /// </param>
    /// <param name="remoteEndPoint">
    /// The peer to connect to, of the same kinds; null for an endpoint that sends to any address. A connected
    /// endpoint receives only from its peer, and hears about ICMP errors (for example port unreachable) through
    /// <see cref="IDatagramProtocol.ErrorReceived"/>.
    /// </param>
    /// <param name="options">Socket options and buffer sizes; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels name resolution and socket setup; once the transport exists it is not consulted.</param>
    /// <returns>
    /// The transport and the protocol, once the protocol's <c>ConnectionMade</c> has run and the transport reads.
    /// </returns>
    /// <remarks>
    /// <para>
    /// May be called from any thread: the endpoint is made on the loop, and the transport is bound to the loop afterwards.
    /// Argument errors throw at once; socket failures come through the task:
    /// <see cref="AddressInUseException"/> and other <see cref="NetworkException"/>s naming the address, and
    /// <see cref="NameResolutionException"/> for a name that does not resolve. When a name resolves to several
    /// addresses, each (local, remote) pair of one family is tried in order, and the last failure is thrown.
    /// </para>
    /// <para>
    /// A Unix path the endpoint binds is a file: it is deleted when the endpoint closes. Binding fails with
    /// <see cref="AddressInUseException"/> while a file is at the path, so delete a stale one first.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="protocolFactory"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// Neither endpoint nor <see cref="DatagramEndpointOptions.Family"/> is given; the endpoints, or an endpoint and
    /// the family, disagree on the address family; or an endpoint is of an unsupported kind.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (a negative size, high mark below low mark).</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="NetworkException">Through the task: binding or connecting failed; the message names the address.</exception>
    /// <exception cref="NameResolutionException">Through the task: a <see cref="DnsEndPoint"/> did not resolve.</exception>
    /// <exception cref="OperationCanceledException">Through the task: <paramref name="cancellationToken"/> was cancelled during setup.</exception>
    public static Task<(IDatagramTransport Transport, IDatagramProtocol Protocol)> CreateDatagramEndpointAsync(
        this EventLoop loop,
        Func<IDatagramProtocol> protocolFactory,
        EndPoint? localEndPoint = null,
        EndPoint? remoteEndPoint = null,
        DatagramEndpointOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(protocolFactory);
        options ??= s_defaultDatagramOptions;
        ValidateDatagramOptions(options);
        AddressFamily family = DatagramFamily(localEndPoint, remoteEndPoint, options.Family);
        loop.ThrowIfClosed();
        return loop.InvokeAsync(() => CreateDatagramEndpointCoreAsync(loop, protocolFactory, localEndPoint, remoteEndPoint, family, options, cancellationToken));
    }

    private static async Task<(IDatagramTransport Transport, IDatagramProtocol Protocol)> CreateDatagramEndpointCoreAsync(
        EventLoop loop,
        Func<IDatagramProtocol> protocolFactory,
        EndPoint? localEndPoint,
        EndPoint? remoteEndPoint,
        AddressFamily family,
        DatagramEndpointOptions options,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // These awaits resume on the loop: GetAddrInfoAsync completes there, and loop code captured its context.
        IReadOnlyList<EndPoint?> locals = await ResolveDatagramEndPointAsync(loop, localEndPoint, family, cancellationToken).ConfigureAwait(true);
        IReadOnlyList<EndPoint?> remotes = await ResolveDatagramEndPointAsync(loop, remoteEndPoint, family, cancellationToken).ConfigureAwait(true);

        Socket? socket = null;
        EndPoint? remote = null;
        ExceptionDispatchInfo? lastFailure = null;
        foreach (EndPoint? local in locals)
        {
            foreach (EndPoint? candidate in remotes)
            {
                AddressFamily pairFamily = local?.AddressFamily ?? candidate?.AddressFamily ?? family;
                if (candidate is not null && local is not null && candidate.AddressFamily != local.AddressFamily)
                {
                    continue;
                }

                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    socket = OpenDatagramSocket(pairFamily, local, candidate, options);
                    remote = candidate;
                    break;
                }
                catch (NetworkException ex)
                {
                    lastFailure = ExceptionDispatchInfo.Capture(ex);
                }
            }

            if (socket is not null)
            {
                break;
            }
        }

        if (socket is null)
        {
            lastFailure?.Throw();
            throw new NameResolutionException(
                $"Name not resolved: no address of {SocketErrors.Describe(localEndPoint)} and {SocketErrors.Describe(remoteEndPoint)} share a family.",
                SocketErrors.Describe(remoteEndPoint ?? localEndPoint));
        }

        IDatagramProtocol protocol;
        DatagramTransport transport;
        try
        {
            protocol = protocolFactory() ?? throw new InvalidOperationException("The protocol factory returned null.");
            transport = new DatagramTransport(loop, socket, protocol, remote, options);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        await transport.StartAsync().ConfigureAwait(true);
        return (transport, protocol);
    }

    private static async Task<IReadOnlyList<EndPoint?>> ResolveDatagramEndPointAsync(EventLoop loop, EndPoint? endPoint, AddressFamily family, CancellationToken cancellationToken)
    {
        if (endPoint is not DnsEndPoint dns)
        {
            return [endPoint];
        }

        AddressFamily wanted = dns.AddressFamily != AddressFamily.Unspecified ? dns.AddressFamily : family;
        IReadOnlyList<IPEndPoint> resolved = await loop.GetAddrInfoAsync(dns.Host, dns.Port, wanted, cancellationToken).ConfigureAwait(true);
        return [.. resolved];
    }

    /// <summary>Creates, configures, binds and connects one datagram socket; disposes it if any step fails.</summary>
    /// <exception cref="NetworkException">A step failed; classified, naming the address.</exception>
    private static Socket OpenDatagramSocket(AddressFamily family, EndPoint? local, EndPoint? remote, DatagramEndpointOptions options)
    {
        // ProtocolType.Unspecified lets the same code make a Unix datagram socket (there is no "UDP" for AF_UNIX).
        Socket socket;
        try
        {
            socket = new Socket(family, SocketType.Dgram, family == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Udp);
        }
        catch (SocketException ex)
        {
            throw SocketErrors.Classify(ex, "create a datagram socket for", SocketErrors.Describe(local ?? remote));
        }

        try
        {
            try
            {
                socket.Blocking = false;
                if (options.ReuseAddress)
                {
                    socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                }

                if (options.ReusePort)
                {
                    SocketSetup.SetReusePort(socket);
                }

                if (options.AllowBroadcast)
                {
                    socket.EnableBroadcast = true;
                }

                if (options.ReceiveBufferSize is { } receiveBufferSize)
                {
                    socket.ReceiveBufferSize = receiveBufferSize;
                }

                if (options.SendBufferSize is { } sendBufferSize)
                {
                    socket.SendBufferSize = sendBufferSize;
                }
            }
            catch (SocketException ex)
            {
                throw SocketErrors.Classify(ex, "set socket options", SocketErrors.Describe(local ?? remote));
            }

            if (local is null && remote is null && family != AddressFamily.Unix)
            {
                // Bind the wildcard now rather than let the first send do it, so "sockname" is known from the
                // start (.NET reports no local address for a socket it did not bind or connect itself).
                local = new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            }

            if (local is not null)
            {
                try
                {
                    socket.Bind(local);
                }
                catch (SocketException ex)
                {
                    throw SocketErrors.Classify(ex, "bind", SocketErrors.Describe(local));
                }
            }

            if (remote is not null)
            {
                try
                {
                    // A datagram connect only records the peer: it completes at once, even on a non-blocking socket.
                    socket.Connect(remote);
                }
                catch (SocketException ex)
                {
                    throw SocketErrors.Classify(ex, "connect", SocketErrors.Describe(remote));
                }
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sets SO_REUSEPORT, which .NET's <see cref="SocketOptionName"/> does not name.</summary>
    private static void ValidateDatagramOptions(DatagramEndpointOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxDatagramSize, "options.MaxDatagramSize");
        if (options.ReceiveBufferSize is { } receive)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(receive, "options.ReceiveBufferSize");
        }

        if (options.SendBufferSize is { } send)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(send, "options.SendBufferSize");
        }

        _ = WriteFlowControl.ResolveLimits(options.WriteBufferHighWaterMark, options.WriteBufferLowWaterMark, nameof(options));
    }

    /// <summary>The family the endpoints and the option agree on; Unspecified when only names are given and they do not say.</summary>
    private static AddressFamily DatagramFamily(EndPoint? local, EndPoint? remote, AddressFamily family)
    {
        if (local is null && remote is null && family == AddressFamily.Unspecified)
        {
            throw new ArgumentException("Give a local or remote endpoint, or DatagramEndpointOptions.Family.", nameof(local));
        }

        if (family is not (AddressFamily.Unspecified or AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 or AddressFamily.Unix))
        {
            throw new ArgumentException($"Datagram endpoints support IPv4, IPv6 and Unix sockets, not {family}.", "options");
        }

        CheckDatagramEndPoint(local, "localEndPoint", ref family);
        CheckDatagramEndPoint(remote, "remoteEndPoint", ref family);
        return family;
    }

    private static void CheckDatagramEndPoint(EndPoint? endPoint, string name, ref AddressFamily family)
    {
        if (endPoint is null)
        {
            return;
        }

        if (endPoint is not (IPEndPoint or DnsEndPoint or UnixDomainSocketEndPoint))
        {
            throw new ArgumentException($"Unsupported endpoint {endPoint.GetType().Name}: use an IPEndPoint, DnsEndPoint or UnixDomainSocketEndPoint.", name);
        }

        AddressFamily own = endPoint.AddressFamily;
        if (own == AddressFamily.Unspecified)
        {
            // A DnsEndPoint of no particular family: its addresses decide.
            return;
        }

        if (family != AddressFamily.Unspecified && own != family)
        {
            throw new ArgumentException($"The endpoints disagree on the address family: {SocketErrors.Describe(endPoint)} is {own}, not {family}.", name);
        }

        family = own;
    }
}
