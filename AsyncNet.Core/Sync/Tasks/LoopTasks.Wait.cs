using AsyncNet.Loop;

namespace AsyncNet.Sync;

public static partial class LoopTasks
{
    /// <summary>
    /// Waits for some or all of <paramref name="tasks"/> (asyncio's <c>wait</c>) and returns which are done and
    /// which are pending. It does not cancel anything and does not throw the tasks' exceptions.
    /// </summary>
    /// <typeparam name="TTask">The task type (for example <c>Task&lt;int&gt;</c>), kept in the result.</typeparam>
    /// <param name="loop">The loop whose clock times <paramref name="timeout"/>.</param>
    /// <param name="tasks">The tasks; duplicates count once.</param>
    /// <param name="mode">When to return; the default is <see cref="WaitMode.AllCompleted"/>.</param>
    /// <param name="timeout">Return anyway after this long on the loop's clock; <see langword="null"/> (the default) for no limit. A timeout is not an error.</param>
    /// <param name="cancellationToken">Cancels the wait (not the tasks).</param>
    /// <returns>The done and pending sets, taken on the loop thread when the wait ends.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="tasks"/> or one task is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="tasks"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative, or <paramref name="mode"/> is not a defined value.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first (through the returned task).</exception>
    public static Task<WaitResult<TTask>> WaitAsync<TTask>(
        this EventLoop loop,
        IEnumerable<TTask> tasks,
        WaitMode mode = WaitMode.AllCompleted,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
        where TTask : Task
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(tasks);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Not a WaitMode value.");
        }

        if (timeout is { } t && t < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), t, "The timeout must be zero or more, or null for none.");
        }

        var set = new HashSet<TTask>(tasks);
        if (set.Contains(null!))
        {
            throw new ArgumentNullException(nameof(tasks), "A task is null.");
        }

        if (set.Count == 0)
        {
            throw new ArgumentException("There must be at least one task to wait for.", nameof(tasks));
        }

        loop.VerifyAccess();
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<WaitResult<TTask>>(cancellationToken);
        }

        return WaitCoreAsync(loop, set, mode, timeout, cancellationToken);
    }

    private static async Task<WaitResult<TTask>> WaitCoreAsync<TTask>(
        EventLoop loop, HashSet<TTask> tasks, WaitMode mode, TimeSpan? timeout, CancellationToken cancellationToken)
        where TTask : Task
    {
        if (!IsSatisfied(tasks, mode))
        {
            var wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            int remaining = tasks.Count;
            foreach (TTask task in tasks)
            {
                _ = task.ContinueWith(
                    t =>
                    {
                        bool last = Interlocked.Decrement(ref remaining) == 0;
                        if (last || mode == WaitMode.FirstCompleted || (mode == WaitMode.FirstException && t.IsFaulted))
                        {
                            wake.TrySetResult();
                        }
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }

            TimerHandle? timer = timeout is { } t ? loop.CallLater(t, static s => ((TaskCompletionSource)s!).TrySetResult(), wake) : null;
            CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static s => ((TaskCompletionSource)s!).TrySetResult(), wake);
            try
            {
                // Resumes on the loop (no ConfigureAwait(false)): the sets are taken on its thread.
                await wake.Task;
            }
            finally
            {
                timer?.Cancel();
                registration.Unregister();
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        var done = new HashSet<TTask>();
        var pending = new HashSet<TTask>();
        foreach (TTask task in tasks)
        {
            (task.IsCompleted ? done : pending).Add(task);
        }

        return new WaitResult<TTask>(done, pending);
    }

    private static bool IsSatisfied<TTask>(HashSet<TTask> tasks, WaitMode mode)
        where TTask : Task =>
        mode switch
        {
            WaitMode.FirstCompleted => tasks.Any(t => t.IsCompleted),
            WaitMode.FirstException => tasks.Any(t => t.IsFaulted) || tasks.All(t => t.IsCompleted),
            _ => tasks.All(t => t.IsCompleted),
        };
}
