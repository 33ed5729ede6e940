using AsyncNet.Diagnostics;

namespace AsyncNet.Loop;

public sealed partial class EventLoop
{
    private static readonly Action<object?> s_stopLoop = static state => ((EventLoop)state!).Stop();

    /// <summary>Creates a pending <see cref="Future{T}"/> bound to this loop.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <returns>The future.</returns>
    public Future<T> CreateFuture<T>() => new(this);

    /// <summary>
    /// Starts <paramref name="work"/> on the loop thread on the next iteration; every <c>await</c> inside it
    /// resumes on the loop thread (asyncio's <c>create_task</c>).
    /// </summary>
    /// <param name="work">The asynchronous work.</param>
    /// <param name="cancellationToken">Cancels the work if it has not started yet.</param>
    /// <returns>A task that completes as the work does.</returns>
    /// <remarks>
    /// May be called from any thread. Inside the work <see cref="TaskScheduler.Current"/> is
    /// <see cref="TaskScheduler.Default"/>: the loop's scheduler is hidden, so <c>Task.Factory.StartNew</c> and
    /// <c>ContinueWith</c> without an explicit scheduler go to the thread pool, as they do anywhere else (a blocking
    /// "long-running" task started there must never run on, and stall, the loop thread). In debug mode
    /// (<see cref="EventLoopOptions.Debug"/>) a task that fails and is garbage-collected without anyone observing its
    /// exception is reported to the loop's exception handler as "Task exception was never retrieved".
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public Task CreateTask(Func<Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ThrowIfClosed();
        Task task = Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.DenyChildAttach | TaskCreationOptions.HideScheduler, _taskScheduler).Unwrap();
        return _debug ? UnretrievedTaskExceptions.Watch<bool>(this, task) : task;
    }

    /// <summary>
    /// Starts <paramref name="work"/> on the loop thread on the next iteration; every <c>await</c> inside it
    /// resumes on the loop thread (asyncio's <c>create_task</c>).
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The asynchronous work.</param>
    /// <param name="cancellationToken">Cancels the work if it has not started yet.</param>
    /// <returns>A task that completes as the work does.</returns>
    /// <remarks>
    /// May be called from any thread. Inside the work <see cref="TaskScheduler.Current"/> is
    /// <see cref="TaskScheduler.Default"/>: the loop's scheduler is hidden, so <c>Task.Factory.StartNew</c> and
    /// <c>ContinueWith</c> without an explicit scheduler go to the thread pool, as they do anywhere else (a blocking
    /// "long-running" task started there must never run on, and stall, the loop thread). In debug mode
    /// (<see cref="EventLoopOptions.Debug"/>) a task that fails and is garbage-collected without anyone observing its
    /// exception is reported to the loop's exception handler as "Task exception was never retrieved".
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public Task<T> CreateTask<T>(Func<Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ThrowIfClosed();
        Task<T> task = Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.DenyChildAttach | TaskCreationOptions.HideScheduler, _taskScheduler).Unwrap();
        return _debug ? UnretrievedTaskExceptions.Watch<T>(this, task) : task;
    }

    /// <summary>Runs the loop until <paramref name="task"/> completes, then rethrows its exception, if any.</summary>
    /// <param name="task">The task; usually one from <see cref="CreateTask(Func{Task}, CancellationToken)"/>.</param>
    /// <exception cref="InvalidOperationException">The loop was stopped before the task completed, or is already running.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public void RunUntilComplete(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        RunUntilDone(task);
        task.GetAwaiter().GetResult();
    }

    /// <summary>Runs the loop until <paramref name="task"/> completes, then returns its result or rethrows its exception.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="task">The task.</param>
    /// <returns>The task's result.</returns>
    /// <exception cref="InvalidOperationException">The loop was stopped before the task completed, or is already running.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public T RunUntilComplete<T>(Task<T> task)
    {
        ArgumentNullException.ThrowIfNull(task);
        RunUntilDone(task);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Starts <paramref name="work"/> with <see cref="CreateTask(Func{Task}, CancellationToken)"/> and runs the loop until it completes.</summary>
    /// <param name="work">The asynchronous work.</param>
    /// <exception cref="InvalidOperationException">The loop was stopped before the work completed, or is already running.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public void RunUntilComplete(Func<Task> work) => RunUntilComplete(CreateTask(work));

    /// <summary>Starts <paramref name="work"/> with <see cref="CreateTask{T}(Func{Task{T}}, CancellationToken)"/> and runs the loop until it completes.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The asynchronous work.</param>
    /// <returns>The work's result.</returns>
    /// <exception cref="InvalidOperationException">The loop was stopped before the work completed, or is already running.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public T RunUntilComplete<T>(Func<Task<T>> work) => RunUntilComplete(CreateTask(work));

    /// <summary>Runs the loop until <paramref name="future"/> is done, then returns its result or rethrows its exception.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="future">A future bound to this loop.</param>
    /// <returns>The future's result.</returns>
    /// <exception cref="ArgumentException">The future belongs to another loop.</exception>
    /// <exception cref="OperationCanceledException">The future was cancelled.</exception>
    /// <exception cref="InvalidOperationException">The loop was stopped before the future was done, or is already running.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public T RunUntilComplete<T>(Future<T> future)
    {
        ArgumentNullException.ThrowIfNull(future);
        if (future.Loop != this)
        {
            throw new ArgumentException("The future is bound to another event loop.", nameof(future));
        }

        if (!future.IsDone)
        {
            Action<Future> stop = _ => Stop();
            future.AddDoneCallback(stop);
            try
            {
                RunForever();
            }
            finally
            {
                future.RemoveDoneCallback(stop);
            }

            if (!future.IsDone)
            {
                throw new InvalidOperationException("The event loop stopped before the future completed.");
            }
        }

        return future.Result;
    }

    /// <summary>Completes after <paramref name="delay"/> on the loop's clock (asyncio's <c>sleep</c>).</summary>
    /// <param name="delay">How long to wait; zero or negative completes on the next iteration that handles timers.</param>
    /// <param name="cancellationToken">Cancels the wait: the timer is removed and the task is cancelled.</param>
    /// <returns>A task that completes on the loop thread when the time has passed.</returns>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public Task SleepAsync(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var sleep = new SleepOperation(cancellationToken);
        sleep.Timer = CallLater(delay, SleepOperation.s_complete, sleep);
        if (cancellationToken.CanBeCanceled)
        {
            sleep.Registration = cancellationToken.UnsafeRegister(SleepOperation.s_cancel, sleep);
        }

        return sleep.Task;
    }

    /// <summary>Runs the loop until <paramref name="task"/> is done; throws if the loop stopped first.</summary>
    private void RunUntilDone(Task task)
    {
        if (task.IsCompleted)
        {
            return;
        }

        ThrowIfClosed();
        if (IsRunning)
        {
            throw new InvalidOperationException("This event loop is already running.");
        }

        // The stopper is disarmed on return so a task that completes after a later run began cannot stop that run.
        var stopper = new LoopStopper(this);
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(stopper.Fire);
        try
        {
            RunForever();
        }
        finally
        {
            stopper.Disarm();
        }

        if (!task.IsCompleted)
        {
            throw new InvalidOperationException("The event loop stopped before the work completed.");
        }
    }

    private sealed class LoopStopper(EventLoop loop)
    {
        private volatile bool _armed = true;

        public void Fire()
        {
            if (_armed)
            {
                loop.Stop();
            }
        }

        public void Disarm() => _armed = false;
    }

    /// <summary>One pending <see cref="SleepAsync"/>: a task, its timer and its cancellation registration.</summary>
    private sealed class SleepOperation(CancellationToken cancellationToken) : TaskCompletionSource(TaskCreationOptions.None)
    {
        public static readonly Action<object?> s_complete = static state =>
        {
            var sleep = (SleepOperation)state!;
            sleep.Registration.Dispose();
            sleep.TrySetResult();
        };

        public static readonly Action<object?, CancellationToken> s_cancel = static (state, _) =>
        {
            var sleep = (SleepOperation)state!;

            // The token may fire on any thread; the timer's Cancel is thread-safe and the loop drops it lazily.
            sleep.Timer?.Cancel();
            sleep.TrySetCanceled(sleep.CancellationToken);
        };

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public TimerHandle? Timer { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}
