using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using AsyncNet.Diagnostics;

namespace AsyncNet.Loop;

/// <summary>
/// A loop-bound result that will be set later: asyncio's <c>Future</c>. The common part of
/// <see cref="Future{T}"/>: state, cancellation, exception and done-callbacks.
/// </summary>
/// <remarks>
/// <para>
/// States: pending → finished (result or exception) or pending → cancelled; a future leaves pending once.
/// Setting a result or exception on a future that is done throws <see cref="InvalidStateException"/>;
/// so does reading the result or exception of a pending one.
/// </para>
/// <para>
/// Done-callbacks, and the continuations of <c>await</c>, always run through the loop (on a later
/// iteration), never inline in the call that completes the future, also when added to a future that is
/// already done. A future is not thread-safe: use it on its loop's thread (other threads can reach the loop
/// with <see cref="EventLoop.CallSoonThreadSafe(Action)"/>, or await <see cref="AsTask"/>). Reading its state from
/// another thread while the loop runs is not checked, for speed, except in the loop's debug mode
/// (<see cref="EventLoopOptions.Debug"/>), where it throws <see cref="InvalidOperationException"/>.
/// </para>
/// <para>
/// In debug mode a future that failed and is garbage-collected without anyone retrieving its exception (awaiting it,
/// reading <see cref="Exception"/> or the result, or <see cref="AsTask"/>) is reported to the loop's exception handler as
/// "Future exception was never retrieved".
/// </para>
/// </remarks>
public abstract class Future
{
    private enum State
    {
        Pending,
        Finished,
        Cancelled,
    }

    private State _state;
    private ExceptionDispatchInfo? _exception;
    private string? _cancelMessage;

    // Debug mode, while the exception is set and unread: reports it if the future is collected unread.
    private UnretrievedFutureException? _unretrieved;

    // Callbacks waiting for completion: Action<Future> done-callbacks and Action await continuations, in order.
    private List<object>? _callbacks;

    private protected Future(EventLoop loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        Loop = loop;
    }

    /// <summary>The loop this future is bound to.</summary>
    public EventLoop Loop { get; }

