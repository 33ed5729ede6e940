using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Streams;

/// <summary>
/// A server that runs a handler with a <see cref="StreamReader"/> and a <see cref="StreamWriter"/> for each connection
/// (asyncio's <c>start_server</c> result). Made by <see cref="StreamEndpoints.StartServerAsync(EventLoop, Func{StreamReader, StreamWriter, Task}, string?, int, StreamOptions?, ServerOptions?, CancellationToken)"/> and
/// <see cref="StreamEndpoints.StartUnixServerAsync(EventLoop, Func{StreamReader, StreamWriter, Task}, string, StreamOptions?, ServerOptions?, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each handler starts on the loop thread on the iteration after its connection is made. When its task completes the
/// connection's writer is closed (flushed, then closed); if it failed, the exception goes to the loop's exception
/// handler first.
/// </para>
/// <para>
/// Graceful close: <see cref="ShutdownAsync"/> stops accepting, lets every running handler finish, and waits until every
/// connection is closed; if its token fires first, it closes every connection's writer, so handlers see EOF on their
/// readers, and waits for them. <see cref="Close"/> alone only stops accepting.
/// </para>
/// <para>Every member must be called on the loop's thread, except the read-only properties, <see cref="ShutdownAsync"/> and <see cref="DisposeAsync"/>.</para>
/// </remarks>
public sealed class StreamServer : IAsyncDisposable
{
    private readonly EventLoop _loop;
    private readonly Func<StreamReader, StreamWriter, Task> _handler;
    private readonly HashSet<Task> _handlers = [];
    private readonly List<StreamWriter> _writers = [];
    private Server? _server;

    internal StreamServer(EventLoop loop, Func<StreamReader, StreamWriter, Task> handler)
    {
        _loop = loop;
        _handler = handler;
    }

    /// <summary>The loop the server runs on.</summary>
    public EventLoop Loop => _loop;

    /// <summary>The transport-level server: listening sockets, connection count, <see cref="Server.CloseClients"/>.</summary>
    public Server Server => _server ?? throw new InvalidOperationException("The server is not started yet.");

    /// <summary>The listening sockets; empty once the server is closed.</summary>
    public IReadOnlyList<Socket> Sockets => Server.Sockets;

    /// <summary>Whether the server is accepting connections.</summary>
    public bool IsServing => _server?.IsServing ?? false;

    /// <summary>How many handlers are running.</summary>
    public int ActiveHandlers => _handlers.Count;

    /// <summary>Stops accepting and closes the listening sockets; running handlers and their connections go on. Idempotent.</summary>
    /// <exception cref="InvalidOperationException">The call is not on the loop's thread.</exception>
    public void Close() => Server.Close();

    /// <summary>Closes every connection's writer (each flushes, then closes); their handlers' reads then see EOF.</summary>
    /// <exception cref="InvalidOperationException">The call is not on the loop's thread.</exception>
    public void CloseClients()
    {
        _loop.VerifyAccess();
        foreach (StreamWriter writer in _writers.ToArray())
        {
            writer.Close();
        }
    }

    /// <summary>Aborts every connection (queued bytes are dropped); their handlers' reads then see EOF.</summary>
    /// <exception cref="InvalidOperationException">The call is not on the loop's thread.</exception>
    public void AbortClients() => Server.AbortClients();

    /// <summary>Completes when the server is closed, every handler has finished and every connection is closed.</summary>
    /// <param name="cancellationToken">Stops waiting (the server is unaffected).</param>
    /// <returns>A task that completes on the loop thread.</returns>
    /// <exception cref="InvalidOperationException">The call is not on the loop's thread.</exception>
    public Task WaitClosedAsync(CancellationToken cancellationToken = default)
    {
        _loop.VerifyAccess();
        Task closed = WaitClosedCoreAsync();
        return cancellationToken.CanBeCanceled && !closed.IsCompleted ? closed.WaitAsync(cancellationToken) : closed;
    }

