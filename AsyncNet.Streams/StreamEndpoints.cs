using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Streams;

/// <summary>
/// Opens stream connections and starts stream servers on a loop (asyncio's <c>open_connection</c>,
/// <c>start_server</c>, <c>open_unix_connection</c> and <c>start_unix_server</c>).
/// </summary>
/// <remarks>
/// <para>Call these on the loop's thread (inside work the loop runs), as the loop's own connection methods require.</para>
/// <para>
/// Idle detection: set <see cref="StreamTransportOptions.Idle"/> on the connection or server options to watch for quiet
/// connections, and <see cref="StreamOptions.OnIdle"/> to hear of them with each connection's writer.
/// </para>
/// </remarks>
public static class StreamEndpoints
{
    /// <summary>Opens a TCP connection and returns its reader and writer (asyncio's <c>open_connection</c>).</summary>
    /// <param name="loop">The loop to run the connection on.</param>
    /// <param name="host">An IP address literal or a host name.</param>
    /// <param name="port">The TCP port.</param>
    /// <param name="options">The reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="connectionOptions">The transport's settings; <see langword="null"/> for <see cref="ConnectionOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels name resolution or the connect.</param>
    /// <returns>The connection's reader and writer.</returns>
    /// <remarks>
    /// The task fails as <see cref="StreamTransportFactory.CreateConnectionAsync{TProtocol}"/> does: <see cref="ConnectionRefusedException"/>,
    /// <see cref="NameResolutionException"/> or another <see cref="NetworkException"/> naming the address.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="host"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public static Task<(StreamReader Reader, StreamWriter Writer)> OpenConnectionAsync(
        this EventLoop loop, string host, int port, StreamOptions? options = null, ConnectionOptions? connectionOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        options ??= StreamOptions.Default;
        options.Validate(nameof(options));
        return ConnectedAsync(loop.CreateConnectionAsync(() => new StreamProtocol(loop, options), host, port, connectionOptions, cancellationToken));
    }

    /// <summary>Opens a connection to the Unix socket at <paramref name="path"/> and returns its reader and writer (asyncio's <c>open_unix_connection</c>).</summary>
    /// <param name="loop">The loop to run the connection on.</param>
    /// <param name="path">The socket's path.</param>
    /// <param name="options">The reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="connectionOptions">The transport's settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connection's reader and writer.</returns>
    /// <remarks>The task fails with <see cref="ConnectionRefusedException"/> when nothing listens at the path.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public static Task<(StreamReader Reader, StreamWriter Writer)> OpenUnixConnectionAsync(
        this EventLoop loop, string path, StreamOptions? options = null, ConnectionOptions? connectionOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        options ??= StreamOptions.Default;
        options.Validate(nameof(options));
        return ConnectedAsync(loop.CreateUnixConnectionAsync(() => new StreamProtocol(loop, options), path, connectionOptions, cancellationToken));
    }

    /// <summary>
    /// Starts a TCP server that runs <paramref name="handler"/> with a reader and a writer for each connection it
    /// accepts (asyncio's <c>start_server</c>).
    /// </summary>
    /// <param name="loop">The loop to serve on.</param>
    /// <param name="handler">
    /// Serves one connection; it starts on the loop thread on the iteration after the connection is made, and its awaits
    /// resume there. When its task completes the connection's writer is closed; a failure goes to the loop's exception handler.
    /// </param>
    /// <param name="host">The address to listen on; <see langword="null"/> or empty for every interface.</param>
    /// <param name="port">The TCP port; 0 lets the OS choose (see <see cref="StreamServer.Sockets"/>).</param>
    /// <param name="options">Each reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="serverOptions">The server's and each connection's transport settings; <see langword="null"/> for <see cref="ServerOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels name resolution.</param>
    /// <returns>The server.</returns>
    /// <remarks>The task fails with <see cref="AddressInUseException"/> when the port is taken, or <see cref="NameResolutionException"/>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public static Task<StreamServer> StartServerAsync(
        this EventLoop loop,
        Func<StreamReader, StreamWriter, Task> handler,
        string? host,
        int port,
        StreamOptions? options = null,
        ServerOptions? serverOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(handler);
        options ??= StreamOptions.Default;
        options.Validate(nameof(options));
        var server = new StreamServer(loop, handler);
        return ServingAsync(server, loop.CreateServerAsync(() => server.CreateProtocol(options), host, port, serverOptions, cancellationToken));
    }

    /// <summary>
    /// Starts a server on the Unix socket at <paramref name="path"/> that runs <paramref name="handler"/> for each
    /// connection (asyncio's <c>start_unix_server</c>).
    /// </summary>
    /// <param name="loop">The loop to serve on.</param>
    /// <param name="handler">Serves one connection, as for <see cref="StartServerAsync(EventLoop, Func{StreamReader, StreamWriter, Task}, string?, int, StreamOptions?, ServerOptions?, CancellationToken)"/>.</param>
    /// <param name="path">The socket's path; removed when the server closes.</param>
    /// <param name="options">Each reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="serverOptions">The server's settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Checked before the socket is created.</param>
    /// <returns>The server.</returns>
    /// <remarks>The task fails with <see cref="AddressInUseException"/> when a live server listens at the path.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="handler"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public static Task<StreamServer> StartUnixServerAsync(
        this EventLoop loop,
        Func<StreamReader, StreamWriter, Task> handler,
        string path,
        StreamOptions? options = null,
        ServerOptions? serverOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(handler);
        options ??= StreamOptions.Default;
        options.Validate(nameof(options));
        var server = new StreamServer(loop, handler);
        return ServingAsync(server, loop.CreateUnixServerAsync(() => server.CreateProtocol(options), path, serverOptions, cancellationToken));
    }

    /// <summary>
    /// Starts a TCP server on every loop of <paramref name="group"/> that runs <paramref name="handler"/> with a reader
    /// and a writer for each connection; connections spread over the loops as <see cref="ServerOptions.Distribution"/> says.
    /// </summary>
    /// <param name="group">The loops to serve on.</param>
    /// <param name="handler">
    /// Serves one connection, on that connection's loop thread (its awaits resume there), as for
    /// <see cref="StartServerAsync(EventLoop, Func{StreamReader, StreamWriter, Task}, string?, int, StreamOptions?, ServerOptions?, CancellationToken)"/>;
    /// handlers of different connections may run on different threads at once.
    /// </param>
    /// <param name="host">The address to listen on; <see langword="null"/> or empty for every interface.</param>
    /// <param name="port">The TCP port; 0 lets the OS choose (see <see cref="GroupServer.Port"/>).</param>
    /// <param name="options">Each reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="serverOptions">The server's and each connection's transport settings; <see langword="null"/> for <see cref="ServerOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels name resolution.</param>
    /// <returns>The server; the group shuts it down with itself (connections closed gracefully, then aborted after the grace period).</returns>
    /// <remarks>May be called from any thread. The task fails with <see cref="AddressInUseException"/> when the port is taken.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="group"/> or <paramref name="handler"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The group is shutting down.</exception>
    public static Task<GroupServer> StartServerAsync(
        this EventLoopGroup group,
        Func<StreamReader, StreamWriter, Task> handler,
        string? host,
        int port,
        StreamOptions? options = null,
        ServerOptions? serverOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.CreateServerAsync(GroupProtocols(handler, options), host, port, serverOptions, cancellationToken);
    }

    /// <summary>
    /// Starts a server on the Unix socket at <paramref name="path"/> for every loop of <paramref name="group"/>, running
    /// <paramref name="handler"/> for each connection on the loop it is handed to.
    /// </summary>
    /// <param name="group">The loops to serve on.</param>
    /// <param name="handler">Serves one connection, as for <see cref="StartServerAsync(EventLoopGroup, Func{StreamReader, StreamWriter, Task}, string?, int, StreamOptions?, ServerOptions?, CancellationToken)"/>.</param>
    /// <param name="path">The socket's path; removed when the server closes.</param>
    /// <param name="options">Each reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="serverOptions">The server's settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Checked before the socket is created.</param>
    /// <returns>The server; the group shuts it down with itself.</returns>
    /// <remarks>May be called from any thread.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="group"/>, <paramref name="handler"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The group is shutting down.</exception>
    public static Task<GroupServer> StartUnixServerAsync(
        this EventLoopGroup group,
        Func<StreamReader, StreamWriter, Task> handler,
        string path,
        StreamOptions? options = null,
        ServerOptions? serverOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.CreateUnixServerAsync(GroupProtocols(handler, options), path, serverOptions, cancellationToken);
    }

    /// <summary>The protocol factory of a group's stream server: each protocol runs its handler on the loop that made it.</summary>
    private static Func<StreamProtocol> GroupProtocols(Func<StreamReader, StreamWriter, Task> handler, StreamOptions? options)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options ??= StreamOptions.Default;
        options.Validate(nameof(options));
        return () =>
        {
            // The group calls the factory on the loop that will serve the connection.
            EventLoop loop = EventLoop.Current ?? throw new InvalidOperationException("A group's protocol factory runs on one of its loops.");
            return new StreamProtocol(loop, options, (reader, writer) => loop.CreateTask(() => StreamServer.RunHandlerAsync(loop, handler, reader, writer, handler)));
        };
    }

    // These await in the loop's context on purpose: the caller is on the loop thread, and finishing there lets its own
    // continuation run inline instead of hopping through the thread pool and back.
    private static async Task<(StreamReader Reader, StreamWriter Writer)> ConnectedAsync(Task<(IStreamTransport Transport, StreamProtocol Protocol)> connecting)
    {
        (_, StreamProtocol protocol) = await connecting;
        return (protocol.Reader, protocol.Writer);
    }

    private static async Task<StreamServer> ServingAsync(StreamServer server, Task<Server> starting)
    {
        server.Attach(await starting);
        return server;
    }
}
