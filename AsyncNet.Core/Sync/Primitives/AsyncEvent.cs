using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// A loop-bound flag that tasks can wait for, asyncio's <c>Event</c>: <see cref="Set"/> wakes every waiter
/// and lets later waits through until <see cref="Clear"/>.
/// </summary>
/// <remarks>
/// Thread affinity: every member must be called on the loop's thread while it runs (or from any single thread
/// while it does not; the state properties are checked only in the loop's debug mode); awaits resume on the loop thread. A waiter woken by <see cref="Set"/> completes even if
/// <see cref="Clear"/> runs before it resumes; one whose token is cancelled before it resumes throws
/// <see cref="OperationCanceledException"/> (a broadcast has nothing to pass on).
/// </remarks>
public sealed class AsyncEvent
{
    private readonly WaiterQueue _waiters = new();

    // Invariant: _isSet ⇒ no waiter is queued (Set wakes them all; a wait on a set event does not queue).
    private bool _isSet;

    /// <summary>Creates an event bound to <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose tasks use the event.</param>
    /// <param name="initialState">Whether the event starts set; the default is <see langword="false"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    public AsyncEvent(EventLoop loop, bool initialState = false)
    {
        ArgumentNullException.ThrowIfNull(loop);
        Loop = loop;
        _isSet = initialState;
    }

    /// <summary>The loop the event is bound to.</summary>
    public EventLoop Loop { get; }

    /// <summary>Whether the event is set.</summary>
    public bool IsSet
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _isSet;
        }
    }

    /// <summary>How many tasks wait for the event.</summary>
    public int WaitingCount
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _waiters.Count;
        }
    }

    /// <summary>Sets the event and wakes every waiting task.</summary>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void Set()
    {
        Loop.VerifyAccess();
        if (_isSet)
        {
            return;
        }

        _isSet = true;
        while (_waiters.TryRemoveFirst(out WaiterNode? node))
        {
            ((Waiter)node).Wake();
        }
    }

    /// <summary>Clears the event: later waits block until the next <see cref="Set"/>.</summary>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void Clear()
    {
        Loop.VerifyAccess();
        _isSet = false;
    }

    /// <summary>Waits until the event is set.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the event is set; completed synchronously if it is set now.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first (through the returned task).</exception>
    public ValueTask WaitAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (_isSet)
        {
            return default;
        }

        var waiter = new Waiter(Loop, cancellationToken);
        _waiters.AddLast(waiter);
        waiter.RegisterCancellation();
        return waiter.AsVoidValueTask();
    }

    /// <inheritdoc/>
    public override string ToString() => $"AsyncEvent({(_isSet ? "Set" : "Unset")}, Waiting={_waiters.Count})";

    private sealed class Waiter(EventLoop loop, CancellationToken cancellationToken)
        : LoopWaiter<bool>(loop, cancellationToken)
    {
        protected override bool Accept() => true;
    }
}
