// EventLoopGroup: N loops, each on a thread of its own (Netty's EventLoopGroup, Kestrel's I/O queues).
//
// Maintainer's overview
// - The loops start together in the constructor and stop together in ShutdownAsync/DisposeAsync. Every loop reports
//   to the group's one exception handler. Next() hands out loops round-robin for clients.
// - Servers started on the group (StreamTransportFactory and the stream/framed endpoints) register a shutdown hook:
//   shutdown first stops their accepting and closes their connections gracefully with a grace period, then aborts
//   what is left, and only then stops the loops. The loop layer knows nothing of servers; it runs the hooks.
// - A connection belongs to one loop for its whole life: everything of it keeps the single-thread guarantees of a loop.

namespace AsyncNet.Loop;

/// <summary>
/// A group of event loops, each on a dedicated thread, started and stopped together: the way to use every core.
/// Servers started on the group spread their connections over its loops; <see cref="Next"/> picks a loop for a client.
/// </summary>
/// <remarks>
/// <para>
/// Every member may be called from any thread. A connection never moves between loops, so everything of one connection
/// (its protocol's callbacks, its stream handler's continuations) runs on that connection's loop thread, as on a
/// single loop.
/// </para>
/// <para>
/// Shutdown (<see cref="ShutdownAsync"/>, or <see cref="DisposeAsync"/> with <see cref="EventLoopGroupOptions.ShutdownGracePeriod"/>):
/// servers stop accepting; their connections are closed gracefully (written bytes are flushed); after the grace period
/// what is still open is aborted; then every loop stops and closes. Connections made with <see cref="Next"/> are closed
/// by their owners; the group closes only what its servers accepted.
/// </para>
/// </remarks>
public sealed class EventLoopGroup : IAsyncDisposable
{
    private readonly EventLoop[] _loops;
    private readonly List<Func<TimeSpan, Task>> _shutdownHooks = [];
    private readonly Lock _lock = new();
    private int _next = -1;
    private Task? _shutdown;
    private Action<EventLoop, LoopExceptionContext>? _exceptionHandler;

    /// <summary>Starts the loops of a new group.</summary>
    /// <param name="options">The group's settings; <see langword="null"/> for the defaults (one loop per processor).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public EventLoopGroup(EventLoopGroupOptions? options = null)
    {
        Options = options ?? EventLoopGroupOptions.Default;
        Options.Validate(nameof(options));
        int count = Options.LoopCount ?? Environment.ProcessorCount;
        _loops = new EventLoop[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                EventLoop loop = EventLoop.StartOnNewThread(Options.LoopOptions, $"{Options.ThreadNamePrefix} {i}");
                loop.ExceptionHandler = ReportFromLoop;
                _loops[i] = loop;
            }
        }
        catch
        {
            foreach (EventLoop? started in _loops)
            {
                started?.DisposeAsync().AsTask().Wait();
            }

            throw;
        }
    }

    /// <summary>The group's settings.</summary>
    public EventLoopGroupOptions Options { get; }

    /// <summary>The loops, in a fixed order (the index is a loop's number in thread names and reports).</summary>
    public IReadOnlyList<EventLoop> Loops => _loops;

    /// <summary>Whether shutdown has begun.</summary>
    public bool IsShuttingDown => Volatile.Read(ref _shutdown) is not null;

    /// <summary>
    /// Receives the exceptions that no caller can observe, from every loop of the group (a throwing callback, a failed
    /// transport), with the loop they happened on. The default, <see langword="null"/>, uses each loop's
    /// <see cref="EventLoop.DefaultExceptionHandler"/>.
    /// </summary>
    public Action<EventLoop, LoopExceptionContext>? ExceptionHandler
    {
        get => Volatile.Read(ref _exceptionHandler);
        set => Volatile.Write(ref _exceptionHandler, value);
    }

    /// <summary>The next loop, round-robin: where to open a client connection or start loop work.</summary>
    /// <returns>A loop of the group.</returns>
    /// <exception cref="ObjectDisposedException">The group is shut down.</exception>
    public EventLoop Next()
    {
        ObjectDisposedException.ThrowIf(IsShuttingDown, this);
        uint index = (uint)Interlocked.Increment(ref _next);
        return _loops[index % (uint)_loops.Length];
    }

    /// <summary>
    /// Shuts the group down: servers stop accepting and close their connections gracefully; after
    /// <paramref name="gracePeriod"/> the rest are aborted; then every loop stops and closes. Idempotent: later calls
    /// return the first call's task.
    /// </summary>
    /// <param name="gracePeriod">How long connections may take to flush and close before they are aborted.</param>
    /// <returns>A task that completes when every loop is closed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gracePeriod"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Called on one of the group's own loop threads (it would wait for itself).</exception>
    public Task ShutdownAsync(TimeSpan gracePeriod)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gracePeriod, TimeSpan.Zero);
        if (Array.Exists(_loops, l => l.IsOnLoopThread))
        {
            throw new InvalidOperationException("Shut the group down from a thread that is not one of its loops: it waits for every loop to stop.");
        }

        lock (_lock)
        {
            return _shutdown ??= ShutdownCoreAsync(gracePeriod);
        }
    }

    /// <summary>Shuts the group down with <see cref="EventLoopGroupOptions.ShutdownGracePeriod"/> (see <see cref="ShutdownAsync"/>).</summary>
    /// <returns>A task that completes when every loop is closed.</returns>
    public ValueTask DisposeAsync() => new(ShutdownAsync(Options.ShutdownGracePeriod));

    /// <inheritdoc/>
    /// <returns>For example "EventLoopGroup(Loops=4, Running)".</returns>
    public override string ToString() => $"EventLoopGroup(Loops={_loops.Length}, {(IsShuttingDown ? "ShuttingDown" : "Running")})";

    /// <summary>
    /// Registers what a server started on the group must do at shutdown (stop accepting, close gracefully within the
    /// grace period, abort the rest); hooks run before the loops stop.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The group is shutting down.</exception>
    internal void AddShutdownHook(Func<TimeSpan, Task> hook)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_shutdown is not null, this);
            _shutdownHooks.Add(hook);
        }
    }

    private void ReportFromLoop(EventLoop loop, LoopExceptionContext context)
    {
        if (ExceptionHandler is { } handler)
        {
            handler(loop, context);
        }
        else
        {
            loop.DefaultExceptionHandler(context);
        }
    }

    private async Task ShutdownCoreAsync(TimeSpan gracePeriod)
    {
        Func<TimeSpan, Task>[] hooks;
        lock (_lock)
        {
            hooks = [.. _shutdownHooks];
        }

        Task servers = Task.WhenAll(hooks.Select(hook => hook(gracePeriod)));
        try
        {
            await servers.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            foreach (Exception failure in servers.Exception?.InnerExceptions ?? [ex])
            {
                _loops[0].DefaultExceptionHandler(new LoopExceptionContext("A server failed to shut down with its group", failure));
            }
        }

        await Task.WhenAll(_loops.Select(l => l.DisposeAsync().AsTask())).ConfigureAwait(false);
    }
}
