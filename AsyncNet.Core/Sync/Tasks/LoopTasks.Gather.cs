using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using AsyncNet.Loop;

namespace AsyncNet.Sync;

public static partial class LoopTasks
{
    /// <summary>
    /// Runs <paramref name="children"/> concurrently and returns their results in order (asyncio's
    /// <c>gather</c>). The first child to fail fails the gather at once with its exception; the others keep
    /// running unless <paramref name="cancelOnFailure"/> is set.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="loop">The loop.</param>
    /// <param name="children">The children, each called at once with a token the gather cancels.</param>
    /// <param name="cancelOnFailure">
    /// On the first failure, cancel the other children and wait for them to finish before throwing; the default,
    /// <see langword="false"/>, leaves them running (asyncio's rule).
    /// </param>
    /// <param name="cancellationToken">Cancels every child; the gather then waits for all of them and throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The results, in the order of <paramref name="children"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="children"/> or one child is null.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled, or a child ended cancelled (through the returned task).</exception>
    /// <exception cref="Exception">The first child's exception, as thrown (through the returned task).</exception>
    public static Task<T[]> GatherAsync<T>(
        this EventLoop loop,
        IEnumerable<Func<CancellationToken, Task<T>>> children,
        bool cancelOnFailure = false,
        CancellationToken cancellationToken = default)
    {
        Func<CancellationToken, Task<T>>[] list = ValidateChildren(loop, children);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T[]>(cancellationToken);
        }

        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<T>[] tasks = StartAll(list, source.Token);
        return GatherCoreAsync(tasks, source, cancelOnFailure, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="children"/> concurrently and returns how each ended, in order, without throwing for
    /// their failures (asyncio's <c>gather(return_exceptions=True)</c>).
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="loop">The loop.</param>
    /// <param name="children">The children, each called at once with a token the gather cancels.</param>
    /// <param name="cancellationToken">Cancels every child; the gather then waits for all of them and throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>One outcome per child, in the order of <paramref name="children"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/>, <paramref name="children"/> or one child is null.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (through the returned task).</exception>
    public static Task<Outcome<T>[]> GatherOutcomesAsync<T>(
        this EventLoop loop,
        IEnumerable<Func<CancellationToken, Task<T>>> children,
        CancellationToken cancellationToken = default)
    {
        Func<CancellationToken, Task<T>>[] list = ValidateChildren(loop, children);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<Outcome<T>[]>(cancellationToken);
        }

        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<T>[] tasks = StartAll(list, source.Token);
        return GatherOutcomesCoreAsync(tasks, source, cancellationToken);
    }

    private static Func<CancellationToken, Task<T>>[] ValidateChildren<T>(EventLoop loop, IEnumerable<Func<CancellationToken, Task<T>>> children)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(children);
        Func<CancellationToken, Task<T>>[] list = children.ToArray();
        if (Array.IndexOf(list, null) >= 0)
        {
            throw new ArgumentNullException(nameof(children), "A child is null.");
        }

