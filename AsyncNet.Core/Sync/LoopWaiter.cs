using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;
using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// One pending wait on a loop-bound primitive (lock, semaphore, event, condition, queue): the source behind
/// the <see cref="ValueTask"/> the caller awaits, a node in the primitive's FIFO, and the place where the
/// rule "a cancelled waiter never loses a wake-up" is enforced.
/// </summary>
/// <remarks>
/// <para>
/// Maintainer's overview. A wait is two-phase, like asyncio's, where a woken task only learns what it got
/// when it next runs:
/// </para>
/// <list type="number">
/// <item><b>Wake</b> (inside the owner's <c>Release</c>/<c>Put</c>/<c>Set</c>…): the owner takes the waiter out of
/// its queue and hands it something at once — the lock, a permit, an item, a slot, a notification — or an
/// error (shut down). Handing over at wake time is what makes the primitives FIFO-fair: no caller that
/// arrives between the wake and the resume can barge in.</item>
/// <item><b>Settle</b> (a loop callback scheduled by the wake; the "resume"): if the caller's token was cancelled
/// by then, the grant goes back to the owner (<see cref="PassOn"/>), which gives it to the next waiter, and
/// the caller sees <see cref="OperationCanceledException"/>; otherwise the owner finalises the grant
/// (<see cref="Accept"/>) and the caller gets the result. The continuation then runs inline, in the same
/// loop callback, so an await costs one iteration as with a <see cref="Future"/>.</item>
/// </list>
/// <para>
/// A token that fires while the waiter is still queued removes it (on the loop thread, marshalled from
/// whatever thread cancelled) and completes it cancelled; nothing was granted, so nothing passes on.
/// </para>
/// <para>
/// States (<see cref="_status"/>): <c>Queued</c> → <c>Woken</c> → <c>Done</c>, or <c>Queued</c> → <c>Done</c> on a
/// cancellation; never backwards. The status, the grant and the wake error are written only under the owner's
/// synchronisation (<see cref="SyncRoot"/>, or the loop thread when it is <see langword="null"/>); completion
/// and the continuation run on the loop thread outside any lock. Single use: one await per waiter.
/// </para>
/// </remarks>
/// <typeparam name="TResult">What the awaiter receives.</typeparam>
internal abstract class LoopWaiter<TResult> : WaiterNode, IValueTaskSource<TResult>, IValueTaskSource
{
    private static readonly Action<object?, CancellationToken> s_onTokenCancelled =
        static (state, _) => ((LoopWaiter<TResult>)state!).PostCancellation();

    private static readonly Action<object?> s_cancelOnLoop = static state => ((LoopWaiter<TResult>)state!).CancelIfQueued();
    private static readonly Action<object?> s_settle = static state => ((LoopWaiter<TResult>)state!).Settle();
    private static readonly Action<object?> s_runContinuation = static state => ((LoopWaiter<TResult>)state!).RunContinuation();
    private static readonly ContextCallback s_runInContext = static state => ((LoopWaiter<TResult>)state!).InvokeContinuation();

    private Status _status;

    // Whether the wake handed over something (lock, permit, item, slot, notification) that must be passed on
    // if the waiter turns out to be cancelled when it settles. False for a wake with an error or a wake that
    // found the token already cancelled.
    private bool _granted;
    private Exception? _wakeError;

    private bool _completed;
    private TResult? _result;
    private ExceptionDispatchInfo? _error;

    private Action<object?>? _continuation;
    private object? _continuationState;
    private ExecutionContext? _executionContext;
    private CancellationTokenRegistration _registration;

    protected LoopWaiter(EventLoop loop, CancellationToken cancellationToken)
    {
        Loop = loop;
        Token = cancellationToken;
    }

    private enum Status : byte
    {
        Queued,
        Woken,
        Done,
    }

    /// <summary>The loop whose thread settles this waiter and runs its continuation.</summary>
    public EventLoop Loop { get; }

    /// <summary>The caller's token.</summary>
    public CancellationToken Token { get; }

    /// <summary>Whether the waiter is still waiting in its owner's queue (nothing handed over yet).</summary>
    public bool IsQueued => _status == Status.Queued;

    /// <summary>Whether the waiter was woken and has not settled yet.</summary>
    public bool IsWoken => _status == Status.Woken;

    /// <summary>The value task the caller awaits.</summary>
    public ValueTask<TResult> AsValueTask() => new(this, 0);

    /// <summary>The value task the caller awaits, without a result.</summary>
    public ValueTask AsVoidValueTask() => new(this, 0);

    /// <summary>
    /// The owner's lock, held while the waiter settles or is cancelled; <see langword="null"/> for owners used
    /// only on the loop thread (lock, event, loop queue), which need none.
    /// </summary>
    protected virtual object? SyncRoot => null;

    /// <summary>Arms the cancellation token. Call once, after the owner has queued the waiter.</summary>
    public void RegisterCancellation()
    {
        if (Token.CanBeCanceled)
        {
            _registration = Token.UnsafeRegister(s_onTokenCancelled, this);
        }
    }

    /// <summary>The owner took the waiter out of its queue and handed it what it waited for.</summary>
    public void Wake()
    {
        Debug.Assert(_status == Status.Queued, "Only a queued waiter can be woken");
        _granted = true;
        _status = Status.Woken;
        ScheduleSettle();
    }

    /// <summary>The owner took the waiter out of its queue to fail it (the queue was shut down).</summary>
    public void WakeWithError(Exception error)
    {
        Debug.Assert(_status == Status.Queued, "Only a queued waiter can be woken");
        _wakeError = error;
        _status = Status.Woken;
        ScheduleSettle();
    }

