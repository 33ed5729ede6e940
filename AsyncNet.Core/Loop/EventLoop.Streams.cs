using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using AsyncNet.Errors;
using AsyncNet.Transports;

namespace AsyncNet.Loop;

public sealed partial class EventLoop
{
    /// <summary>Opens a TCP connection to <paramref name="host"/>:<paramref name="port"/> (asyncio's <c>create_connection</c>).</summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="protocolFactory">Makes the connection's protocol, once connected.</param>
    /// <param name="host">An IP address literal, or a host name resolved off the loop with <see cref="Dns"/>.</param>
    /// <param name="port">The TCP port.</param>
    /// <param name="options">Connection settings; <see langword="null"/> for <see cref="ConnectionOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels name resolution or the connect in progress; the socket is closed.</param>
    /// <returns>
    /// The transport and its protocol; <c>ConnectionMade</c> has run and the transport is reading. Every address the name
    /// resolves to is tried in turn.
    /// </returns>
    /// <remarks>
    /// The returned task fails with <see cref="NameResolutionException"/> when the name does not resolve, with
    /// <see cref="ConnectionRefusedException"/> when nothing listens, or with another <see cref="NetworkException"/>;
    /// every message names the address. When several addresses fail differently, the exception is a plain
    /// <see cref="NetworkException"/> listing them, with an <see cref="AggregateException"/> inside.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="protocolFactory"/> or <paramref name="host"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public Task<(IStreamTransport Transport, TProtocol Protocol)> CreateConnectionAsync<TProtocol>(
        Func<TProtocol> protocolFactory, string host, int port, ConnectionOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(protocolFactory);
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        options ??= ConnectionOptions.Default;
        options.ValidateFor(nameof(options));
        ThrowIfClosed();
        VerifyAccess();
        return ConnectTcpAsync(protocolFactory, host, port, options, cancellationToken);
    }

    /// <summary>Opens a connection to the Unix socket at <paramref name="path"/> (asyncio's <c>create_unix_connection</c>).</summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="protocolFactory">Makes the connection's protocol, once connected.</param>
    /// <param name="path">The socket's path.</param>
    /// <param name="options">Connection settings (TCP-only ones are ignored); <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels a connect in progress; the socket is closed.</param>
    /// <returns>The transport and its protocol; <c>ConnectionMade</c> has run and the transport is reading.</returns>
    /// <remarks>The task fails with <see cref="ConnectionRefusedException"/> when nothing listens at the path, or another <see cref="NetworkException"/> naming it.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="protocolFactory"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public Task<(IStreamTransport Transport, TProtocol Protocol)> CreateUnixConnectionAsync<TProtocol>(
        Func<TProtocol> protocolFactory, string path, ConnectionOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(protocolFactory);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ConnectionOptions.Default;
        options.ValidateFor(nameof(options));
        ThrowIfClosed();
        VerifyAccess();
        return ConnectUnixAsync(protocolFactory, path, options, cancellationToken);
    }

    /// <summary>Starts a TCP server (asyncio's <c>create_server</c>).</summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="protocolFactory">Makes a protocol for each accepted connection; an exception it throws goes to the loop's exception handler and the connection is closed.</param>
    /// <param name="host">
    /// The address to listen on: an IP literal, or a name bound on every address it resolves to; <see langword="null"/>
    /// or empty for every interface (one dual-stack IPv6 socket, or IPv4 where the OS has no IPv6).
    /// </param>
    /// <param name="port">The TCP port; 0 lets the OS choose (read it from <see cref="Server.Sockets"/>).</param>
    /// <param name="options">Server settings; <see langword="null"/> for <see cref="ServerOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels name resolution.</param>
    /// <returns>The server, accepting unless <see cref="ServerOptions.StartServing"/> is false.</returns>
    /// <remarks>The task fails with <see cref="AddressInUseException"/> when the port is taken, or <see cref="NameResolutionException"/>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="protocolFactory"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public Task<Server> CreateServerAsync<TProtocol>(
        Func<TProtocol> protocolFactory, string? host, int port, ServerOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(protocolFactory);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        options ??= ServerOptions.Default;
        options.ValidateFor(nameof(options));
        ThrowIfClosed();
        VerifyAccess();
        return ServeTcpAsync(() => protocolFactory(), host, port, options, cancellationToken);
    }

    /// <summary>Starts a server on the Unix socket at <paramref name="path"/> (asyncio's <c>create_unix_server</c>).</summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="protocolFactory">Makes a protocol for each accepted connection.</param>
    /// <param name="path">The socket's path; the server removes it when closed.</param>
    /// <param name="options">Server settings (TCP-only ones are ignored); <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Checked before the socket is created.</param>
    /// <returns>The server, accepting unless <see cref="ServerOptions.StartServing"/> is false.</returns>
    /// <remarks>
    /// A socket file left at the path by a server that died is replaced (asyncio does so too): if connecting to it is
    /// refused, nothing listens there any more. The task fails with <see cref="AddressInUseException"/> when a live
    /// server listens at the path, or the path is some other kind of file.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="protocolFactory"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public Task<Server> CreateUnixServerAsync<TProtocol>(
        Func<TProtocol> protocolFactory, string path, ServerOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(protocolFactory);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ServerOptions.Default;
        options.ValidateFor(nameof(options));
        ThrowIfClosed();
        VerifyAccess();
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<Server>(cancellationToken);
        }

        try
        {
            return Task.FromResult(ServeUnix(() => protocolFactory(), path, options));
        }
        catch (NetworkException ex)
        {
            return Task.FromException<Server>(ex);
        }
    }

    /// <summary>
    /// Continues on the loop's thread under its synchronization context, at once if already there. The stream entry
    /// points await it first: a <see cref="Task"/> awaited without the loop's context would resume on the thread pool
    /// (the runtime never inlines a context-free continuation on a thread that has a context), which breaks a caller
    /// who starts a connection before running the loop.
    /// </summary>
    private LoopEntry EnterLoop() => new(this);

    /// <summary>The awaitable behind <see cref="EnterLoop"/>.</summary>
    private readonly struct LoopEntry(EventLoop loop) : ICriticalNotifyCompletion
    {
        public bool IsCompleted => SynchronizationContext.Current == loop._synchronizationContext;

        public LoopEntry GetAwaiter() => this;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => loop.CallSoonFromAnyThread(FutureAwaiter.FlowExecutionContext(continuation), null);

        public void UnsafeOnCompleted(Action continuation) => loop.CallSoonFromAnyThread(continuation, null);
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

    private async Task<(IStreamTransport Transport, TProtocol Protocol)> ConnectTcpAsync<TProtocol>(
        Func<TProtocol> protocolFactory, string host, int port, ConnectionOptions options, CancellationToken cancellationToken)
        where TProtocol : IBaseProtocol
    {
        await EnterLoop();
        cancellationToken.ThrowIfCancellationRequested();
        IPAddress[] addresses = IPAddress.TryParse(host, out IPAddress? literal) ? [literal] : await ResolveAsync(host, cancellationToken);
        if (options.AddressFamily != AddressFamily.Unspecified)
        {
            addresses = Array.FindAll(addresses, a => a.AddressFamily == options.AddressFamily);
            if (addresses.Length == 0)
            {
                throw new NameResolutionException($"Name not resolved: {host} has no {options.AddressFamily} address.", host);
            }
        }

        List<NetworkException>? errors = null;
        foreach (IPAddress address in addresses)
        {
            var endPoint = new IPEndPoint(address, port);
            Socket socket = StreamSockets.Create(address.AddressFamily);
            try
            {
                StreamSockets.Configure(socket, options);
                if (options.LocalEndPoint is { } local)
                {
                    BindForConnect(socket, local);
                }

                await ConnectSocketAsync(socket, endPoint, SocketErrors.Describe(endPoint)!, cancellationToken);
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

            return StartClient(protocolFactory, socket, options, endPoint);
        }

        throw CombineConnectErrors(errors!, host, port);
    }

    private async Task<(IStreamTransport Transport, TProtocol Protocol)> ConnectUnixAsync<TProtocol>(
        Func<TProtocol> protocolFactory, string path, ConnectionOptions options, CancellationToken cancellationToken)
        where TProtocol : IBaseProtocol
    {
        await EnterLoop();
        cancellationToken.ThrowIfCancellationRequested();
        var endPoint = new UnixDomainSocketEndPoint(path);
        Socket socket = StreamSockets.Create(AddressFamily.Unix);
        try
        {
            StreamSockets.Configure(socket, options);
            await ConnectSocketAsync(socket, endPoint, path, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return StartClient(protocolFactory, socket, options, endPoint);
    }

    private static void BindForConnect(Socket socket, IPEndPoint local)
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

    private (IStreamTransport Transport, TProtocol Protocol) StartClient<TProtocol>(Func<TProtocol> protocolFactory, Socket socket, ConnectionOptions options, EndPoint peer)
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

        SocketStreamTransport transport = SocketStreamTransport.Start(this, socket, protocol, options, server: null, peer);
        return (transport, protocol);
    }

    /// <summary>Connects a non-blocking socket, waiting for writability on the loop if the connect is in progress.</summary>
    private async Task ConnectSocketAsync(Socket socket, EndPoint endPoint, string address, CancellationToken cancellationToken)
    {
        if (StreamSockets.StartConnect(socket, endPoint, address))
        {
            return;
        }

        await WaitWritableAsync(socket, cancellationToken);
        StreamSockets.FinishConnect(socket, address);
    }

    /// <summary>Completes on the loop thread once <paramref name="socket"/> is writable; the writer is removed either way.</summary>
    private async Task WaitWritableAsync(Socket socket, CancellationToken cancellationToken)
    {
        var writable = new Future<bool>(this);
        AddWriter(socket, static state => ((Future<bool>)state!).TrySetResult(true), writable);
        CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(CancelFromAnyThread, writable);
        try
        {
            await writable;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The connect was cancelled.", cancellationToken);
        }
        finally
        {
            registration.Dispose();
            RemoveWriter(socket);
        }
    }

    /// <summary>Resolves <paramref name="host"/> on the thread pool and completes on the loop thread.</summary>
    private async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var resolved = new Future<IPAddress[]>(this);
        _ = Dns.GetHostAddressesAsync(host, cancellationToken).ContinueWith(
            static (task, state) =>
            {
                var (future, host) = ((Future<IPAddress[]>, string))state!;
                try
                {
                    future.Loop.CallSoonThreadSafe(static s => CompleteResolution(((Future<IPAddress[]>, Task<IPAddress[]>, string))s!), (future, task, host));
                }
                catch (ObjectDisposedException)
                {
                    // The loop closed while the name was resolving: nobody is waiting any more.
                }
            },
            (resolved, host),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        try
        {
            return await resolved;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"Resolving {host} was cancelled.", cancellationToken);
        }

        static void CompleteResolution((Future<IPAddress[]> Future, Task<IPAddress[]> Task, string Host) work)
        {
            (Future<IPAddress[]> future, Task<IPAddress[]> task, string host) = work;
            if (task.IsCanceled)
            {
                future.Cancel();
            }
            else if (task.Exception?.InnerException is { } error)
            {
                future.SetException(error switch
                {
                    SocketException socketError when SocketErrors.Classify(socketError, "resolve", host) is NameResolutionException classified => classified,
                    _ => new NameResolutionException($"Name not resolved: {host} ({error.Message})", host, error),
                });
            }
            else if (task.Result.Length == 0)
            {
                future.SetException(new NameResolutionException($"Name not resolved: {host} has no address.", host));
            }
            else
            {
                future.SetResult(task.Result);
            }
        }
    }

    private static void CancelFromAnyThread(object? state)
    {
        var future = (Future)state!;
        try
        {
            future.Loop.CallSoonThreadSafe(static f => ((Future)f!).Cancel(), future);
        }
        catch (ObjectDisposedException)
        {
            // The loop is closed: the future can never complete, and nobody can await it.
        }
    }

    private async Task<Server> ServeTcpAsync(Func<IBaseProtocol> protocolFactory, string? host, int port, ServerOptions options, CancellationToken cancellationToken)
    {
        await EnterLoop();
        cancellationToken.ThrowIfCancellationRequested();
        IPAddress[] addresses;
        bool dualStack = false;
        if (string.IsNullOrEmpty(host))
        {
            dualStack = Socket.OSSupportsIPv6;
            addresses = [dualStack ? IPAddress.IPv6Any : IPAddress.Any];
        }
        else
        {
            addresses = IPAddress.TryParse(host, out IPAddress? literal) ? [literal] : await ResolveAsync(host, cancellationToken);
        }

        var sockets = new List<Socket>(addresses.Length);
        try
        {
            foreach (IPAddress address in addresses.Distinct())
            {
                Socket socket = StreamSockets.Create(address.AddressFamily);
                sockets.Add(socket);
                if (address.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    socket.DualMode = dualStack;
                }

                StreamSockets.ConfigureListener(socket, options);
                var endPoint = new IPEndPoint(address, port);
                BindAndListen(socket, endPoint, SocketErrors.Describe(endPoint)!, options.Backlog);
            }
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            throw;
        }

        var server = new Server(this, sockets, protocolFactory, options, unixPath: null);
        if (options.StartServing)
        {
            server.StartServing();
        }

        return server;
    }

    private Server ServeUnix(Func<IBaseProtocol> protocolFactory, string path, ServerOptions options)
    {
        Socket socket = StreamSockets.Create(AddressFamily.Unix);
        try
        {
            var endPoint = new UnixDomainSocketEndPoint(path);
            try
            {
                socket.Bind(endPoint);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && IsStaleUnixSocket(path))
            {
                File.Delete(path);
                socket.Bind(endPoint);
            }

            BindAndListen(socket, null, path, options.Backlog);
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

        var server = new Server(this, [socket], protocolFactory, options, path);
        if (options.StartServing)
        {
            server.StartServing();
        }

        return server;
    }

    /// <summary>Whether <paramref name="path"/> is a Unix socket that nobody listens on (a server died without removing it).</summary>
    private static bool IsStaleUnixSocket(string path)
    {
        // A connect that is refused means a socket file without a listener; other files give other errors (ENOTSOCK is
        // not what Linux reports for a regular file, it reports ECONNREFUSED too), so also insist the file is empty.
        var info = new FileInfo(path);
        if (!info.Exists || info.Length != 0 || (info.Attributes & (FileAttributes.Directory | FileAttributes.ReparsePoint)) != 0)
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return false;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode == SocketError.ConnectionRefused;
        }
    }

    private static void BindAndListen(Socket socket, EndPoint? endPoint, string address, int backlog)
    {
        try
        {
            if (endPoint is not null)
            {
                socket.Bind(endPoint);
            }

            socket.Listen(backlog);
        }
        catch (SocketException ex)
        {
            throw SocketErrors.Classify(ex, endPoint is null ? "listen" : "bind", address);
        }
    }
}
