using System.Net;
using AsyncNet.Loop;

namespace AsyncNet.Echo.Servers;

/// <summary>An AsyncNet echo server: an event loop on its own thread, serving one kind of echo until disposed.</summary>
/// <remarks>
/// Lifecycle: <see cref="StartAsync"/> starts the thread, which runs <see cref="ListenAsync"/> to completion and then
/// the loop forever; <see cref="DisposeAsync"/> asks the loop (thread-safely) to run <see cref="CloseAsync"/>, then stop;
/// the thread closes the loop and completes <c>_stopped</c>.
/// </remarks>
internal abstract class LoopEchoServer(EchoServerOptions options) : IEchoServer
{
    private readonly EventLoop _loop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    public abstract EchoServerKind Kind { get; }

    public virtual string Name => Kind.DisplayName();

    public IPEndPoint EndPoint { get; private set; } = new(IPAddress.None, 0);

    protected EventLoop Loop => _loop;

    protected EchoServerOptions Options => options;

    public static async Task<IEchoServer> StartAsync(LoopEchoServer server, string host, int port)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => server.Run(host, port, started)) { Name = $"{server.Name} echo loop", IsBackground = true };
        thread.Start();
        await started.Task.ConfigureAwait(false);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && !_stopped.Task.IsCompleted)
        {
            try
            {
                _loop.CallSoonThreadSafe(static state => ((LoopEchoServer)state!).BeginStop(), this);
            }
            catch (ObjectDisposedException)
            {
                // The loop already closed: the thread has stopped or is stopping.
            }
        }

        await _stopped.Task.ConfigureAwait(false);
    }

    public override string ToString() => $"{Name} echo server on {EndPoint}";

    /// <summary>Starts listening; runs on the loop thread.</summary>
    /// <returns>The endpoint of the first listening socket.</returns>
    protected abstract Task<IPEndPoint> ListenAsync(string host, int port);

    /// <summary>
    /// Closes gracefully on the loop thread: stop accepting, close every connection (flushing), wait up to
    /// <paramref name="grace"/>, abort what is left, and wait until everything is closed.
    /// </summary>
    protected abstract Task CloseAsync(TimeSpan grace);

    /// <summary>
    /// The graceful close every loop server does: <paramref name="close"/> (stop accepting), <paramref name="closeClients"/>
    /// (each connection flushes, then closes), wait up to <paramref name="grace"/> on the loop's clock,
    /// <paramref name="abortClients"/> if connections are left, then wait until <paramref name="waitClosed"/> completes.
    /// </summary>
    protected async Task CloseGracefullyAsync(Action close, Action closeClients, Action abortClients, Func<Task> waitClosed, TimeSpan grace)
    {
        close();
        closeClients();
        Task closed = waitClosed();
        if (!closed.IsCompleted)
        {
            await Task.WhenAny(closed, _loop.SleepAsync(grace));
        }

        if (!closed.IsCompleted)
        {
            abortClients();
        }

        await waitClosed();
    }

    private void Run(string host, int port, TaskCompletionSource started)
    {
        try
        {
            EndPoint = _loop.RunUntilComplete(() => ListenAsync(host, port));
        }
        catch (Exception ex)
        {
            _loop.Close();
            _stopped.TrySetResult();
            started.TrySetException(ex);
            return;
        }

        started.TrySetResult();
        try
        {
            _loop.RunForever();
        }
        finally
        {
            _loop.Close();
            _stopped.TrySetResult();
        }
    }

    private void BeginStop() => _loop.CreateTask(StopAsync);

    private async Task StopAsync()
    {
        try
        {
            await CloseAsync(options.ShutdownGrace);
        }
        catch (Exception ex)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext($"The {Name} echo server failed to close", ex) { Source = this });
        }
        finally
        {
            _loop.Stop();
        }
    }
}
