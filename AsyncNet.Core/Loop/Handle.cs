using AsyncNet.Diagnostics;

namespace AsyncNet.Loop;

/// <summary>A callback scheduled on an <see cref="EventLoop"/>, which can be cancelled before it runs.</summary>
/// <remarks>
/// <para>
/// Returned by <see cref="EventLoop.CallSoon(Action)"/> and its kin. A handle holds one callback and at
/// most one state object, so scheduling with a state-passing overload allocates the handle and nothing
/// else: pass <c>this</c> or a long-lived object as the state instead of capturing it in a lambda.
/// </para>
/// <para>
/// <see cref="Cancel"/> may be called from any thread and is idempotent: once it returns, the callback
/// will not start (one already running finishes). A callback that throws does not stop the loop; the
/// exception goes to the loop's <see cref="EventLoop.ExceptionHandler"/> with this handle as context.
/// </para>
/// </remarks>
public class Handle
{
    // _callback is one of: Action, Action<object?>, SendOrPostCallback, Action<Future>; null once cancelled.
    private object? _callback;
    private object? _state;
    private int _cancelled;

    internal Handle(EventLoop loop, object callback, object? state)
    {
        Loop = loop;
        _callback = callback;
        _state = state;
    }

    /// <summary>The loop that runs this handle.</summary>
    public EventLoop Loop { get; }

    /// <summary>The callback's argument, or null once cancelled (the loop asks it to <see cref="EventLoop.IAbandonable.Abandon"/> when closed).</summary>
    internal object? State => _state;

    /// <summary>The callback, or null once cancelled (for reports that name it).</summary>
    internal object? Callback => _callback;

    /// <summary>Whether <see cref="Cancel"/> has been called.</summary>
    public bool IsCancelled => Volatile.Read(ref _cancelled) != 0;

    /// <summary>Cancels the callback. Safe from any thread; calling it again does nothing.</summary>
    public void Cancel()
    {
        if (Interlocked.Exchange(ref _cancelled, 1) != 0)
        {
            return;
        }

        // Drop the references at once so a cancelled handle waiting in a queue keeps nothing alive.
        _callback = null;
        _state = null;
        OnCancelled();
    }

    /// <summary>Lets a timer tell the loop that the heap now holds one more cancelled entry.</summary>
    private protected virtual void OnCancelled()
    {
    }

    /// <summary>Runs the callback on the loop thread, routing an exception to the loop's handler.</summary>
    internal void Run()
    {
        // Read both fields before checking the flag: Cancel may clear them from another thread meanwhile.
        object? callback = _callback;
        object? state = _state;
        if (callback is null || IsCancelled)
        {
            return;
        }

        try
        {
            switch (callback)
            {
                case Action action:
                    action();
                    break;
                case Action<object?> withState:
                    withState(state);
                    break;
                case SendOrPostCallback posted:
                    posted(state);
                    break;
                case Action<Future> done:
                    done((Future)state!);
                    break;
            }
        }
        catch (Exception ex)
        {
            Loop.CallExceptionHandler(new LoopExceptionContext("Exception in callback " + CallbackNames.Describe(callback, state), ex) { Handle = this });
        }
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        object? callback = _callback;
        return IsCancelled || callback is null ? "Handle(cancelled)" : $"Handle({CallbackNames.Describe(callback, _state)})";
    }
}
