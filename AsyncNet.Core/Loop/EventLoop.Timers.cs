namespace AsyncNet.Loop;

public sealed partial class EventLoop
{
    // Compaction rule (asyncio's): rebuild the heap when more than half of at least this many timers are cancelled.
    private const int MinTimersToCompact = 100;

    private readonly TimerQueue _timers = new();

    // Cancelled timers still in the heap. Written by Cancel on any thread (Interlocked), read by the loop thread.
    private int _cancelledTimers;
    private long _timerSequence;

    /// <summary>How many timers sit in the heap, cancelled ones included (diagnostics and tests).</summary>
    internal int ScheduledTimerCount => _timers.Count;

    /// <summary>Schedules <paramref name="callback"/> to run after <paramref name="delay"/>.</summary>
    /// <param name="delay">How long to wait; zero or negative means the next iteration that handles timers.</param>
    /// <param name="callback">The callback.</param>
    /// <returns>A handle that can cancel the timer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public TimerHandle CallLater(TimeSpan delay, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(AddSaturating(Time, delay), callback, null);
    }

    /// <summary>Schedules <paramref name="callback"/>(<paramref name="state"/>) to run after <paramref name="delay"/>, without a closure.</summary>
    /// <param name="delay">How long to wait; zero or negative means the next iteration that handles timers.</param>
    /// <param name="callback">The callback.</param>
    /// <param name="state">The argument passed to the callback.</param>
    /// <returns>A handle that can cancel the timer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public TimerHandle CallLater(TimeSpan delay, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(AddSaturating(Time, delay), callback, state);
    }

    /// <summary>Schedules <paramref name="callback"/> to run at loop time <paramref name="when"/> (see <see cref="Time"/>).</summary>
    /// <param name="when">The due time on the loop's clock; a time in the past runs on the next iteration.</param>
    /// <param name="callback">The callback.</param>
    /// <returns>A handle that can cancel the timer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public TimerHandle CallAt(TimeSpan when, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(when, callback, null);
    }

    /// <summary>Schedules <paramref name="callback"/>(<paramref name="state"/>) to run at loop time <paramref name="when"/>, without a closure.</summary>
    /// <param name="when">The due time on the loop's clock; a time in the past runs on the next iteration.</param>
    /// <param name="callback">The callback.</param>
    /// <param name="state">The argument passed to the callback.</param>
    /// <returns>A handle that can cancel the timer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public TimerHandle CallAt(TimeSpan when, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(when, callback, state);
    }

    internal void OnTimerCancelled() => Interlocked.Increment(ref _cancelledTimers);

    private TimerHandle Schedule(TimeSpan when, object callback, object? state)
    {
        ThrowIfClosed();
        VerifyAccess();
        var timer = new TimerHandle(this, when, _timerSequence++, callback, state);
        _timers.Push(timer);
        return timer;
    }

    private static TimeSpan AddSaturating(TimeSpan time, TimeSpan delay) =>
        delay > TimeSpan.MaxValue - time ? TimeSpan.MaxValue : time + delay;

    /// <summary>Drops cancelled timers: all of them when they are the majority, else those on top of the heap.</summary>
    private void PruneCancelledTimers()
    {
        int cancelled = Volatile.Read(ref _cancelledTimers);
        if (_timers.Count >= MinTimersToCompact && cancelled * 2 > _timers.Count)
        {
            int removed = _timers.RemoveCancelled();
            Interlocked.Add(ref _cancelledTimers, -removed);
        }
        else
        {
            while (_timers.Count > 0 && _timers.Peek().IsCancelled)
            {
                _timers.Pop();
                Interlocked.Decrement(ref _cancelledTimers);
            }
        }

        AssertInvariants();
    }

    /// <summary>Moves every timer due by now to the ready queue, in (when, sequence) order.</summary>
    private void QueueDueTimers()
    {
        if (_timers.Count == 0)
        {
            return;
        }

        TimeSpan now = Time;
        while (_timers.Count > 0)
        {
            TimerHandle timer = _timers.Peek();
            if (timer.When > now)
            {
                break;
            }

            _timers.Pop();
            if (timer.IsCancelled)
            {
                Interlocked.Decrement(ref _cancelledTimers);
                continue;
            }

            _ready.Enqueue(timer);
        }
    }
}
