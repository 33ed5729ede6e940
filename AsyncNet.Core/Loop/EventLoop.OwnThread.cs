// A loop on a thread of its own: the one-line way to use AsyncNet from ordinary .NET code.
//
// Maintainer's overview
// - StartOnNewThread makes the loop, starts a dedicated (background) thread that runs RunForever, and returns once the
//   loop runs, so IsOnLoopThread and the any-thread entry points see a running loop from the first call on.
// - DisposeAsync stops the loop and closes it on its own thread as RunForever returns (a loop closes only when it is
//   not running), then completes. Called on the loop thread itself it cannot wait for its own end: it stops the loop
//   and lets the thread close it as it unwinds.
// - States: no own thread (_ownThreadExit null) → running on its own thread → stopped and closed (_ownThreadExit done).

namespace AsyncNet.Loop;

public sealed partial class EventLoop : IAsyncDisposable
{
    // Set when the loop runs on a thread it started itself: completes once that thread has closed the loop.
    private TaskCompletionSource? _ownThreadExit;
    private volatile bool _closeWhenStopped;

    /// <summary>
    /// Makes a loop and runs it on a new dedicated thread; returns once the loop runs. Dispose it with
    /// <c>await using</c> to stop and close it.
    /// </summary>
    /// <param name="options">The loop's settings; <see langword="null"/> for the defaults.</param>
    /// <param name="threadName">The thread's name, as debuggers and profilers show it. The default is "AsyncNet event loop".</param>
    /// <returns>The running loop.</returns>
    /// <remarks>
    /// <para>
    /// The thread is a background thread: it does not keep the process alive. From other threads use the members that
    /// may be called from any thread (connect and serve, <see cref="RunCoroutineThreadSafe{T}"/>,
    /// <see cref="CallSoonThreadSafe(Action)"/>, the stream readers and writers); everything else runs as loop code,
    /// inside work handed to the loop.
    /// </para>
    /// <example>
    /// <code>
    /// await using var loop = EventLoop.StartOnNewThread();
    /// var (reader, writer) = await loop.OpenConnectionAsync("127.0.0.1", 9000);   // from any thread
    /// </code>
    /// </example>
    /// </remarks>
    public static EventLoop StartOnNewThread(EventLoopOptions? options = null, string? threadName = null)
    {
        var loop = new EventLoop(options);
        try
        {
            loop.StartOwnThread(threadName ?? "AsyncNet event loop");
        }
        catch
        {
            loop.Close();
            throw;
        }

        return loop;
    }

    /// <summary>
    /// Stops and closes the loop. A loop started with <see cref="StartOnNewThread"/> is stopped from any thread and
    /// closed on its own thread, and the task completes once it is; any other loop is closed as <see cref="Close"/> does.
    /// </summary>
    /// <returns>A task that completes when the loop is closed (at once when called on the loop's own thread, which closes it as it unwinds).</returns>
    /// <exception cref="InvalidOperationException">The loop runs on a thread it did not start itself (stop it first).</exception>
    public ValueTask DisposeAsync()
    {
        TaskCompletionSource? exit = _ownThreadExit;
        if (exit is null)
        {
            Close();
            return default;
        }

        _closeWhenStopped = true;
        Stop();
        return IsOnLoopThread ? default : new ValueTask(exit.Task);
    }

    private void StartOwnThread(string threadName)
    {
        var exit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var running = new ManualResetEventSlim();

        // Runs in the first iteration: from then on the loop is running and its thread id is set.
        CallSoon(static state => ((ManualResetEventSlim)state!).Set(), running);
        var thread = new Thread(() => RunOwnThread(exit)) { IsBackground = true, Name = threadName };
        _ownThreadExit = exit;
        thread.Start();
        running.Wait();
    }

    private void RunOwnThread(TaskCompletionSource exit)
    {
        try
        {
            // Stop() before disposal only pauses the loop: run on until someone disposes it.
            while (!_closeWhenStopped && !IsClosed)
            {
                RunForever();
            }
        }
        catch (Exception ex)
        {
            // RunForever reports callback exceptions itself; this is the loop machinery failing (a broken selector).
            DefaultExceptionHandler(new LoopExceptionContext("The event loop's own thread ended with an exception", ex));
        }
        finally
        {
            Close();
            exit.TrySetResult();
        }
    }
}