    /// <summary>The owner found the waiter's token already cancelled while looking for a live waiter: nothing is handed over.</summary>
    public void WakeCancelled()
    {
        Debug.Assert(_status == Status.Queued, "Only a queued waiter can be woken");
        _status = Status.Woken;
        ScheduleSettle();
    }

    /// <summary>Withdraws what a woken, unsettled waiter was handed: it will settle with <paramref name="error"/>.</summary>
    public void WithdrawGrant(Exception error)
    {
        Debug.Assert(_status == Status.Woken, "Only a woken waiter holds a grant to revoke");
        _granted = false;
        _wakeError = error;
    }

    /// <summary>Gives back what the wake handed over, so the owner can pass it to the next waiter (cancelled after the wake).</summary>
    protected virtual void PassOn()
    {
    }

    /// <summary>Finalises the grant and produces the result (resumed, not cancelled). Runs under <see cref="SyncRoot"/>.</summary>
    protected abstract TResult Accept();

    /// <summary>Tells the owner that a settle was scheduled (the dual queue counts them for WaitClosedAsync).</summary>
    protected virtual void OnSettleScheduled()
    {
    }

    /// <summary>Tells the owner that a scheduled settle ran. Runs under <see cref="SyncRoot"/>.</summary>
    protected virtual void OnSettleRan()
    {
    }

    private void ScheduleSettle()
    {
        OnSettleScheduled();
        try
        {
            Loop.CallSoonFromAnyThread(s_settle, this);
        }
        catch (ObjectDisposedException)
        {
            // The loop is closed: nobody will ever await this waiter again, so there is nobody to tell.
        }
    }

    /// <summary>The resume point: decides between the grant, the error and the cancellation (loop thread).</summary>
    private void Settle()
    {
        TResult result = default!;
        Exception? error;
        object? sync = SyncRoot;
        if (sync is null)
        {
            error = Resolve(ref result);
        }
        else
        {
            lock (sync)
            {
                error = Resolve(ref result);
            }
        }

        Complete(result, error);
    }

    private Exception? Resolve(ref TResult result)
    {
        Debug.Assert(_status == Status.Woken, "Only a woken waiter settles");
        _status = Status.Done;
        OnSettleRan();

        // A woken queue waiter sits in its owner's in-flight list until now (it counts against the bound).
        Queue?.Remove(this);
        try
        {
            if (Token.IsCancellationRequested)
            {
                if (_granted)
                {
                    PassOn();
                }

                return new OperationCanceledException(Token);
            }

            if (_wakeError is not null)
            {
                return _wakeError;
            }

            result = Accept();
            return null;
        }
        catch (Exception ex)
        {
            // A bug in an owner hook must not leave the caller waiting forever.
            return ex;
        }
    }

    private void PostCancellation()
    {
        try
        {
            // Always deferred, also on the loop thread: the token may fire inside the owner's own call (for
            // example during RegisterCancellation), where the waiter must not be touched.
            Loop.CallSoonFromAnyThread(s_cancelOnLoop, this);
        }
        catch (ObjectDisposedException)
        {
            // The loop is closed; the waiter can never resume anyway.
        }
    }

    private void CancelIfQueued()
    {
        bool removed;
        object? sync = SyncRoot;
        if (sync is null)
        {
            removed = RemoveIfQueued();
        }
        else
        {
            lock (sync)
            {
                removed = RemoveIfQueued();
            }
        }

        // Woken or done: the settle decides (a woken waiter passes its grant on there).
        if (removed)
        {
            Complete(default!, new OperationCanceledException(Token));
        }
    }

    private bool RemoveIfQueued()
    {
        if (_status != Status.Queued)
        {
            return false;
        }

        Queue?.Remove(this);
        _status = Status.Done;
        return true;
    }

    private void Complete(TResult result, Exception? error)
    {
        _registration.Unregister();
        _result = result;
        _error = error is null ? null : ExceptionDispatchInfo.Capture(error);
        _completed = true;
        if (_continuation is not null)
        {
            // Inline: Complete runs only inside this waiter's own loop callbacks, never inside a caller's method.
            RunContinuation();
        }
    }

    private void RunContinuation()
    {
        if (_executionContext is null)
        {
            InvokeContinuation();
        }
        else
        {
            ExecutionContext.Run(_executionContext, s_runInContext, this);
        }
    }

    private void InvokeContinuation() => _continuation!(_continuationState);

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token)
    {
        if (!_completed)
        {
            return ValueTaskSourceStatus.Pending;
        }

        return _error is null ? ValueTaskSourceStatus.Succeeded
            : _error.SourceException is OperationCanceledException ? ValueTaskSourceStatus.Canceled
            : ValueTaskSourceStatus.Faulted;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The scheduling context is ignored on purpose: the continuation always runs on the loop thread, which is
    /// the only thread allowed to use the primitive, also after <c>ConfigureAwait(false)</c>.
    /// </remarks>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        if (_continuation is not null)
        {
            throw new InvalidOperationException("A wait on a sync primitive can be awaited only once.");
        }

        if ((flags & ValueTaskSourceOnCompletedFlags.FlowExecutionContext) != 0)
        {
            _executionContext = ExecutionContext.Capture();
        }

        _continuationState = state;
        _continuation = continuation;
        if (_completed)
        {
            Loop.CallSoonFromAnyThread(s_runContinuation, this);
        }
    }

    /// <inheritdoc/>
    public TResult GetResult(short token)
    {
        if (!_completed)
        {
            throw new InvalidOperationException("The wait has not completed yet; await it instead of reading its result.");
        }

        _error?.Throw();
        return _result!;
    }

    /// <inheritdoc/>
    void IValueTaskSource.GetResult(short token) => GetResult(token);
}
