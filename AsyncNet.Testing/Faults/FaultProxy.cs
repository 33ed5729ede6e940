// FaultProxy: a TCP (or Unix-socket) proxy on an AsyncNet loop that injects network faults, for tests.
//
// Maintainer's overview
// - A Server accepts clients; each becomes a ProxyConnection that connects upstream and forwards both ways through a
//   FaultPipe per direction (see those files). Everything but the fault setters, the counters and DisposeAsync runs on
//   the loop thread.
// - Faults live in two volatile fields, one per direction. SetFaults replaces a field from any thread and posts one
//   callback to the loop that lets every open connection apply the change (limits already reached act, blackholes
//   start or end); bytes read afterwards see the new faults through the field.
// - Counters are Interlocked, so tests may read them from any thread.
// - Disposal: on the loop, close the server, abort every connection (and cancel connects in flight), wait until each is
//   forgotten (both sides lost); then, if the proxy started its own loop, dispose that loop.

using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Testing.Faults;

/// <summary>
/// A TCP proxy that injects network faults (Toxiproxy's kinds: latency with jitter, a bandwidth limit, slicing, a
/// blackhole, a reset, close or half-close after some bytes), per direction and changeable while connections are
/// open, for testing code on loopback the way it will meet a real network.
/// </summary>
/// <remarks>
/// <para>
/// Point a client at <see cref="ListenEndPoint"/> (127.0.0.1 and a port chosen by the OS unless
/// <see cref="FaultProxyOptions.ListenEndPoint"/> says otherwise): each connection accepted is connected to the upstream
/// and its bytes forwarded both ways under the faults of their direction (<see cref="FaultSpec"/>). EOFs are forwarded
/// too (half-closes included); a side that resets has the other side reset; if the upstream cannot be reached, the
/// client's connection is reset.
/// </para>
/// <para>
/// Memory stays bounded: the proxy stops reading from a sender while the receiver's write buffer is full, while a
/// direction holds <see cref="FaultProxyOptions.MaxHeldBytes"/> waiting out a delay, and while a direction is
/// blackholed. Delays run on loop timers (<see cref="EventLoop.CallAt(TimeSpan, Action{object?}, object?)"/>), so a loop
/// with a manual clock drives them too; forwarding allocates nothing per byte.
/// </para>
/// <para>
/// Threads: <see cref="SetFaults(FaultDirection, FaultSpec)"/>, the counters and <see cref="DisposeAsync"/> may be called
/// from any thread; the proxy's sockets live on its loop.
/// </para>
/// <example>
/// <code>
/// await using var proxy = await FaultProxy.StartAsync(new IPEndPoint(IPAddress.Loopback, serverPort));
/// proxy.SetFaults(FaultDirection.UpstreamToClient, FaultSpec.Parse("latency=50ms,jitter=10ms"));
/// var (reader, writer) = await loop.OpenConnectionAsync("127.0.0.1", proxy.Port);
/// </code>
/// </example>
/// </remarks>
public sealed class FaultProxy : IAsyncDisposable
{
    private static readonly Action<object?> s_faultsChanged = static state => ((FaultProxy)state!).ApplyFaults();

    private readonly EndPoint _upstream;
    private readonly ConnectionOptions _upstreamOptions;
    private readonly bool _ownsLoop;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _disposeGate = new();

    // Loop thread only: the open connections, and the disposal waiting for them to go.
    private readonly HashSet<ProxyConnection> _connections = [];
    private TaskCompletionSource? _allForgotten;
    private Server? _server;
    private Task? _disposal;

    private volatile FaultSpec _clientToUpstream;
    private volatile FaultSpec _upstreamToClient;

    private long _accepted;
    private int _connectionCount;
    private long _failedConnects;
    private volatile Exception? _lastConnectError;

    // Per direction, indexed by FaultDirection: bytes forwarded, dropped, and held right now.
    private readonly long[] _forwarded = new long[2];
    private readonly long[] _dropped = new long[2];
    private readonly long[] _held = new long[2];

    private FaultProxy(EventLoop loop, EndPoint upstream, FaultProxyOptions options, bool ownsLoop)
    {
        Loop = loop;
        _upstream = upstream;
        _upstreamOptions = options.UpstreamOptions ?? ConnectionOptions.Default;
        _ownsLoop = ownsLoop;
        _clientToUpstream = options.ClientToUpstream;
        _upstreamToClient = options.UpstreamToClient;
        MaxHeldBytes = options.MaxHeldBytes;
        Random = options.Seed is int seed ? new Random(seed) : new Random();
        ListenEndPoint = options.ListenEndPoint;
    }

