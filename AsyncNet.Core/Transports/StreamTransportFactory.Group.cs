using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;

namespace AsyncNet.Transports;

public static partial class StreamTransportFactory
{
    /// <summary>
    /// Starts a TCP server on every loop of <paramref name="group"/>: connections spread over the loops as
    /// <see cref="ServerOptions.Distribution"/> says, each served on one loop for its whole life.
    /// </summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="group">The loops to serve on.</param>
    /// <param name="protocolFactory">
    /// Makes a protocol for each accepted connection, on the loop that will serve it (<see cref="EventLoop.Current"/>
    /// names that loop); it may run on several loop threads at once.
    /// </param>
    /// <param name="host">The address to listen on, as for <see cref="CreateServerAsync{TProtocol}(EventLoop, Func{TProtocol}, string?, int, ServerOptions?, CancellationToken)"/>.</param>
    /// <param name="port">The TCP port; 0 lets the OS choose (read it from <see cref="GroupServer.Port"/>).</param>
    /// <param name="options">Server settings; <see langword="null"/> for <see cref="ServerOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels name resolution.</param>
    /// <returns>The server, accepting on the group; the group shuts it down with itself.</returns>
    /// <remarks>
    /// May be called from any thread. With <see cref="AcceptDistribution.ReusePort"/> every loop binds the same address
    /// with SO_REUSEPORT (which also lets other sockets of the same user bind it).
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="group"/> or <paramref name="protocolFactory"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> or an option is out of range.</exception>
    /// <exception cref="PlatformNotSupportedException"><see cref="AcceptDistribution.ReusePort"/> was asked for on a system other than Linux.</exception>
    /// <exception cref="ObjectDisposedException">The group is shutting down.</exception>
    public static Task<GroupServer> CreateServerAsync<TProtocol>(
        this EventLoopGroup group, Func<TProtocol> protocolFactory, string? host, int port, ServerOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(protocolFactory);
        CheckPort(port);
        options = Checked(options ?? ServerOptions.Default);
        ObjectDisposedException.ThrowIf(group.IsShuttingDown, group);
        AcceptDistribution distribution = options.Distribution switch
        {
            AcceptDistribution.Auto => OperatingSystem.IsLinux() ? AcceptDistribution.ReusePort : AcceptDistribution.RoundRobin,
            AcceptDistribution.ReusePort when !OperatingSystem.IsLinux() =>
                throw new PlatformNotSupportedException("AcceptDistribution.ReusePort balances connections on Linux only; use RoundRobin."),
            AcceptDistribution other => other,
        };
        return ServeOnGroupAsync(group, distribution, () => protocolFactory(), options, async loop =>
        {
            IReadOnlyList<IPEndPoint> endPoints = await ListenEndPointsAsync(loop, host, port, cancellationToken).ConfigureAwait(true);
            return ListenTcp(endPoints, dualStack: string.IsNullOrEmpty(host), options with { ReusePort = options.ReusePort || distribution == AcceptDistribution.ReusePort });
        });
    }

    /// <summary>
    /// Starts a server on the Unix socket at <paramref name="path"/> for every loop of <paramref name="group"/>: one loop
    /// accepts and hands each connection to a loop (<see cref="AcceptDistribution.RoundRobin"/> unless
    /// <see cref="ServerOptions.Distribution"/> says <see cref="AcceptDistribution.LeastConnections"/>).
    /// </summary>
    /// <typeparam name="TProtocol">The protocol type: it must implement <see cref="IProtocol"/> or <see cref="IBufferedProtocol"/>.</typeparam>
    /// <param name="group">The loops to serve on.</param>
    /// <param name="protocolFactory">Makes a protocol for each accepted connection, on the loop that will serve it.</param>
    /// <param name="path">The socket's path; removed when the server closes.</param>
    /// <param name="options">Server settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Checked before the socket is created.</param>
    /// <returns>The server, accepting on the group.</returns>
    /// <remarks>May be called from any thread.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="group"/>, <paramref name="protocolFactory"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or <see cref="AcceptDistribution.ReusePort"/> is asked for (Unix sockets cannot share a path).</exception>
    /// <exception cref="ObjectDisposedException">The group is shutting down.</exception>
    public static Task<GroupServer> CreateUnixServerAsync<TProtocol>(
        this EventLoopGroup group, Func<TProtocol> protocolFactory, string path, ServerOptions? options = null, CancellationToken cancellationToken = default)
        where TProtocol : IBaseProtocol
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(protocolFactory);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options = Checked(options ?? ServerOptions.Default);
        ObjectDisposedException.ThrowIf(group.IsShuttingDown, group);
        AcceptDistribution distribution = options.Distribution switch
        {
            AcceptDistribution.Auto => AcceptDistribution.RoundRobin,
            AcceptDistribution.ReusePort => throw new ArgumentOutOfRangeException(nameof(options), "Unix sockets cannot share a path: use RoundRobin or LeastConnections."),
            AcceptDistribution other => other,
        };
        return ServeOnGroupAsync(group, distribution, () => protocolFactory(), options, _ =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult<IReadOnlyList<Socket>>([ListenUnix(path, options)]);
        }, unixPath: path);
    }

    /// <summary>
    /// Makes one shard per loop and starts them. <paramref name="listen"/> runs on a shard's loop and binds its
    /// listening sockets: on every loop for SO_REUSEPORT (the first loop's ports are reused by the others, so port 0
    /// works), on the first loop only for a hand-off acceptor.
    /// </summary>
    private static async Task<GroupServer> ServeOnGroupAsync(
        EventLoopGroup group,
        AcceptDistribution distribution,
        Func<IBaseProtocol> protocolFactory,
        ServerOptions options,
        Func<EventLoop, Task<IReadOnlyList<Socket>>> listen,
        string? unixPath = null)
    {
        IReadOnlyList<EventLoop> loops = group.Loops;
        var servers = new Server[loops.Count];
        try
        {
            IReadOnlyList<Socket> first = await loops[0].RunCoroutineThreadSafe(() => listen(loops[0])).ConfigureAwait(false);
            servers[0] = new Server(loops[0], first, protocolFactory, options, unixPath);
            IReadOnlyList<IPEndPoint> bound = [.. first.Select(s => s.LocalEndPoint).OfType<IPEndPoint>()];
            for (int i = 1; i < loops.Count; i++)
            {
                IReadOnlyList<Socket> own = distribution == AcceptDistribution.ReusePort
                    ? await loops[i].RunCoroutineThreadSafe(() => Task.FromResult<IReadOnlyList<Socket>>(
                        ListenTcp(bound, dualStack: first[0].AddressFamily == AddressFamily.InterNetworkV6 && first[0].DualMode, options with { ReusePort = true }))).ConfigureAwait(false)
                    : [];
                servers[i] = new Server(loops[i], own, protocolFactory, options, unixPath: null);
            }
        }
        catch
        {
            foreach (Server? server in servers)
            {
                if (server is not null)
                {
                    foreach (Socket socket in server.Sockets)
                    {
                        socket.Dispose();
                    }
                }
            }

            throw;
        }

        var groupServer = new GroupServer(group, servers, distribution);
        group.AddShutdownHook(groupServer.ShutdownAsync);
        await Task.WhenAll(servers.Select(s => s.Loop.RunCoroutineThreadSafe(() =>
        {
            s.StartServing();
            return Task.CompletedTask;
        }))).ConfigureAwait(false);
        return groupServer;
    }
}