    /// <summary>
    /// Shuts the server down gracefully: stops accepting, lets running handlers finish (their writers are closed as each
    /// one does), and completes when every connection is closed.
    /// </summary>
    /// <param name="cancellationToken">
    /// Ends the grace period: every connection's writer is closed (handlers' reads see EOF) and the task still waits for
    /// the handlers and connections to finish.
    /// </param>
    /// <returns>A task that completes when the server, its handlers and its connections are all done.</returns>
    /// <remarks>May be called from any thread: from another thread while the loop runs, the work is handed to the loop.</remarks>
    public Task ShutdownAsync(CancellationToken cancellationToken = default) =>
        _loop.IsRunning && !_loop.IsOnLoopThread
            ? _loop.RunCoroutineThreadSafe(() => ShutdownOnLoopAsync(cancellationToken))
            : ShutdownOnLoopAsync(cancellationToken);

    /// <summary>Closes the server and waits as <see cref="WaitClosedAsync"/> does.</summary>
    /// <returns>A task that completes when the server, its handlers and its connections are done.</returns>
    /// <remarks>May be called from any thread: from another thread while the loop runs, the work is handed to the loop.</remarks>
    public ValueTask DisposeAsync() =>
        new(_loop.IsRunning && !_loop.IsOnLoopThread ? _loop.RunCoroutineThreadSafe(DisposeOnLoopAsync) : DisposeOnLoopAsync());

    private async Task ShutdownOnLoopAsync(CancellationToken cancellationToken)
    {
        Close();
        Task handlers = Task.WhenAll(_handlers);
        try
        {
            await handlers.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            CloseClients();
        }

        await WaitClosedCoreAsync();
    }

    private async Task DisposeOnLoopAsync()
    {
        Close();
        await WaitClosedCoreAsync();
    }

    /// <inheritdoc/>
    public override string ToString() => $"StreamServer({_server?.ToString() ?? "starting"}, Handlers={_handlers.Count})";

    internal void Attach(Server server) => _server = server;

    internal StreamProtocol CreateProtocol(StreamOptions options) => new(_loop, options, Connected);

    /// <summary>A connection is made (inside ConnectionMade): start its handler on the next iteration.</summary>
    private void Connected(StreamReader reader, StreamWriter writer)
    {
        _writers.Add(writer);
        Task handler = _loop.CreateTask(() => RunHandlerAsync(reader, writer));
        if (!handler.IsCompleted)
        {
            _handlers.Add(handler);
            _ = ForgetWhenDoneAsync(handler);
        }
    }

    /// <summary>
    /// Runs one connection's handler as every stream server does: a failure goes to the loop's exception handler, and the
    /// writer is closed when the handler ends, however it ends. Never fails itself.
    /// </summary>
    internal static async Task RunHandlerAsync(EventLoop loop, Func<StreamReader, StreamWriter, Task> handler, StreamReader reader, StreamWriter writer, object source)
    {
        try
        {
            await handler(reader, writer);
        }
        catch (Exception ex)
        {
            loop.CallExceptionHandler(new LoopExceptionContext("Unhandled exception in a stream server's handler", ex) { Source = source });
        }
        finally
        {
            writer.Close();
        }
    }

    private async Task RunHandlerAsync(StreamReader reader, StreamWriter writer)
    {
        try
        {
            await RunHandlerAsync(_loop, _handler, reader, writer, this);
        }
        finally
        {
            _writers.Remove(writer);
        }
    }

    private async Task ForgetWhenDoneAsync(Task handler)
    {
        // RunHandlerAsync never fails: it reports the handler's exception itself.
        await handler;
        _handlers.Remove(handler);
    }

    private async Task WaitClosedCoreAsync()
    {
        // Handlers first: each closes its writer when it ends, which is what lets the connections close.
        while (_handlers.Count > 0)
        {
            await Task.WhenAll(_handlers.ToArray());
        }

        if (_server is { } server)
        {
            await server.WaitClosedAsync();
        }
    }
}
