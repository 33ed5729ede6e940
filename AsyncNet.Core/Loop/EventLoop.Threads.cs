// The cross-thread tools (asyncio's run_coroutine_threadsafe, run_in_executor, to_thread).
//
// Maintainer's overview
// - RunCoroutineThreadSafe posts the work to the loop (CallSoonThreadSafe) and hands back a task whose continuations
//   never run inline on the loop thread: code awaiting it from the thread pool resumes on the pool, code awaiting it
//   from another loop's task resumes on that loop (through its synchronization context). A blocking continuation can
//   therefore never stall this loop.
// - RunInExecutorAsync runs blocking work on the thread pool and completes its task on this loop's thread, so loop code
//   that awaits it resumes there without a second hop.
// - Work posted to the loop and not yet started when the loop closes is failed with ObjectDisposedException (Close
//   asks every dropped callback whose state is an IAbandonable), so no caller waits forever on a closed loop.

namespace AsyncNet.Loop;

public sealed partial class EventLoop
{
    /// <summary>
    /// Starts <paramref name="work"/> on the loop from any thread and returns a task for its outcome (asyncio's
    /// <c>run_coroutine_threadsafe</c>).
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The asynchronous work; it starts on the loop thread, and its awaits resume there.</param>
    /// <param name="cancellationToken">Cancels the work if it has not started yet (the task is then cancelled).</param>
    /// <returns>
    /// A task that completes as the work does. Its continuations never run inline on this loop's thread: awaited from
    /// the thread pool it resumes on the pool, awaited from a task of another loop it resumes on that loop.
    /// </returns>
    /// <remarks>
    /// May be called from any thread, also this loop's (the work then starts on the next iteration) and also before the
    /// loop runs (it starts when the loop does). If the loop closes before the work starts, the task fails with
    /// <see cref="ObjectDisposedException"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public Task<T> RunCoroutineThreadSafe<T>(Func<Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ThrowIfClosed();
        var call = new CrossThreadCall<T>(this, work, cancellationToken);
        call.Post();
        return call.Task;
    }

    /// <summary>
    /// Starts <paramref name="work"/> on the loop from any thread and returns a task for its outcome (asyncio's
    /// <c>run_coroutine_threadsafe</c>).
    /// </summary>
    /// <param name="work">The asynchronous work; it starts on the loop thread, and its awaits resume there.</param>
    /// <param name="cancellationToken">Cancels the work if it has not started yet (the task is then cancelled).</param>
    /// <returns>A task that completes as the work does; see <see cref="RunCoroutineThreadSafe{T}"/> for where its continuations run.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public Task RunCoroutineThreadSafe(Func<Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunCoroutineThreadSafe(
            async () =>
            {
                await work().ConfigureAwait(true);
                return true;
            },
            cancellationToken);
    }

    /// <summary>
    /// Runs blocking <paramref name="work"/> on the thread pool and completes the returned task on this loop's thread
    /// (asyncio's <c>run_in_executor</c> with the default executor).
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">Blocking work: file I/O, a synchronous API, CPU-heavy computation. It must not touch loop-bound objects.</param>
    /// <param name="cancellationToken">Cancels the work if it has not started on the pool yet; a running work item is not interrupted.</param>
    /// <returns>
    /// A task completed on the loop thread with the work's result or exception, so loop code awaiting it resumes there
    /// (continuations of other threads run on the pool, never inline on the loop). If the loop closes before the result is handed back, the task fails with <see cref="ObjectDisposedException"/>.
    /// </returns>
    /// <remarks>May be called from any thread.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public Task<T> RunInExecutorAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ThrowIfClosed();
        var result = new ExecutorResult<T>(this, cancellationToken);
        Task.Run(work, cancellationToken).ContinueWith(
            ExecutorResult<T>.s_handBack, result, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return result.Task;
    }

    /// <summary>Runs blocking <paramref name="work"/> on the thread pool, completing on the loop thread (asyncio's <c>to_thread</c>).</summary>
    /// <param name="work">Blocking work that must not touch loop-bound objects.</param>
    /// <param name="cancellationToken">Cancels the work if it has not started on the pool yet.</param>
    /// <returns>A task completed on the loop thread; see <see cref="RunInExecutorAsync{T}"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public Task ToThreadAsync(Action work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunInExecutorAsync(
            () =>
            {
                work();
                return true;
            },
            cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the loop: at once when called on the loop thread, else through
    /// <see cref="RunCoroutineThreadSafe{T}"/>. The entry points that any thread may call (connect, serve) start here.
    /// </summary>
    internal Task<T> InvokeAsync<T>(Func<Task<T>> work) => IsOnLoopThread ? work() : RunCoroutineThreadSafe(work);

    /// <summary>A callback whose loop closed before it could run, and that must tell someone (a waiting caller).</summary>
    internal interface IAbandonable
    {
        /// <summary>The loop closed with this callback still queued; called once, on the closing thread.</summary>
        void Abandon();
    }

    /// <summary>One <see cref="RunCoroutineThreadSafe{T}"/>: the work, posted to the loop, and the task its callers await.</summary>
    private sealed class CrossThreadCall<T>(EventLoop loop, Func<Task<T>> work, CancellationToken cancellationToken)
        : TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously), IAbandonable
    {
        private static readonly Action<object?> s_start = static state => ((CrossThreadCall<T>)state!).Start();

        public void Post()
        {
            if (!loop.TryCallSoonFromAnyThread(s_start, this))
            {
                Abandon();
            }
        }

        public void Abandon() =>
            TrySetException(new ObjectDisposedException(nameof(EventLoop), "The event loop closed before the work could start on it."));

        private void Start()
        {
            if (cancellationToken.IsCancellationRequested)
            {
                TrySetCanceled(cancellationToken);
                return;
            }

            Task<T> running;
            try
            {
                running = work();
            }
            catch (Exception ex)
            {
                TrySetException(ex);
                return;
            }

            running.ContinueWith(
                static (done, state) => ((CrossThreadCall<T>)state!).TrySetFrom(done),
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    /// <summary>The task of one <see cref="RunInExecutorAsync{T}"/>: completed on the loop thread with the pool's outcome.</summary>
    private sealed class ExecutorResult<T>(EventLoop loop, CancellationToken cancellationToken)
        : TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
private static readonly Action<object?> s_complete = static state => ((ExecutorResult<T>)state!).Complete();

        public static readonly Action<Task<T>, object?> s_handBack = static (done, state) =>
        {
            var result = (ExecutorResult<T>)state!;
            result._done = done;
            if (!result._loop.TryCallSoonFromAnyThread(s_complete, result))
            {
                result.TrySetException(new ObjectDisposedException(nameof(EventLoop), "The event loop closed before the work's result could be handed back to it."));
            }
        };

        private readonly EventLoop _loop = loop;
        private Task<T>? _done;

        private void Complete()
        {
            Task<T> done = _done!;
            if (done.IsCanceled)
            {
                TrySetCanceled(cancellationToken);
            }
            else if (done.IsFaulted)
            {
                TrySetException(done.Exception!.InnerExceptions);
            }
            else
            {
                TrySetResult(done.Result);
            }
        }
    }
}