    /// <summary>The loop the proxy's sockets run on.</summary>
    public EventLoop Loop { get; }

    /// <summary>Where the proxy listens, with the port the OS chose: connect clients here.</summary>
    public EndPoint ListenEndPoint { get; private set; }

    /// <summary>The TCP port the proxy listens on; 0 when it listens on a Unix socket.</summary>
    public int Port => ListenEndPoint is IPEndPoint ip ? ip.Port : 0;

    /// <summary>Where the proxy connects each client: the upstream server.</summary>
    public EndPoint Upstream => _upstream;

    /// <summary>How many clients the proxy has accepted in all. May be read from any thread.</summary>
    public long AcceptedCount => Interlocked.Read(ref _accepted);

    /// <summary>How many proxied connections are open (either side not yet closed). May be read from any thread.</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    /// <summary>How many upstream connects failed (each client's connection was reset). May be read from any thread.</summary>
    public long FailedConnectCount => Interlocked.Read(ref _failedConnects);

    /// <summary>The last upstream connect failure, or <see langword="null"/> if none failed.</summary>
    public Exception? LastConnectError => _lastConnectError;

    /// <summary>The faults on bytes from clients to the upstream now.</summary>
    public FaultSpec ClientToUpstream => _clientToUpstream;

    /// <summary>The faults on bytes from the upstream to clients now.</summary>
    public FaultSpec UpstreamToClient => _upstreamToClient;

    /// <summary>The bytes one direction may hold while they wait out a delay (<see cref="FaultProxyOptions.MaxHeldBytes"/>).</summary>
    internal int MaxHeldBytes { get; }

    /// <summary>Whether <see cref="DisposeAsync"/> has begun.</summary>
    internal bool IsDisposing => _disposing.IsCancellationRequested;

    /// <summary>The random draws of jitter and slice sizes: loop thread only.</summary>
    internal Random Random { get; }