    /// <summary>Whether the future has a result, an exception or was cancelled.</summary>
    public bool IsDone
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _state != State.Pending;
        }
    }

    /// <summary>Whether the future was cancelled.</summary>
    public bool IsCancelled
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _state == State.Cancelled;
        }
    }

    /// <summary>The exception the future finished with, or <see langword="null"/> if it finished with a result.</summary>
    /// <exception cref="OperationCanceledException">The future was cancelled.</exception>
    /// <exception cref="InvalidStateException">The future is still pending.</exception>
    public Exception? Exception
    {
        get
        {
            ThrowIfNotFinished();
            MarkRetrieved();
            return _exception?.SourceException;
        }
    }

    /// <summary>Cancels the future if it is pending and schedules its callbacks.</summary>
    /// <param name="message">An optional message for the <see cref="OperationCanceledException"/> that awaiters see.</param>
    /// <returns><see langword="true"/> if the future was pending; <see langword="false"/> if it was already done.</returns>
    public virtual bool Cancel(string? message = null)
    {
        Loop.VerifyAccess();
        if (_state != State.Pending)
        {
            return false;
        }

        _cancelMessage = message;
        Complete(State.Cancelled);
        return true;
    }

    /// <summary>Finishes the future with <paramref name="exception"/>.</summary>
    /// <param name="exception">The exception awaiters will see.</param>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is null.</exception>
    /// <exception cref="InvalidStateException">The future is already done.</exception>
    public void SetException(Exception exception)
    {
        if (!TrySetException(exception))
        {
            throw new InvalidStateException($"Cannot set an exception: the future is already {Describe()}.");
        }
    }

    /// <summary>Finishes the future with <paramref name="exception"/> if it is pending.</summary>
    /// <param name="exception">The exception awaiters will see.</param>
    /// <returns>Whether the future was pending.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is null.</exception>
    public bool TrySetException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Loop.VerifyAccess();
        if (_state != State.Pending)
        {
            return false;
        }

        _exception = ExceptionDispatchInfo.Capture(exception);
        if (Loop.IsDebugMode)
        {
            _unretrieved = new UnretrievedFutureException(this, exception);
        }

        Complete(State.Finished);
        return true;
    }

    /// <summary>Adds a callback that runs on the loop, with this future, once it is done.</summary>
    /// <param name="callback">The callback. If the future is already done it is scheduled at once.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public void AddDoneCallback(Action<Future> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        AddCallback(callback);
    }

    /// <summary>Removes every registration of <paramref name="callback"/> that has not been scheduled yet.</summary>
    /// <param name="callback">The callback.</param>
    /// <returns>How many registrations were removed.</returns>
    public int RemoveDoneCallback(Action<Future> callback)
    {
        Loop.VerifyAccess();
        return _callbacks?.RemoveAll(c => c is Action<Future> d && d.Equals(callback)) ?? 0;
    }

    /// <summary>A task that completes like this future, for code outside the loop.</summary>
    /// <returns>A task with the same outcome; its continuations run asynchronously.</returns>
    public Task AsTask() => AsTaskCore();

    /// <summary>Gets an awaiter; the continuation runs on the loop thread.</summary>
    /// <returns>The awaiter.</returns>
    public FutureAwaiter GetAwaiter() => new(this);

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}({Describe()})";

    private protected abstract Task AsTaskCore();

    /// <summary>Throws the outcome's exception, or the cancellation, if there is one; the future must be done.</summary>
    internal void ThrowIfFailed()
    {
        ThrowIfNotFinished();
        MarkRetrieved();
        _exception?.Throw();
    }

    private protected void ThrowIfNotFinished()
    {
        Loop.VerifyAccessInDebugMode();
        switch (_state)
        {
            case State.Pending:
                throw new InvalidStateException("The future's result is not set yet.");
            case State.Cancelled:
                throw new OperationCanceledException(_cancelMessage ?? "The future was cancelled.");
        }
    }

    private protected bool TryBeginSetResult()
    {
        Loop.VerifyAccess();
        return _state == State.Pending;
    }

    private protected void EndSetResult() => Complete(State.Finished);

    private protected string Describe() => _state switch
    {
        State.Pending => "pending",
        State.Cancelled => "cancelled",
        _ => _exception is null ? "finished" : $"finished with {_exception.SourceException.GetType().Name}",
    };

    internal void AddContinuation(Action continuation) => AddCallback(continuation);

    /// <summary>Someone read the outcome: an exception it holds is retrieved, so debug mode has nothing to report.</summary>
    private void MarkRetrieved()
    {
        if (_unretrieved is { } witness)
        {
            _unretrieved = null;
            witness.Dismiss();
        }
    }

    private void AddCallback(object callback)
    {
        Loop.VerifyAccess();
        if (_state != State.Pending)
        {
            Schedule(callback);
            return;
        }

        (_callbacks ??= []).Add(callback);
    }

    private void Complete(State state)
    {
        _state = state;
        List<object>? callbacks = _callbacks;
        _callbacks = null;
        if (callbacks is null)
        {
            return;
        }

        foreach (object callback in callbacks)
        {
            Schedule(callback);
        }
    }

    private void Schedule(object callback) =>
        Loop.CallSoonFromAnyThread(callback, callback is Action<Future> ? this : null);
}

/// <summary>Awaits a <see cref="Future"/>; the continuation runs on the future's loop.</summary>
public readonly struct FutureAwaiter : ICriticalNotifyCompletion
{
    private readonly Future _future;

    internal FutureAwaiter(Future future) => _future = future;

    /// <summary>Whether the future is done.</summary>
    public bool IsCompleted => _future.IsDone;

    /// <summary>Throws the future's exception, or <see cref="OperationCanceledException"/> if it was cancelled.</summary>
    public void GetResult() => _future.ThrowIfFailed();

    /// <inheritdoc/>
    public void OnCompleted(Action continuation) => _future.AddContinuation(FlowExecutionContext(continuation));

    /// <inheritdoc/>
    public void UnsafeOnCompleted(Action continuation) => _future.AddContinuation(continuation);

    internal static Action FlowExecutionContext(Action continuation)
    {
        ExecutionContext? context = ExecutionContext.Capture();
        return context is null ? continuation : () => ExecutionContext.Run(context, static c => ((Action)c!)(), continuation);
    }
}
