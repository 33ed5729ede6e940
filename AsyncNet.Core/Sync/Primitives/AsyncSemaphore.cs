using System.Diagnostics;
using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// A loop-bound counting semaphore, asyncio's <c>Semaphore</c>: <see cref="AcquireAsync"/> takes a permit,
/// waiting in FIFO order while there is none; <see cref="Release"/> gives one back.
/// </summary>
/// <remarks>
/// <para>
/// Thread affinity: every member must be called on the loop's thread while it runs (or from any single thread
/// while it does not; the state properties are checked only in the loop's debug mode); awaits resume on the loop thread.
/// </para>
/// <para>
/// A release hands its permit straight to the longest-waiting task; if that task's token is cancelled before
/// it resumes, the permit passes to the next waiter or back to the count. An unbounded semaphore accepts any
/// number of releases; <see cref="AsyncBoundedSemaphore"/> rejects a release past its initial count.
/// </para>
/// </remarks>
public class AsyncSemaphore
{
    private readonly WaiterQueue _waiters = new();

    // Invariant: _count > 0 ⇒ no waiter is queued (a release hands its permit to a waiter before counting it).
    private int _count;

    /// <summary>Creates a semaphore with <paramref name="initialCount"/> permits.</summary>
    /// <param name="loop">The loop whose tasks use the semaphore.</param>
    /// <param name="initialCount">The number of permits; the default is 1 (asyncio's).</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initialCount"/> is negative.</exception>
    public AsyncSemaphore(EventLoop loop, int initialCount = 1)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegative(initialCount);
        Loop = loop;
        _count = initialCount;
    }

    /// <summary>The loop the semaphore is bound to.</summary>
    public EventLoop Loop { get; }

    /// <summary>The permits available now.</summary>
    public int CurrentCount
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _count;
        }
    }

    /// <summary>Whether an acquire would wait: no permit is available (asyncio's <c>locked()</c>).</summary>
    public bool IsLocked
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _count == 0;
        }
    }

    /// <summary>How many tasks wait for a permit.</summary>
    public int WaitingCount
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _waiters.Count;
        }
    }

    /// <summary>Takes a permit, waiting in FIFO order while there is none.</summary>
    /// <param name="cancellationToken">Cancels the wait; a permit handed over before the cancellation is seen passes on.</param>
    /// <returns>A task that completes when the permit is taken; completed synchronously when one is available.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before a permit was taken (through the returned task).</exception>
    public ValueTask AcquireAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (_count > 0)
        {
            _count--;
            return default;
        }

        var waiter = new Waiter(this, cancellationToken);
        _waiters.AddLast(waiter);
        waiter.RegisterCancellation();
        return waiter.AsVoidValueTask();
    }

    /// <summary>Takes a permit if one is available, without waiting.</summary>
    /// <returns>Whether a permit was taken.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public bool TryAcquire()
    {
        Loop.VerifyAccess();
        if (_count == 0)
        {
            return false;
        }

        _count--;
        return true;
    }

    /// <summary>Gives a permit back, to the longest-waiting task if there is one.</summary>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="SemaphoreFullException">A bounded semaphore already holds all its permits.</exception>
    public void Release()
    {
        Loop.VerifyAccess();
        CheckRelease();
        HandOver();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}(Count={_count}{DescribeBound()}, Waiting={_waiters.Count})";

    /// <summary>What a subclass adds to <see cref="ToString"/> after the count (it reads fields: no thread check in a description).</summary>
    private protected virtual string DescribeBound() => string.Empty;

    /// <summary>Lets a bounded semaphore reject a release before anything changes.</summary>
    private protected virtual void CheckRelease()
    {
    }

    /// <summary>Gives one permit to the first waiter whose token is not cancelled, or counts it.</summary>
    private void HandOver()
    {
        while (_waiters.TryRemoveFirst(out WaiterNode? node))
        {
            var waiter = (Waiter)node;
            if (waiter.Token.IsCancellationRequested)
            {
                waiter.WakeCancelled();
                continue;
            }

            waiter.Wake();
            return;
        }

        _count++;
        AssertInvariants();
    }

    [Conditional("DEBUG")]
    private void AssertInvariants() =>
        Debug.Assert(_count == 0 || _waiters.IsEmpty, "Permits are counted only when no task waits for one");

    private sealed class Waiter(AsyncSemaphore owner, CancellationToken cancellationToken)
        : LoopWaiter<bool>(owner.Loop, cancellationToken)
    {
        // The permit was handed over at the wake; cancelled before resuming, the caller gives it back.
        protected override void PassOn() => owner.HandOver();

        protected override bool Accept() => true;
    }
}
