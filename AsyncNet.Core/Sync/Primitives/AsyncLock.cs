using System.Diagnostics;
using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// A loop-bound mutual-exclusion lock for tasks, asyncio's <c>Lock</c>: FIFO-fair and not reentrant.
/// Used as <c>using (await gate.AcquireAsync(ct)) { … }</c>.
/// </summary>
/// <remarks>
/// <para>
/// Thread affinity: every member must be called on the loop's thread while it runs (or from any single thread
/// while it does not; the state properties are checked only in the loop's debug mode); awaits resume on the loop thread. The lock has no owner identity: any task may release
/// it, as in asyncio, and a task that acquires it twice waits for itself.
/// </para>
/// <para>
/// Fairness: a release hands the lock straight to the longest-waiting task, so a task that calls
/// <see cref="AcquireAsync"/> meanwhile queues behind it. If that waiter's token is cancelled before it
/// resumes, the lock passes to the next waiter (or becomes free): a cancelled waiter never swallows a release.
/// </para>
/// </remarks>
public sealed class AsyncLock
{
    private readonly WaiterQueue _waiters = new();

    // Invariants: !_locked ⇒ no waiter is queued (a release hands over before unlocking). _locked stays true
    // while the lock is in transit to a woken waiter, so nobody can barge in between wake and resume.
    private bool _locked;

    // True from a hand-over until the woken waiter resumes: nobody holds the lock meanwhile, so a Release then
    // is always a bug (it would let the waiter resume as a second holder).
    private bool _inTransit;

    // Identifies the current holding, so a Releaser disposed twice (or after a plain Release) cannot release
    // a later holder's lock. Every grant takes a fresh number from _issued, which only grows; the condition
    // may set _generation back to the number its waiter's releaser carries.
    private long _generation;
    private long _issued;

    /// <summary>Creates an unlocked lock bound to <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose tasks use the lock.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    public AsyncLock(EventLoop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        Loop = loop;
    }

    /// <summary>The loop the lock is bound to.</summary>
    public EventLoop Loop { get; }

    /// <summary>Whether the lock is held (or being handed to a woken waiter).</summary>
    public bool IsLocked
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _locked;
        }
    }

    /// <summary>Whether a task holds the lock: locked, and not in transit to a woken waiter.</summary>
    internal bool IsHeld => _locked && !_inTransit;

    /// <summary>How many tasks wait to acquire the lock.</summary>
    public int WaitingCount
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _waiters.Count;
        }
    }

    /// <summary>The current holding's generation; the condition restores it after re-acquiring for a waiter.</summary>
    internal long Generation
    {
        get => _generation;
        set => _generation = value;
    }

    /// <summary>Acquires the lock, waiting in FIFO order while another task holds it.</summary>
    /// <param name="cancellationToken">Cancels the wait; a lock handed over before the cancellation is seen passes to the next waiter.</param>
    /// <returns>A releaser whose <see cref="Releaser.Dispose"/> releases the lock; completed synchronously when the lock is free.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled before the lock was acquired (through the returned task).</exception>
    public ValueTask<Releaser> AcquireAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<Releaser>(cancellationToken);
        }

        if (TryAcquire(out Releaser releaser))
        {
            return new ValueTask<Releaser>(releaser);
        }

        var waiter = new Waiter(this, cancellationToken);
        _waiters.AddLast(waiter);
        waiter.RegisterCancellation();
        AssertInvariants();
        return waiter.AsValueTask();
    }

    /// <summary>Acquires the lock if it is free, without waiting.</summary>
    /// <param name="releaser">Releases the lock when disposed; default when the lock was not acquired.</param>
    /// <returns>Whether the lock was acquired.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public bool TryAcquire(out Releaser releaser)
    {
        Loop.VerifyAccess();
        if (_locked)
        {
            releaser = default;
            return false;
        }

        _locked = true;
        _generation = ++_issued;
        releaser = new Releaser(this, _generation);
        return true;
    }

    /// <summary>Releases the lock, handing it to the longest-waiting task if there is one.</summary>
    /// <remarks>
    /// The lock has no owner identity, so any task may release it; but while it is being handed to a woken task
    /// that has not resumed yet nobody holds it, and a release then throws like the release of an unlocked lock.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The lock is not held, or called from another thread while the loop runs.</exception>
    public void Release()
    {
        Loop.VerifyAccess();
        if (!_locked)
        {
            throw new InvalidOperationException("Cannot release an AsyncLock that is not locked.");
        }

        if (_inTransit)
        {
            throw new InvalidOperationException("Cannot release an AsyncLock that is being handed to a waiting task: nobody holds it until that task resumes.");
        }

        HandOver();
    }

    /// <summary><see cref="IsLocked"/> without debug mode's thread check: for descriptions, which any thread may ask for.</summary>
    internal bool IsLockedUnchecked => _locked;

    /// <inheritdoc/>
    public override string ToString() =>
        $"AsyncLock({(_inTransit ? "HandingOver" : _locked ? "Locked" : "Unlocked")}, Waiting={_waiters.Count})";

    /// <summary>Gives the lock to the first waiter whose token is not cancelled, or unlocks it.</summary>
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

            _generation = ++_issued;
            _inTransit = true;
            waiter.Wake();
            AssertInvariants();
            return;
        }

        _locked = false;
        AssertInvariants();
    }

    private void ReleaseIfHolding(long generation)
    {
        Loop.VerifyAccess();
        if (_locked && _generation == generation)
        {
            HandOver();
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_locked || _waiters.IsEmpty, "An unlocked lock has no queued waiter: a release hands over before unlocking");
        Debug.Assert(_locked || !_inTransit, "A lock in transit to a waiter is locked");
    }

    /// <summary>Releases the lock when disposed; returned by <see cref="AcquireAsync"/>.</summary>
    /// <remarks>
    /// Disposing releases only the holding it was created for: a second dispose, or one after the lock was
    /// released with <see cref="Release"/>, does nothing. <c>default(Releaser)</c> does nothing either.
    /// </remarks>
    public readonly struct Releaser : IDisposable
    {
        private readonly AsyncLock? _lock;
        private readonly long _generation;

        internal Releaser(AsyncLock gate, long generation)
        {
            _lock = gate;
            _generation = generation;
        }

        /// <summary>Releases the lock if this releaser's holding is still current.</summary>
        /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
        public void Dispose() => _lock?.ReleaseIfHolding(_generation);
    }

    private sealed class Waiter(AsyncLock owner, CancellationToken cancellationToken)
        : LoopWaiter<Releaser>(owner.Loop, cancellationToken)
    {
        // The lock was handed over at the wake; the caller was cancelled before resuming, so it moves on.
        protected override void PassOn()
        {
            owner._inTransit = false;
            owner.HandOver();
        }

        protected override Releaser Accept()
        {
            owner._inTransit = false;
            return new(owner, owner._generation);
        }
    }
}
