using System.Runtime.ExceptionServices;
using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// A loop-bound condition variable, asyncio's <c>Condition</c>: tasks holding its <see cref="Lock"/> wait for
/// a notification, releasing the lock meanwhile and holding it again when they return.
/// </summary>
/// <remarks>
/// <para>
/// Thread affinity: every member must be called on the loop's thread while it runs (or from any single thread
/// while it does not; the state properties are checked only in the loop's debug mode); awaits resume on the loop thread.
/// </para>
/// <para>
/// Notifications wake waiters in FIFO order. A waiter notified and then cancelled before it resumes passes its
/// notification to the next waiter, so <see cref="Notify"/>(n) never wakes fewer than n live waiters. Every
/// wait returns holding the lock, also when it throws (cancelled): the caller's <c>using</c> releases it.
/// </para>
/// </remarks>
public sealed class AsyncCondition
{
    private readonly WaiterQueue _waiters = new();

    /// <summary>Creates a condition with its own lock, or over <paramref name="lock"/> (shared by several conditions).</summary>
    /// <param name="loop">The loop whose tasks use the condition.</param>
    /// <param name="lock">The lock; <see langword="null"/> (the default) for a new one.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="lock"/> is bound to another loop.</exception>
    public AsyncCondition(EventLoop loop, AsyncLock? @lock = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        if (@lock is not null && @lock.Loop != loop)
        {
            throw new ArgumentException("The lock is bound to another event loop.", nameof(@lock));
        }

        Loop = loop;
        Lock = @lock ?? new AsyncLock(loop);
    }

    /// <summary>The loop the condition is bound to.</summary>
    public EventLoop Loop { get; }

    /// <summary>The lock a task must hold to wait or notify.</summary>
    public AsyncLock Lock { get; }

    /// <summary>Whether <see cref="Lock"/> is held.</summary>
    public bool IsLocked => Lock.IsLocked;

    /// <summary>How many tasks wait for a notification.</summary>
    public int WaitingCount
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _waiters.Count;
        }
    }

    /// <summary>Acquires <see cref="Lock"/> (see <see cref="AsyncLock.AcquireAsync"/>).</summary>
    /// <param name="cancellationToken">Cancels the wait for the lock.</param>
    /// <returns>A releaser that releases the lock when disposed.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before the lock was acquired (through the returned task).</exception>
    public ValueTask<AsyncLock.Releaser> AcquireAsync(CancellationToken cancellationToken = default) => Lock.AcquireAsync(cancellationToken);

    /// <summary>Releases <see cref="Lock"/>.</summary>
    /// <exception cref="InvalidOperationException">The lock is not held, or called from another thread while the loop runs.</exception>
    public void Release() => Lock.Release();

    /// <summary>Releases the lock, waits for a notification, then acquires the lock again.</summary>
    /// <param name="cancellationToken">
    /// Cancels the wait for the notification; the lock is re-acquired before the cancellation is thrown, and a
    /// notification received before it was seen passes to the next waiter.
    /// </param>
    /// <returns>A task that completes, holding the lock, once notified.</returns>
    /// <exception cref="InvalidOperationException">The lock is not held, or called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (through the returned task, after re-acquiring the lock).</exception>
    public ValueTask WaitAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        ThrowIfNotLocked("wait on");
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        // The caller's releaser was issued for this holding; the lock is restored to it after the wait.
        long holding = Lock.Generation;

        // Release first: nothing else runs on the loop thread before the waiter is queued just below, so no
        // notification can fall in between (asyncio's order too).
        Lock.Release();
        var waiter = new Waiter(this, cancellationToken);
        _waiters.AddLast(waiter);
        waiter.RegisterCancellation();
        return WaitCoreAsync(waiter, holding);
    }

    /// <summary>Waits until <paramref name="predicate"/> is true, re-checking it after every notification.</summary>
    /// <param name="predicate">Evaluated with the lock held; checked first, before any wait.</param>
    /// <param name="cancellationToken">Cancels the wait, as for <see cref="WaitAsync"/>.</param>
    /// <returns>A task that completes, holding the lock, once the predicate is true.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="predicate"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The lock is not held, or called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled (through the returned task, after re-acquiring the lock).</exception>
    public ValueTask WaitForAsync(Func<bool> predicate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        Loop.VerifyAccess();
        ThrowIfNotLocked("wait on");
        return predicate() ? default : WaitForCoreAsync(predicate, cancellationToken);
    }

    /// <summary>Wakes up to <paramref name="count"/> waiting tasks, longest-waiting first.</summary>
    /// <param name="count">How many to wake; the default is 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">The lock is not held, or called from another thread while the loop runs.</exception>
    public void Notify(int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Loop.VerifyAccess();
        ThrowIfNotLocked("notify");
        NotifyCore(count);
    }

    /// <summary>Wakes every waiting task.</summary>
    /// <exception cref="InvalidOperationException">The lock is not held, or called from another thread while the loop runs.</exception>
    public void NotifyAll() => Notify(int.MaxValue);

    /// <inheritdoc/>
    public override string ToString() => $"AsyncCondition({(Lock.IsLockedUnchecked ? "Locked" : "Unlocked")}, Waiting={_waiters.Count})";

    private void NotifyCore(int count)
    {
        while (count > 0 && _waiters.TryRemoveFirst(out WaiterNode? node))
        {
            var waiter = (Waiter)node;
            if (waiter.Token.IsCancellationRequested)
            {
                waiter.WakeCancelled();
                continue;
            }

            waiter.Wake();
            count--;
        }
    }

    private void ThrowIfNotLocked(string what)
    {
        if (!Lock.IsHeld)
        {
            throw new InvalidOperationException($"Cannot {what} an AsyncCondition without holding its lock.");
        }
    }

    private async ValueTask WaitCoreAsync(Waiter waiter, long holding)
    {
        ExceptionDispatchInfo? failure = null;
        try
        {
            await waiter.AsVoidValueTask();
        }
        catch (OperationCanceledException ex)
        {
            failure = ExceptionDispatchInfo.Capture(ex);
        }

        // Uninterruptibly, as asyncio does: the caller's code after the wait (and its using) assumes the lock.
        await Lock.AcquireAsync(CancellationToken.None);
        Lock.Generation = holding;
        failure?.Throw();
    }

    private async ValueTask WaitForCoreAsync(Func<bool> predicate, CancellationToken cancellationToken)
    {
        do
        {
            await WaitAsync(cancellationToken);
        }
        while (!predicate());
    }

    private sealed class Waiter(AsyncCondition owner, CancellationToken cancellationToken)
        : LoopWaiter<bool>(owner.Loop, cancellationToken)
    {
        // Notified, then cancelled before resuming: the notification goes to the next waiter.
        protected override void PassOn() => owner.NotifyCore(1);

        protected override bool Accept() => true;
    }
}
