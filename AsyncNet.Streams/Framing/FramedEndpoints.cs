using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Transports;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Framing;

/// <summary>
/// Opens framed connections and starts framed servers on a loop, with an optional heartbeat: the
/// <see cref="StreamEndpoints"/> methods, handing out a <see cref="FramedConnection"/> instead of a stream pair.
/// </summary>
/// <remarks>
/// <para>Call these on the loop's thread (inside work the loop runs), as <see cref="StreamEndpoints"/> requires.</para>
/// <para>
/// A heartbeat (<see cref="HeartbeatOptions"/>) becomes the connections' idle options and idle callback: the transport
/// options must not set <see cref="StreamTransportOptions.Idle"/> themselves (the heartbeat's are put in a copy of
/// them), and a <see cref="StreamOptions.OnIdle"/> of the caller's still hears every report, after the ping is handled.
/// The ping frame is encoded once per call, and shared by every connection of a server. Without a heartbeat these are
/// the stream endpoints plus a <see cref="FrameReader"/> and a <see cref="FrameWriter"/>.
/// </para>
/// </remarks>
public static class FramedEndpoints
{
    /// <summary>Opens a TCP connection that carries frames of <paramref name="format"/>, with an optional heartbeat.</summary>
    /// <param name="loop">The loop to run the connection on.</param>
    /// <param name="host">An IP address literal or a host name.</param>
    /// <param name="port">The TCP port.</param>
    /// <param name="format">The frame layout, both ways.</param>
    /// <param name="heartbeat">The heartbeat, or <see langword="null"/> for none.</param>
    /// <param name="options">The reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="connectionOptions">The transport's settings, without <see cref="StreamTransportOptions.Idle"/> when there is a heartbeat; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels name resolution or the connect.</param>
    /// <returns>The connection.</returns>
    /// <remarks>The task fails as <see cref="StreamEndpoints.OpenConnectionAsync"/>'s does.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="host"/> or <paramref name="format"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty; or the heartbeat's ping cannot be framed in <paramref name="format"/>; or <paramref name="connectionOptions"/> sets idle options beside a heartbeat.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public static Task<FramedConnection> OpenFramedConnectionAsync(
        this EventLoop loop,
        string host,
        int port,
        LengthFieldFormat format,
        HeartbeatOptions? heartbeat = null,
        StreamOptions? options = null,
        ConnectionOptions? connectionOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        HeartbeatPing? ping = Prepare(format, heartbeat, ref options);
        connectionOptions = WithHeartbeat(connectionOptions, heartbeat, nameof(connectionOptions));
        return FramedAsync(loop.OpenConnectionAsync(host, port, options, connectionOptions, cancellationToken), format, ping);
    }

    /// <summary>Opens a connection to the Unix socket at <paramref name="path"/> that carries frames of <paramref name="format"/>, with an optional heartbeat.</summary>
    /// <param name="loop">The loop to run the connection on.</param>
    /// <param name="path">The socket's path.</param>
    /// <param name="format">The frame layout, both ways.</param>
    /// <param name="heartbeat">The heartbeat, or <see langword="null"/> for none.</param>
    /// <param name="options">The reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="connectionOptions">The transport's settings, without <see cref="StreamTransportOptions.Idle"/> when there is a heartbeat; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connection.</returns>
    /// <remarks>The task fails with <see cref="ConnectionRefusedException"/> when nothing listens at the path.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="path"/> or <paramref name="format"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty; or the heartbeat's ping cannot be framed in <paramref name="format"/>; or <paramref name="connectionOptions"/> sets idle options beside a heartbeat.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public static Task<FramedConnection> OpenFramedUnixConnectionAsync(
        this EventLoop loop,
        string path,
        LengthFieldFormat format,
        HeartbeatOptions? heartbeat = null,
        StreamOptions? options = null,
        ConnectionOptions? connectionOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        HeartbeatPing? ping = Prepare(format, heartbeat, ref options);
        connectionOptions = WithHeartbeat(connectionOptions, heartbeat, nameof(connectionOptions));
        return FramedAsync(loop.OpenUnixConnectionAsync(path, options, connectionOptions, cancellationToken), format, ping);
    }

    /// <summary>
    /// Starts a TCP server that runs <paramref name="handler"/> with a <see cref="FramedConnection"/> for each connection
    /// it accepts, every one with the same heartbeat.
    /// </summary>
    /// <param name="loop">The loop to serve on.</param>
    /// <param name="handler">Serves one connection, as for <see cref="StreamEndpoints.StartServerAsync(EventLoop, Func{StreamReader, StreamWriter, Task}, string?, int, StreamOptions?, ServerOptions?, CancellationToken)"/>: when its task completes the connection is closed.</param>
    /// <param name="host">The address to listen on; <see langword="null"/> or empty for every interface.</param>
    /// <param name="port">The TCP port; 0 lets the OS choose (see <see cref="StreamServer.Sockets"/>).</param>
    /// <param name="format">The frame layout, both ways.</param>
    /// <param name="heartbeat">The heartbeat of every accepted connection, or <see langword="null"/> for none.</param>
    /// <param name="options">Each reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="serverOptions">The server's and each connection's transport settings, without <see cref="StreamTransportOptions.Idle"/> when there is a heartbeat; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels name resolution.</param>
    /// <returns>The server.</returns>
    /// <remarks>The task fails with <see cref="AddressInUseException"/> when the port is taken, or <see cref="NameResolutionException"/>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="handler"/> or <paramref name="format"/> is null.</exception>
    /// <exception cref="ArgumentException">The heartbeat's ping cannot be framed in <paramref name="format"/>; or <paramref name="serverOptions"/> sets idle options beside a heartbeat.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public static Task<StreamServer> StartFramedServerAsync(
        this EventLoop loop,
        Func<FramedConnection, Task> handler,
        string? host,
        int port,
        LengthFieldFormat format,
        HeartbeatOptions? heartbeat = null,
        StreamOptions? options = null,
        ServerOptions? serverOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(handler);
        HeartbeatPing? ping = Prepare(format, heartbeat, ref options);
        serverOptions = WithHeartbeat(serverOptions, heartbeat, nameof(serverOptions));
        return loop.StartServerAsync(Serve(handler, format, ping), host, port, options, serverOptions, cancellationToken);
    }

    /// <summary>
    /// Starts a server on the Unix socket at <paramref name="path"/> that runs <paramref name="handler"/> with a
    /// <see cref="FramedConnection"/> for each connection, every one with the same heartbeat.
    /// </summary>
    /// <param name="loop">The loop to serve on.</param>
    /// <param name="handler">Serves one connection, as for <see cref="StartFramedServerAsync(EventLoop, Func{FramedConnection, Task}, string?, int, LengthFieldFormat, HeartbeatOptions?, StreamOptions?, ServerOptions?, CancellationToken)"/>.</param>
    /// <param name="path">The socket's path; removed when the server closes.</param>
    /// <param name="format">The frame layout, both ways.</param>
    /// <param name="heartbeat">The heartbeat of every accepted connection, or <see langword="null"/> for none.</param>
    /// <param name="options">Each reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="serverOptions">The server's settings, without <see cref="StreamTransportOptions.Idle"/> when there is a heartbeat; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Checked before the socket is created.</param>
    /// <returns>The server.</returns>
    /// <remarks>The task fails with <see cref="AddressInUseException"/> when a live server listens at the path.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="handler"/>, <paramref name="path"/> or <paramref name="format"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty; or the heartbeat's ping cannot be framed in <paramref name="format"/>; or <paramref name="serverOptions"/> sets idle options beside a heartbeat.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public static Task<StreamServer> StartFramedUnixServerAsync(
        this EventLoop loop,
        Func<FramedConnection, Task> handler,
        string path,
        LengthFieldFormat format,
        HeartbeatOptions? heartbeat = null,
        StreamOptions? options = null,
        ServerOptions? serverOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(handler);
        HeartbeatPing? ping = Prepare(format, heartbeat, ref options);
        serverOptions = WithHeartbeat(serverOptions, heartbeat, nameof(serverOptions));
        return loop.StartUnixServerAsync(Serve(handler, format, ping), path, options, serverOptions, cancellationToken);
    }

    /// <summary>
    /// Starts a TCP server on every loop of <paramref name="group"/> that runs <paramref name="handler"/> with a
    /// <see cref="FramedConnection"/> for each connection, every one with the same heartbeat; connections spread over the
    /// loops as <see cref="ServerOptions.Distribution"/> says, each handler running on its connection's loop.
    /// </summary>
    /// <param name="group">The loops to serve on.</param>
    /// <param name="handler">Serves one connection, on that connection's loop thread.</param>
    /// <param name="host">The address to listen on; <see langword="null"/> or empty for every interface.</param>
    /// <param name="port">The TCP port; 0 lets the OS choose (see <see cref="GroupServer.Port"/>).</param>
    /// <param name="format">The frame layout, both ways.</param>
    /// <param name="heartbeat">The heartbeat of every accepted connection, or <see langword="null"/> for none.</param>
    /// <param name="options">Each reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="serverOptions">The server's and each connection's transport settings, without <see cref="StreamTransportOptions.Idle"/> when there is a heartbeat; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels name resolution.</param>
    /// <returns>The server; the group shuts it down with itself.</returns>
    /// <remarks>May be called from any thread.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="group"/>, <paramref name="handler"/> or <paramref name="format"/> is null.</exception>
    /// <exception cref="ArgumentException">The heartbeat's ping cannot be framed in <paramref name="format"/>; or <paramref name="serverOptions"/> sets idle options beside a heartbeat.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The group is shutting down.</exception>
    public static Task<GroupServer> StartFramedServerAsync(
        this EventLoopGroup group,
        Func<FramedConnection, Task> handler,
        string? host,
        int port,
        LengthFieldFormat format,
        HeartbeatOptions? heartbeat = null,
        StreamOptions? options = null,
        ServerOptions? serverOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(handler);
        HeartbeatPing? ping = Prepare(format, heartbeat, ref options);
        serverOptions = WithHeartbeat(serverOptions, heartbeat, nameof(serverOptions));
        return group.StartServerAsync(Serve(handler, format, ping), host, port, options, serverOptions, cancellationToken);
    }

    /// <summary>
    /// Starts a server on the Unix socket at <paramref name="path"/> for every loop of <paramref name="group"/>, running
    /// <paramref name="handler"/> with a <see cref="FramedConnection"/> for each connection on the loop it is handed to.
    /// </summary>
    /// <param name="group">The loops to serve on.</param>
    /// <param name="handler">Serves one connection, on that connection's loop thread.</param>
    /// <param name="path">The socket's path; removed when the server closes.</param>
    /// <param name="format">The frame layout, both ways.</param>
    /// <param name="heartbeat">The heartbeat of every accepted connection, or <see langword="null"/> for none.</param>
    /// <param name="options">Each reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="serverOptions">The server's settings, without <see cref="StreamTransportOptions.Idle"/> when there is a heartbeat; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Checked before the socket is created.</param>
    /// <returns>The server; the group shuts it down with itself.</returns>
    /// <remarks>May be called from any thread.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="group"/>, <paramref name="handler"/>, <paramref name="path"/> or <paramref name="format"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty; or the heartbeat's ping cannot be framed in <paramref name="format"/>; or <paramref name="serverOptions"/> sets idle options beside a heartbeat.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The group is shutting down.</exception>
    public static Task<GroupServer> StartFramedUnixServerAsync(
        this EventLoopGroup group,
        Func<FramedConnection, Task> handler,
        string path,
        LengthFieldFormat format,
        HeartbeatOptions? heartbeat = null,
        StreamOptions? options = null,
        ServerOptions? serverOptions = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(handler);
        HeartbeatPing? ping = Prepare(format, heartbeat, ref options);
        serverOptions = WithHeartbeat(serverOptions, heartbeat, nameof(serverOptions));
        return group.StartUnixServerAsync(Serve(handler, format, ping), path, options, serverOptions, cancellationToken);
    }

    /// <summary>Encodes the heartbeat's ping and makes its callback the stream options' idle callback (before the caller's own).</summary>
    private static HeartbeatPing? Prepare(LengthFieldFormat format, HeartbeatOptions? heartbeat, ref StreamOptions? options)
    {
        ArgumentNullException.ThrowIfNull(format);
        if (heartbeat is null)
        {
            return null;
        }

        var ping = new HeartbeatPing(heartbeat, format, nameof(heartbeat), options?.OnIdle);
        options = FramedOptions.WithOnIdle(options, ping.SendOnIdle);
        return ping;
    }

    private static ConnectionOptions? WithHeartbeat(ConnectionOptions? options, HeartbeatOptions? heartbeat, string parameterName) =>
        heartbeat is null ? options : FramedOptions.WithIdle(options, heartbeat.ToIdleOptions(), parameterName);

    private static ServerOptions? WithHeartbeat(ServerOptions? options, HeartbeatOptions? heartbeat, string parameterName) =>
        heartbeat is null ? options : FramedOptions.WithIdle(options, heartbeat.ToIdleOptions(), parameterName);

    private static Func<StreamReader, StreamWriter, Task> Serve(Func<FramedConnection, Task> handler, LengthFieldFormat format, HeartbeatPing? ping) =>
        (reader, writer) => handler(new FramedConnection(reader, writer, format, ping));

    // Awaits in the loop's context on purpose, as StreamEndpoints does: the caller is on the loop thread.
    private static async Task<FramedConnection> FramedAsync(Task<(StreamReader Reader, StreamWriter Writer)> connecting, LengthFieldFormat format, HeartbeatPing? ping)
    {
        (StreamReader reader, StreamWriter writer) = await connecting;
        return new FramedConnection(reader, writer, format, ping);
    }
}
