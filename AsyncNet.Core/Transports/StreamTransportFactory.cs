// The factories of the stream transports: connecting out and serving, over TCP and Unix sockets.
//
// Maintainer's overview
// - They live beside the transports, as extension methods on the loop (asyncio's loop.create_connection and friends),
//   so the loop itself knows nothing of transports: it runs callbacks, timers and registrations, and offers the
//   resolver (GetAddrInfoAsync) and the sock_* operations these factories are built from. One resolver and one connect
//   (SockConnectAsync) serve every endpoint, so cancellation, a closed loop and error wording are the same everywhere.
// - Any thread may call them: the work runs on the loop (EventLoop.InvokeAsync), and the returned task's continuations
//   run off the loop for callers that are not loop code.

using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Loop;

namespace AsyncNet.Transports;

/// <summary>Opens stream connections and starts stream servers on a loop: TCP over IPv4 or IPv6, and Unix sockets.</summary>
public static partial class StreamTransportFactory
{
    /// <summary>Opens a TCP connection to <paramref name="host"/>:<paramref name="port"/> (asyncio's <c>create_connection</c>).</summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="loop">The loop the connection will run on.</param>
    /// <param name="protocolFactory">Makes the connection's protocol, once connected (on the loop thread).</param>
    /// <param name="host">An IP address literal, or a host name resolved off the loop (<see cref="EventLoop.GetAddrInfoAsync"/>).</param>
    /// <param name="port">The TCP port.</param>
    /// <param name="options">Connection settings; <see langword="null"/> for <see cref="ConnectionOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels name resolution or the connect in progress; the socket is closed.</param>
    /// <returns>
    /// The transport and its protocol; <c>ConnectionMade</c> has run and the transport is reading. Every address the name
    /// resolves to (of <see cref="ConnectionOptions.AddressFamily"/>) is tried in turn.
    /// </returns>
    /// <remarks>
    /// <para>
    /// May be called from any thread: the connect runs on the loop. The transport itself is bound to the loop: use it
    /// from loop code (the protocol's callbacks, tasks started with <see cref="EventLoop.CreateTask(Func{Task}, CancellationToken)"/>).
    /// </para>
    /// <para>
    /// The returned task fails with <see cref="NameResolutionException"/> when the name does not resolve, with
    /// <see cref="ConnectionRefusedException"/> when nothing listens, or with another <see cref="NetworkException"/>;
    /// every message names the address. When several addresses fail differently, the exception is a plain
    /// <see cref="NetworkException"/> listing them, with an <see cref="AggregateException"/> inside.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="protocolFactory"/> or <paramref name="host"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public static Task<(IStreamTransport Transport, TProtocol Protocol)> CreateConnectionAsync<TProtocol>(
        this EventLoop loop, Func<TProtocol> protocolFactory, string host, int port, ConnectionOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(protocolFactory);
        ArgumentException.ThrowIfNullOrEmpty(host);
        CheckPort(port);
        options = Checked(options ?? ConnectionOptions.Default);
        loop.ThrowIfClosed();
        return loop.InvokeAsync(() => ConnectTcpAsync(loop, protocolFactory, host, port, options, cancellationToken));
    }

    /// <summary>Opens a connection to the Unix socket at <paramref name="path"/> (asyncio's <c>create_unix_connection</c>).</summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="loop">The loop the connection will run on.</param>
    /// <param name="protocolFactory">Makes the connection's protocol, once connected (on the loop thread).</param>
    /// <param name="path">The socket's path.</param>
    /// <param name="options">Connection settings (TCP-only ones are ignored); <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels a connect in progress; the socket is closed.</param>
    /// <returns>The transport and its protocol; <c>ConnectionMade</c> has run and the transport is reading.</returns>
    /// <remarks>
    /// May be called from any thread (see <see cref="CreateConnectionAsync{TProtocol}"/>). The task fails with
    /// <see cref="ConnectionRefusedException"/> when nothing listens at the path, or another <see cref="NetworkException"/> naming it.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="protocolFactory"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public static Task<(IStreamTransport Transport, TProtocol Protocol)> CreateUnixConnectionAsync<TProtocol>(
        this EventLoop loop, Func<TProtocol> protocolFactory, string path, ConnectionOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(protocolFactory);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options = Checked(options ?? ConnectionOptions.Default);
        loop.ThrowIfClosed();
        return loop.InvokeAsync(() => ConnectUnixAsync(loop, protocolFactory, path, options, cancellationToken));
    }

    /// <summary>Starts a TCP server (asyncio's <c>create_server</c>).</summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="loop">The loop the server and its connections run on.</param>
    /// <param name="protocolFactory">Makes a protocol for each accepted connection; an exception it throws goes to the loop's exception handler and the connection is closed.</param>
    /// <param name="host">
    /// The address to listen on: an IP literal, or a name bound on every address it resolves to; <see langword="null"/>
    /// or empty for every interface (one dual-stack IPv6 socket, or IPv4 where the OS has no IPv6).
    /// </param>
    /// <param name="port">The TCP port; 0 lets the OS choose (read it from <see cref="Server.Sockets"/>).</param>
    /// <param name="options">Server settings; <see langword="null"/> for <see cref="ServerOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels name resolution.</param>
    /// <returns>The server, accepting unless <see cref="ServerOptions.StartServing"/> is false.</returns>
    /// <remarks>
    /// May be called from any thread: binding runs on the loop; the server is bound to the loop afterwards. The task
    /// fails with <see cref="AddressInUseException"/> when the port is taken, or <see cref="NameResolutionException"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="protocolFactory"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public static Task<Server> CreateServerAsync<TProtocol>(
        this EventLoop loop, Func<TProtocol> protocolFactory, string? host, int port, ServerOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(protocolFactory);
        CheckPort(port);
        options = Checked(options ?? ServerOptions.Default);
        loop.ThrowIfClosed();
        return loop.InvokeAsync(async () =>
        {
            IReadOnlyList<IPEndPoint> endPoints = await ListenEndPointsAsync(loop, host, port, cancellationToken).ConfigureAwait(true);
            return Serve(loop, ListenTcp(endPoints, dualStack: string.IsNullOrEmpty(host), options), () => protocolFactory(), options, unixPath: null);
        });
    }

    /// <summary>Starts a server on the Unix socket at <paramref name="path"/> (asyncio's <c>create_unix_server</c>).</summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="loop">The loop the server and its connections run on.</param>
    /// <param name="protocolFactory">Makes a protocol for each accepted connection.</param>
    /// <param name="path">The socket's path; the server removes it when closed.</param>
    /// <param name="options">Server settings (TCP-only ones are ignored); <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Checked before the socket is created.</param>
    /// <returns>The server, accepting unless <see cref="ServerOptions.StartServing"/> is false.</returns>
    /// <remarks>
    /// May be called from any thread. A socket file left at the path by a server that died is replaced (asyncio does so
    /// too): if connecting to it is refused, nothing listens there any more. The task fails with
    /// <see cref="AddressInUseException"/> when a live server listens at the path, or the path is some other kind of file.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="protocolFactory"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public static Task<Server> CreateUnixServerAsync<TProtocol>(
        this EventLoop loop, Func<TProtocol> protocolFactory, string path, ServerOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(protocolFactory);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options = Checked(options ?? ServerOptions.Default);
        loop.ThrowIfClosed();
        return loop.InvokeAsync(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return Task.FromCanceled<Server>(cancellationToken);
            }

            try
            {
                return Task.FromResult(Serve(loop, [ListenUnix(path, options)], () => protocolFactory(), options, path));
            }
            catch (NetworkException ex)
            {
                return Task.FromException<Server>(ex);
            }
        });
    }

    /// <summary>
    /// Binds and listens on every endpoint (TCP), returning the sockets not yet serving; on failure none is left open.
    /// The loop group binds one such set per loop with SO_REUSEPORT.
    /// </summary>
    /// <param name="endPoints">Where to listen.</param>
    /// <param name="dualStack">Whether the IPv6 wildcard also takes IPv4 (the "every interface" server).</param>
    /// <param name="options">The server's settings.</param>
    /// <exception cref="NetworkException">Binding or listening failed.</exception>
    internal static List<Socket> ListenTcp(IReadOnlyList<IPEndPoint> endPoints, bool dualStack, ServerOptions options)
    {
        var sockets = new List<Socket>(endPoints.Count);
        try
        {
            foreach (IPEndPoint endPoint in endPoints.Distinct())
            {
                Socket socket = SocketSetup.Create(endPoint.AddressFamily);
                sockets.Add(socket);
                if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    socket.DualMode = dualStack;
                }

                SocketSetup.ConfigureListener(socket, options);
                SocketSetup.BindAndListen(socket, endPoint, SocketErrors.Describe(endPoint)!, options.Backlog);
            }
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            throw;
        }

        return sockets;
    }

    /// <summary>Where a TCP server listens: the host's addresses, or the wildcard (dual-stack where the OS has IPv6).</summary>
    internal static async Task<IReadOnlyList<IPEndPoint>> ListenEndPointsAsync(EventLoop loop, string? host, int port, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (string.IsNullOrEmpty(host))
        {
            return [new IPEndPoint(Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, port)];
        }

        return await loop.GetAddrInfoAsync(host, port, AddressFamily.Unspecified, cancellationToken).ConfigureAwait(true);
    }

    /// <summary>Makes the server on <paramref name="sockets"/> and starts it as the options say.</summary>
    internal static Server Serve(EventLoop loop, IReadOnlyList<Socket> sockets, Func<IBaseProtocol> protocolFactory, ServerOptions options, string? unixPath)
    {
        var server = new Server(loop, sockets, protocolFactory, options, unixPath);
        if (options.StartServing)
        {
            server.StartServing();
        }

        return server;
    }

    /// <summary>The options, once checked (every entry point takes them as its parameter named "options").</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    private static T Checked<T>(T options)
        where T : StreamTransportOptions
    {
        options.ValidateFor(nameof(options));
        return options;
    }

    private static void CheckPort(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
    }

    private static async Task<(IStreamTransport Transport, TProtocol Protocol)> ConnectTcpAsync<TProtocol>(
        EventLoop loop, Func<TProtocol> protocolFactory, string host, int port, ConnectionOptions options, CancellationToken cancellationToken)
        where TProtocol : IBaseProtocol
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<IPEndPoint> endPoints = await loop.GetAddrInfoAsync(host, port, options.AddressFamily, cancellationToken).ConfigureAwait(true);
        List<NetworkException>? errors = null;
        foreach (IPEndPoint endPoint in endPoints)
        {
            Socket socket = SocketSetup.Create(endPoint.AddressFamily);
            try
            {
                SocketSetup.Configure(socket, options);
                if (options.LocalEndPoint is { } local)
                {
                    SocketSetup.BindForConnect(socket, local);
                }

                await loop.SockConnectAsync(socket, endPoint, cancellationToken).ConfigureAwait(true);
            }
            catch (NetworkException ex)
            {
                socket.Dispose();
                (errors ??= []).Add(ex);
                continue;
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            return StartClient(loop, protocolFactory, socket, options, endPoint);
        }

        throw CombineConnectErrors(errors!, host, port);
    }

    private static async Task<(IStreamTransport Transport, TProtocol Protocol)> ConnectUnixAsync<TProtocol>(
        EventLoop loop, Func<TProtocol> protocolFactory, string path, ConnectionOptions options, CancellationToken cancellationToken)
        where TProtocol : IBaseProtocol
    {
        cancellationToken.ThrowIfCancellationRequested();
        var endPoint = new UnixDomainSocketEndPoint(path);
        Socket socket = SocketSetup.Create(AddressFamily.Unix);
        try
        {
            SocketSetup.Configure(socket, options);
            await loop.SockConnectAsync(socket, endPoint, cancellationToken).ConfigureAwait(true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return StartClient(loop, protocolFactory, socket, options, endPoint);
    }

    private static (IStreamTransport Transport, TProtocol Protocol) StartClient<TProtocol>(
        EventLoop loop, Func<TProtocol> protocolFactory, Socket socket, ConnectionOptions options, EndPoint peer)
        where TProtocol : IBaseProtocol
    {
        TProtocol protocol;
        try
        {
            protocol = protocolFactory();
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        SocketStreamTransport transport = SocketStreamTransport.Start(loop, socket, protocol, options, server: null, peer);
        return (transport, protocol);
    }

    private static NetworkException CombineConnectErrors(List<NetworkException> errors, string host, int port)
    {
        if (errors.TrueForAll(e => e.SocketError == errors[0].SocketError))
        {
            return errors[0];
        }

        string all = string.Join("; ", errors.Select(e => e.Message));
        return new NetworkException($"Could not connect to {host}:{port}: {all}", errors[0].SocketError, $"{host}:{port}", new AggregateException(errors));
    }

    private static Socket ListenUnix(string path, ServerOptions options)
    {
        Socket socket = SocketSetup.Create(AddressFamily.Unix);
        try
        {
            var endPoint = new UnixDomainSocketEndPoint(path);
            try
            {
                socket.Bind(endPoint);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && SocketSetup.IsStaleUnixSocket(path))
            {
                File.Delete(path);
                socket.Bind(endPoint);
            }

            SocketSetup.BindAndListen(socket, null, path, options.Backlog);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw SocketErrors.Classify(ex, "bind", path);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