    /// <summary>Starts a proxy on <paramref name="loop"/> to <paramref name="upstream"/>.</summary>
    /// <param name="loop">The loop to run the proxy's sockets on; it must be running (or run) for the proxy to work.</param>
    /// <param name="upstream">
    /// The server to forward to: an <see cref="IPEndPoint"/>, a <see cref="DnsEndPoint"/> (resolved for each connection)
    /// or a <see cref="UnixDomainSocketEndPoint"/>.
    /// </param>
    /// <param name="options">The proxy's settings; <see langword="null"/> for <see cref="FaultProxyOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels starting to listen.</param>
    /// <returns>The proxy, listening. The loop is not disposed with it.</returns>
    /// <remarks>
    /// May be called from any thread. Nothing is connected upstream until a client connects; the task fails as
    /// <see cref="StreamTransportFactory.CreateServerAsync{TProtocol}(EventLoop, Func{TProtocol}, string?, int, ServerOptions?, CancellationToken)"/>
    /// does when the listening address is taken (<see cref="Errors.AddressInUseException"/>).
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="upstream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="upstream"/> or the listening endpoint is of another kind, or a fault spec contradicts itself.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option or fault setting is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public static Task<FaultProxy> StartAsync(EventLoop loop, EndPoint upstream, FaultProxyOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        CheckUpstream(upstream);
        options ??= FaultProxyOptions.Default;
        options.Validate(nameof(options));
        return new FaultProxy(loop, upstream, options, ownsLoop: false).ListenAsync(options, cancellationToken);
    }

    /// <summary>Starts a proxy to <paramref name="upstream"/> on a loop of its own, on a thread of its own; disposing the proxy disposes that loop.</summary>
    /// <param name="upstream">The server to forward to, as for <see cref="StartAsync(EventLoop, EndPoint, FaultProxyOptions?, CancellationToken)"/>.</param>
    /// <param name="options">The proxy's settings; <see langword="null"/> for <see cref="FaultProxyOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels starting to listen.</param>
    /// <returns>The proxy, listening.</returns>
    /// <remarks>The easiest way to put a proxy between a client and a server that run on their own loops or threads.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="upstream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="upstream"/> or the listening endpoint is of another kind, or a fault spec contradicts itself.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option or fault setting is out of range.</exception>
    public static async Task<FaultProxy> StartAsync(EndPoint upstream, FaultProxyOptions? options = null, CancellationToken cancellationToken = default)
    {
        CheckUpstream(upstream);
        options ??= FaultProxyOptions.Default;
        options.Validate(nameof(options));
        EventLoop loop = EventLoop.StartOnNewThread(threadName: "AsyncNet fault proxy");
        try
        {
            return await new FaultProxy(loop, upstream, options, ownsLoop: true).ListenAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await loop.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The faults on one direction now.</summary>
    /// <param name="direction">The direction.</param>
    /// <returns>Its faults.</returns>
    public FaultSpec GetFaults(FaultDirection direction) => direction == FaultDirection.ClientToUpstream ? _clientToUpstream : _upstreamToClient;

    /// <summary>Replaces the faults on one direction, for new connections and open ones alike.</summary>
    /// <param name="direction">The direction.</param>
    /// <param name="faults">The faults; <see cref="FaultSpec.None"/> to clear them.</param>
    /// <remarks>
    /// May be called from any thread. Bytes read from now on are held, sliced and limited by the new faults; bytes held
    /// already keep the timing they were read with. A byte limit that open connections have reached acts on them at once
    /// (on the loop, shortly after this returns); a blackhole starts or ends there too.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="faults"/> is null.</exception>
    /// <exception cref="ArgumentException">The faults contradict each other (see <see cref="FaultSpec"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A fault setting is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The proxy is disposed.</exception>
    public void SetFaults(FaultDirection direction, FaultSpec faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        faults.Validate(nameof(faults));
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        if (direction == FaultDirection.ClientToUpstream)
        {
            _clientToUpstream = faults;
        }
        else
        {
            _upstreamToClient = faults;
        }

        Loop.CallSoonThreadSafe(s_faultsChanged, this);
    }

    /// <summary>Replaces the faults on both directions, as <see cref="SetFaults(FaultDirection, FaultSpec)"/> does for each.</summary>
    /// <param name="faults">The faults for both directions; <see cref="FaultSpec.None"/> to clear them.</param>
    /// <exception cref="ArgumentNullException"><paramref name="faults"/> is null.</exception>
    /// <exception cref="ArgumentException">The faults contradict each other (see <see cref="FaultSpec"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A fault setting is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The proxy is disposed.</exception>
    public void SetFaults(FaultSpec faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        faults.Validate(nameof(faults));
        ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
        _clientToUpstream = faults;
        _upstreamToClient = faults;
        Loop.CallSoonThreadSafe(s_faultsChanged, this);
    }

    /// <summary>How many bytes the proxy has forwarded in one direction, over every connection. May be read from any thread.</summary>
    /// <param name="direction">The direction.</param>
    /// <returns>The bytes handed to the receiving side's transport so far.</returns>
    public long GetForwardedBytes(FaultDirection direction) =>
        Interlocked.Read(ref _forwarded[(int)direction]);

    /// <summary>
    /// How many bytes the proxy read in one direction and did not forward (past a byte limit, after a half-close, or held
    /// when the connection ended), over every connection. May be read from any thread.
    /// </summary>
    /// <param name="direction">The direction.</param>
    /// <returns>The bytes dropped so far.</returns>
    public long GetDroppedBytes(FaultDirection direction) =>
        Interlocked.Read(ref _dropped[(int)direction]);

    /// <summary>
    /// How many bytes the proxy holds in one direction right now, waiting out a delay, over every connection. May be read
    /// from any thread.
    /// </summary>
    /// <param name="direction">The direction.</param>
    /// <returns>The bytes read and not yet forwarded (nor dropped).</returns>
    public long GetHeldBytes(FaultDirection direction) =>
        Interlocked.Read(ref _held[(int)direction]);

    /// <summary>
    /// Stops listening, closes every proxied connection at once (both sides; held bytes are dropped), and waits until they
    /// are closed; a proxy started on its own loop then disposes that loop. Idempotent; may be called from any thread.
    /// </summary>
    /// <returns>A task that completes when the proxy is closed.</returns>
    public ValueTask DisposeAsync()
    {
        lock (_disposeGate)
        {
            if (_disposal is null)
            {
                _disposing.Cancel();
                _disposal = Loop.IsClosed ? Task.CompletedTask : Loop.IsOnLoopThread ? CloseAsync() : Loop.RunCoroutineThreadSafe(CloseAsync);
            }
        }

        return new ValueTask(FinishDisposalAsync());
    }

    /// <inheritdoc/>
    /// <returns>For example "FaultProxy(127.0.0.1:40123 → 127.0.0.1:8080, Connections=1, ClientToUpstream=none, UpstreamToClient=latency=50ms)".</returns>
    public override string ToString() =>
        $"FaultProxy({ListenEndPoint} → {_upstream}, Connections={ConnectionCount}, ClientToUpstream={_clientToUpstream}, UpstreamToClient={_upstreamToClient})";

    /// <summary>Opens a connection to the upstream for one client, its protocol made by <paramref name="protocolFactory"/>.</summary>
    internal Task ConnectUpstreamAsync(Func<IProtocol> protocolFactory)
    {
        CancellationToken cancellationToken = _disposing.Token;
        return _upstream switch
        {
            IPEndPoint ip => Loop.CreateConnectionAsync(protocolFactory, ip.Address.ToString(), ip.Port, _upstreamOptions, cancellationToken),
            DnsEndPoint dns => Loop.CreateConnectionAsync(protocolFactory, dns.Host, dns.Port, _upstreamOptions with { AddressFamily = dns.AddressFamily }, cancellationToken),
            _ => Loop.CreateUnixConnectionAsync(protocolFactory, _upstream.ToString()!, _upstreamOptions, cancellationToken),
        };
    }

    /// <summary>A client was accepted: remember its connection, unless the proxy is being disposed.</summary>
    internal bool Attach(ProxyConnection connection)
    {
        if (_disposing.IsCancellationRequested)
        {
            return false;
        }

        _connections.Add(connection);
        Interlocked.Increment(ref _accepted);
        Interlocked.Increment(ref _connectionCount);
        return true;
    }

    /// <summary>Both sides of a connection are closed: forget it.</summary>
    internal void Detach(ProxyConnection connection)
    {
        if (_connections.Remove(connection))
        {
            Interlocked.Decrement(ref _connectionCount);
            if (_connections.Count == 0)
            {
                _allForgotten?.TrySetResult();
            }
        }
    }

    internal void CountFailedConnect(Exception error)
    {
        _lastConnectError = error;
        Interlocked.Increment(ref _failedConnects);
    }

    internal void CountForwarded(FaultDirection direction, long bytes) => Count(_forwarded, direction, bytes);

    internal void CountHeld(FaultDirection direction, long delta) => Count(_held, direction, delta);

    internal void CountDropped(FaultDirection direction, long bytes) => Count(_dropped, direction, bytes);

    private static void Count(long[] counters, FaultDirection direction, long delta)
    {
        if (delta != 0)
        {
            Interlocked.Add(ref counters[(int)direction], delta);
        }
    }

    private static void CheckUpstream(EndPoint upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        if (upstream is not (IPEndPoint or DnsEndPoint or UnixDomainSocketEndPoint))
        {
            throw new ArgumentException($"The upstream must be an IPEndPoint, a DnsEndPoint or a UnixDomainSocketEndPoint; got {upstream.GetType().Name}.", nameof(upstream));
        }
    }

    private async Task<FaultProxy> ListenAsync(FaultProxyOptions options, CancellationToken cancellationToken)
    {
        ServerOptions serverOptions = options.ServerOptions ?? ServerOptions.Default;
        _server = options.ListenEndPoint is IPEndPoint ip
            ? await Loop.CreateServerAsync(() => new ProxyConnection(this).ClientSide, ip.Address.ToString(), ip.Port, serverOptions, cancellationToken).ConfigureAwait(false)
            : await Loop.CreateUnixServerAsync(() => new ProxyConnection(this).ClientSide, options.ListenEndPoint.ToString()!, serverOptions, cancellationToken).ConfigureAwait(false);
        ListenEndPoint = _server.Sockets[0].LocalEndPoint ?? options.ListenEndPoint;
        return this;
    }

    /// <summary>Runs on the loop: every open connection applies the faults just set.</summary>
    private void ApplyFaults()
    {
        foreach (ProxyConnection connection in _connections.ToArray())
        {
            connection.OnFaultsChanged();
        }
    }

    /// <summary>On the loop: stop listening, abort every connection, wait until all are forgotten.</summary>
    private async Task CloseAsync()
    {
        _server?.Close();
        if (_connections.Count > 0)
        {
            _allForgotten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            foreach (ProxyConnection connection in _connections.ToArray())
            {
                connection.Abort();
            }

            await _allForgotten.Task.ConfigureAwait(true);
        }
    }

    private async Task FinishDisposalAsync()
    {
        try
        {
            await _disposal!.ConfigureAwait(false);
        }
        finally
        {
            if (_ownsLoop)
            {
                await Loop.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
