using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Interop;
using AsyncNet.Loop;

namespace AsyncNet.Transports;

/// <summary>
/// A listening stream server (asyncio's <c>Server</c>): accepts connections on one or more sockets and gives
/// each a protocol from its factory. Made by <see cref="StreamTransportFactory.CreateServerAsync{TProtocol}(EventLoop, Func{TProtocol}, string?, int, ServerOptions?, CancellationToken)"/>
/// or <see cref="StreamTransportFactory.CreateUnixServerAsync{TProtocol}(EventLoop, Func{TProtocol}, string, ServerOptions?, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Close"/> stops accepting and closes the listening sockets at once (a new connect is refused);
/// connections already accepted live on until they close. <see cref="WaitClosedAsync"/> completes when the
/// server is closed and every connection it accepted is lost (Python 3.12's rule).
/// </para>
/// <para>Every member must be called on the loop's thread, except the read-only properties and <see cref="DisposeAsync"/>.</para>
/// </remarks>
public sealed class Server : IAsyncDisposable
{
    /// <summary>The first pause of accepting after the process ran out of descriptors; each failed retry doubles it.</summary>
    private static readonly TimeSpan s_acceptRetryFirstDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest pause between accept retries while descriptors stay short (asyncio's ACCEPT_RETRY_DELAY).</summary>
    private static readonly TimeSpan s_acceptRetryMaxDelay = TimeSpan.FromSeconds(1);

    /// <summary>At most this many accepts per readiness of a listening socket, so a connect storm cannot starve established connections.</summary>
    private const int MaxAcceptsPerReady = 16;

    private static readonly Action<object?> s_acceptReady = static state => ((Listener)state!).Server.AcceptReady((Listener)state);
    private static readonly Action<object?> s_retryAccept = static state => ((Server)state!).ResumeAccepting();

    private readonly Listener[] _listeners;
    private readonly Func<IBaseProtocol> _protocolFactory;
    private readonly ServerOptions _options;
    private readonly string? _unixPath;
    private readonly HashSet<SocketStreamTransport> _connections = [];

    private bool _serving;
    private bool _closed;
    private bool _acceptPaused;
    private TaskCompletionSource? _closedSource;

    // Out of descriptors: the current pause between retries; zero when accepting works (the episode is over).
    private TimeSpan _acceptRetryDelay;

    // Written on the loop thread, read from any (a group's least-connections choice, reports).
    private volatile int _connectionCount;
    private long _acceptedCount;

    // Connections this server accepted or was handed that are gone again (lost, or refused before they were served);
    // only grows, so a group's acceptor can read it from its own thread without a torn pair of counts.
    private long _releasedCount;

    internal Server(EventLoop loop, IReadOnlyList<Socket> sockets, Func<IBaseProtocol> protocolFactory, ServerOptions options, string? unixPath)
    {
        Loop = loop;
        _listeners = new Listener[sockets.Count];
        for (int i = 0; i < sockets.Count; i++)
        {
            _listeners[i] = new Listener(this, sockets[i]);
        }

        _protocolFactory = protocolFactory;
        _options = options;
        _unixPath = unixPath;
    }

    /// <summary>The loop the server accepts on.</summary>
    public EventLoop Loop { get; }

    /// <summary>The listening sockets; empty once the server is closed.</summary>
    public IReadOnlyList<Socket> Sockets => _closed ? [] : Array.ConvertAll(_listeners, l => l.Socket);

    /// <summary>Whether the server is accepting connections.</summary>
    public bool IsServing => _serving;

    /// <summary>Whether <see cref="Close"/> has been called.</summary>
    public bool IsClosed => _closed;

    /// <summary>How many accepted connections are not lost yet. May be read from any thread.</summary>
    public int ConnectionCount => _connectionCount;

    /// <summary>How many connections this server has accepted (or been handed by its group's acceptor) in all. May be read from any thread.</summary>
    public long AcceptedCount => Interlocked.Read(ref _acceptedCount);

    /// <summary>
    /// How many of the connections accepted or handed here are gone again: lost, or refused before they were served.
    /// Only grows; read from any thread.
    /// </summary>
    internal long ReleasedCount => Interlocked.Read(ref _releasedCount);

    /// <summary>Whether accepting is paused because the process ran out of descriptors (it resumes by itself when some are free).</summary>
    public bool IsAcceptPaused => _acceptPaused;

    /// <summary>
    /// Where a group's acceptor sends what it accepts (hand-off distribution), or null to serve every accepted socket here.
    /// Called on this server's loop thread; takes ownership of the socket.
    /// </summary>
    internal Action<Socket>? HandOff { get; set; }

    /// <summary>Starts accepting connections; does nothing if the server already is.</summary>
    /// <exception cref="InvalidOperationException">The server is closed, or the call is not on the loop's thread.</exception>
    public void StartServing()
    {
        Loop.VerifyAccess();
        if (_closed)
        {
            throw new InvalidOperationException("The server is closed.");
        }

        if (_serving)
        {
            return;
        }

        _serving = true;
        if (!_acceptPaused)
        {
            AddReaders();
        }
    }

    /// <summary>
    /// Stops accepting and closes the listening sockets (and removes a Unix socket's path); accepted connections
    /// are left open. Idempotent.
    /// </summary>
    /// <exception cref="InvalidOperationException">The call is not on the loop's thread.</exception>
    public void Close()
    {
        Loop.VerifyAccess();
        if (_closed)
        {
            return;
        }

        _closed = true;
        if (_serving && !_acceptPaused)
        {
            RemoveReaders();
        }

        _serving = false;
        foreach (Listener listener in _listeners)
        {
            listener.Socket.Dispose();
        }

        if (_unixPath is not null)
        {
            try
            {
                File.Delete(_unixPath);
            }
            catch (IOException)
            {
                // Someone else removed or replaced it; nothing of ours is left to clean.
            }
            catch (UnauthorizedAccessException)
            {
                // Likewise: the path is no longer ours to remove.
            }
        }

        CompleteIfIdle();
    }

    /// <summary>Closes every accepted connection gracefully (each flushes, then closes).</summary>
    public void CloseClients()
    {
        Loop.VerifyAccess();
        foreach (SocketStreamTransport transport in _connections.ToArray())
        {
            transport.Close();
        }
    }

    /// <summary>Aborts every accepted connection (queued bytes are dropped).</summary>
    public void AbortClients()
    {
        Loop.VerifyAccess();
        foreach (SocketStreamTransport transport in _connections.ToArray())
        {
            transport.Abort();
        }
    }

    /// <summary>Completes when the server is closed and every connection it accepted has been lost.</summary>
    /// <param name="cancellationToken">Stops waiting (the server is unaffected).</param>
    /// <returns>A task that completes on the loop's thread.</returns>
    public Task WaitClosedAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        if (_closed && _connections.Count == 0)
        {
            return Task.CompletedTask;
        }

        // Asynchronous continuations: an awaiter resumes through the loop, never inside the callback that lost the last connection.
        Task closed = (_closedSource ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        return cancellationToken.CanBeCanceled ? closed.WaitAsync(cancellationToken) : closed;
    }

    /// <summary>Closes the server and waits as <see cref="WaitClosedAsync"/> does: until its connections are lost too.</summary>
    /// <returns>A task that completes when they are.</returns>
    /// <remarks>May be called from any thread: from another thread while the loop runs, the work is handed to the loop.</remarks>
    public ValueTask DisposeAsync() =>
        Loop.IsRunning && !Loop.IsOnLoopThread ? new ValueTask(Loop.RunCoroutineThreadSafe(DisposeOnLoopAsync)) : new ValueTask(DisposeOnLoopAsync());

    /// <inheritdoc/>
    public override string ToString()
    {
        string where = string.Join(", ", Array.ConvertAll(_listeners, l => l.Address));
        string state = _closed ? "Closed" : _serving ? _acceptPaused ? "AcceptPaused" : "Serving" : "NotServing";
        return $"Server({where}, {state}, Connections={_connections.Count})";
    }

    private Task DisposeOnLoopAsync()
    {
        Close();
        return WaitClosedAsync();
    }

    internal void Attach(SocketStreamTransport transport)
    {
        _connections.Add(transport);
        _connectionCount = _connections.Count;
    }

    internal void Detach(SocketStreamTransport transport)
    {
        if (_connections.Remove(transport))
        {
            _connectionCount = _connections.Count;
            Interlocked.Increment(ref _releasedCount);
            CompleteIfIdle();
        }
    }

    /// <summary>Serves a connection its group's acceptor accepted on another loop (hand-off); on this server's loop thread.</summary>
    internal void Adopt(Socket connection)
    {
        if (_closed)
        {
            // The group is shutting down: the connection was never served, so nothing it sent was acknowledged.
            Interlocked.Increment(ref _releasedCount);
            connection.Dispose();
            return;
        }

        Accepted(connection);
    }

    /// <summary>
    /// Shuts this server down for its group: stops accepting, closes every connection gracefully, aborts what is still
    /// open after <paramref name="gracePeriod"/>, and completes when every connection is lost. On the loop thread.
    /// </summary>
    internal async Task ShutdownAsync(TimeSpan gracePeriod)
    {
        Close();
        CloseClients();
        Task closed = WaitClosedAsync();
        if (!closed.IsCompleted)
        {
            Task graceOver = Loop.SleepAsync(gracePeriod);
            if (await Task.WhenAny(closed, graceOver).ConfigureAwait(true) != closed)
            {
                AbortClients();
            }
        }

        await closed.ConfigureAwait(true);
    }

    private void CompleteIfIdle()
    {
        if (_closed && _connections.Count == 0 && _closedSource is { } source)
        {
            _closedSource = null;
            source.TrySetResult();
        }
    }

    private void AddReaders()
    {
        foreach (Listener listener in _listeners)
        {
            Loop.AddReader(listener.Socket, s_acceptReady, listener);
        }
    }

    private void RemoveReaders()
    {
        foreach (Listener listener in _listeners)
        {
            Loop.RemoveReader(listener.Socket);
        }
    }

    private void ResumeAccepting()
    {
        if (!_acceptPaused)
        {
            return;
        }

        _acceptPaused = false;
        if (_serving)
        {
            AddReaders();
        }
    }

    private void AcceptReady(Listener listener)
    {
        if (!_serving || _acceptPaused)
        {
            return;
        }

        for (int i = 0; i < MaxAcceptsPerReady; i++)
        {
            // A protocol made for the last connection may have closed the server (and this socket) meanwhile.
            // After the first accept, ask before trying again: a would-block accept throws, and a poll is far cheaper.
            if (i > 0 && (!_serving || _acceptPaused || !listener.Socket.Poll(0, SelectMode.SelectRead)))
            {
                return;
            }

            Socket connection;
            try
            {
                connection = Kernel.Accept(listener.Socket);
            }
            catch (SocketException ex) when (IsPendingConnectionGone(ex.SocketErrorCode))
            {
                // Nothing pending after all, or the client's connection failed before we accepted it: not an error.
                return;
            }
            catch (SocketException ex)
            {
                // Out of descriptors or buffers, or an error nobody expects: never spin on (or report every wake-up of) a
                // listener that stays readable.
                PauseAccepting(ex, listener);
                return;
            }

            _acceptRetryDelay = TimeSpan.Zero;
            if (HandOff is { } handOff)
            {
                handOff(connection);
            }
            else
            {
                Accepted(connection);
            }
        }
    }

    /// <summary>
    /// The accept errors that mean nothing is pending or concern only the connection being accepted: it failed or gave up
    /// before we took it. Linux's accept(2) passes a new connection's pending network errors (ENETDOWN, EPROTO,
    /// ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH) and asks callers to retry as after EAGAIN.
    /// </summary>
    private static bool IsPendingConnectionGone(SocketError error) =>
        error is SocketError.WouldBlock or SocketError.Interrupted or SocketError.ConnectionAborted or SocketError.ConnectionReset
            or SocketError.NetworkDown or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.HostUnreachable
            or SocketError.ProtocolOption or SocketError.OperationNotSupported;

    /// <summary>
    /// Out of descriptors (EMFILE, ENFILE) or buffers (ENOBUFS, ENOMEM), or an unexpected error: the pending connection stays
    /// queued in the kernel. Accepting pauses instead of spinning on a listener that stays readable, and retries after a
    /// pause that doubles up to a second; the loop's exception handler hears of it once per episode, not once per retry,
    /// as a classified <see cref="NetworkException"/>.
    /// </summary>
    private void PauseAccepting(SocketException failure, Listener listener)
    {
        if (_acceptRetryDelay == TimeSpan.Zero)
        {
            NetworkException error = SocketErrors.Classify(failure, "accept", listener.Address);
            string until = failure.SocketErrorCode == SocketError.TooManyOpenSockets ? " until descriptors are free" : string.Empty;
            string message = $"Accept failed on {listener.Address} ({failure.SocketErrorCode}); accepting pauses and retries{until}";
            Loop.CallExceptionHandler(new LoopExceptionContext(message, error) { Source = this });
            _acceptRetryDelay = s_acceptRetryFirstDelay;
        }
        else
        {
            _acceptRetryDelay = TimeSpan.FromTicks(Math.Min(_acceptRetryDelay.Ticks * 2, s_acceptRetryMaxDelay.Ticks));
        }

        _acceptPaused = true;
        RemoveReaders();
        Loop.CallLater(_acceptRetryDelay, s_retryAccept, this);
    }

    private void Accepted(Socket connection)
    {
        Interlocked.Increment(ref _acceptedCount);
        IBaseProtocol protocol;
        try
        {
            if (connection.Blocking)
            {
                connection.Blocking = false;
            }

            SocketSetup.Configure(connection, _options);
            protocol = _protocolFactory();
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _releasedCount);
            connection.Dispose();
            Loop.CallExceptionHandler(new LoopExceptionContext("Setting up an accepted connection failed", ex) { Source = this });
            return;
        }

        try
        {
            SocketStreamTransport.Start(Loop, connection, protocol, _options, this, peer: null);
        }
        catch (ArgumentException ex)
        {
            // Start disposed the socket: the factory returned something that is not a stream protocol.
            Interlocked.Increment(ref _releasedCount);
            Loop.CallExceptionHandler(new LoopExceptionContext("The server's protocol factory returned an unusable protocol", ex) { Source = this });
        }
    }

    /// <summary>One listening socket and its server: the state of its accept callback.</summary>
    private sealed class Listener(Server server, Socket socket)
    {
        public Server Server { get; } = server;

        public Socket Socket { get; } = socket;

        public string Address { get; } = SocketErrors.Describe(socket.LocalEndPoint) ?? "?";
    }
}