        loop.VerifyAccess();
        return list;
    }

    private static Task<T>[] StartAll<T>(Func<CancellationToken, Task<T>>[] children, CancellationToken cancellationToken)
    {
        var tasks = new Task<T>[children.Length];
        for (int i = 0; i < children.Length; i++)
        {
            tasks[i] = Start(children[i], cancellationToken);
        }

        return tasks;
    }

    // No ConfigureAwait(false) in these cores: they resume on the loop, so children are cancelled on its thread.
    private static async Task<T[]> GatherCoreAsync<T>(Task<T>[] tasks, CancellationTokenSource source, bool cancelOnFailure, CancellationToken cancellationToken)
    {
        bool settled = false;
        try
        {
            var watch = new CompletionWatch<T>(tasks, stopAtFirstFailure: true, cancellationToken);
            Task<T>? failed = await watch.Task;
            watch.Unregister();
            if (cancellationToken.IsCancellationRequested)
            {
                // The linked source is cancelled already; asyncio's rule: the gather's own cancellation wins.
                await AllSettled(tasks);
                settled = true;
                throw new OperationCanceledException(cancellationToken);
            }

            if (failed is null)
            {
                settled = true;
                var results = new T[tasks.Length];
                for (int i = 0; i < tasks.Length; i++)
                {
                    results[i] = tasks[i].Result;
                }

                return results;
            }

            if (cancelOnFailure)
            {
                // Synchronously, on the loop thread: children's token callbacks expect to run there.
                source.Cancel();
                await AllSettled(tasks);
                settled = true;
            }

            ThrowOutcome(failed);
            throw new InvalidOperationException("Unreachable: a failed child always throws.");
        }
        finally
        {
            DisposeWhenSettled(tasks, source, settled);
        }
    }

    private static async Task<Outcome<T>[]> GatherOutcomesCoreAsync<T>(Task<T>[] tasks, CancellationTokenSource source, CancellationToken cancellationToken)
    {
        try
        {
            var watch = new CompletionWatch<T>(tasks, stopAtFirstFailure: false, cancellationToken);
            await watch.Task;
            watch.Unregister();
            await AllSettled(tasks);
            cancellationToken.ThrowIfCancellationRequested();
            var outcomes = new Outcome<T>[tasks.Length];
            for (int i = 0; i < tasks.Length; i++)
            {
                outcomes[i] = Outcome<T>.FromCompletedTask(tasks[i]);
            }

            return outcomes;
        }
        finally
        {
            source.Dispose();
        }
    }

    /// <summary>Awaits every task without throwing, resuming on the caller's context (the loop).</summary>
    private static ConfiguredTaskAwaitable AllSettled<T>(Task<T>[] tasks) =>
        Task.WhenAll((IEnumerable<Task>)tasks).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);

    private static void ThrowOutcome<T>(Task<T> failed)
    {
        if (failed.IsCanceled)
        {
            failed.GetAwaiter().GetResult();
        }

        ExceptionDispatchInfo.Throw(failed.Exception!.InnerExceptions[0]);
    }

    /// <summary>Disposes the children's token source once no child can use it any more.</summary>
    private static void DisposeWhenSettled<T>(Task<T>[] tasks, CancellationTokenSource source, bool settled)
    {
        if (settled)
        {
            source.Dispose();
        }
        else
        {
            _ = Task.WhenAll(tasks).ContinueWith(static (_, s) => ((CancellationTokenSource)s!).Dispose(), source, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Completes with null when every task succeeded, with the first task (in completion order) that failed or
    /// was cancelled when <c>stopAtFirstFailure</c>, or with null when the token is cancelled. Thread-safe: the
    /// children may complete on any thread.
    /// </summary>
    private sealed class CompletionWatch<T>
    {
        private readonly TaskCompletionSource<Task<T>?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly bool _stopAtFirstFailure;
        private int _remaining;
        private CancellationTokenRegistration _registration;

        public CompletionWatch(Task<T>[] tasks, bool stopAtFirstFailure, CancellationToken cancellationToken)
        {
            _stopAtFirstFailure = stopAtFirstFailure;
            _remaining = tasks.Length;
            if (tasks.Length == 0)
            {
                _done.TrySetResult(null);
                return;
            }

            foreach (Task<T> task in tasks)
            {
                task.ContinueWith(static (t, s) => ((CompletionWatch<T>)s!).OnCompleted(t), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(static s => ((CompletionWatch<T>)s!)._done.TrySetResult(null), this);
            }
        }

        public Task<Task<T>?> Task => _done.Task;

        public void Unregister() => _registration.Unregister();

        private void OnCompleted(Task<T> task)
        {
            if (_stopAtFirstFailure && !task.IsCompletedSuccessfully)
            {
                _done.TrySetResult(task);
            }
            else if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _done.TrySetResult(null);
            }
        }
    }
}
