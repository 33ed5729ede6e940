namespace AsyncNet.Loop;

/// <summary>A callback scheduled for a point in the loop's time.</summary>
/// <remarks>
/// Timers run in order of <see cref="When"/>, and in scheduling order among equal times. A cancelled timer
/// stays in the loop's heap until it reaches the top or the heap is compacted (when more than half of at
/// least 100 scheduled timers are cancelled), so cancelling is O(1) and never leaks memory without bound.
/// </remarks>
public sealed class TimerHandle : Handle
{
    internal TimerHandle(EventLoop loop, TimeSpan when, long sequence, object callback, object? state)
        : base(loop, callback, state)
    {
        When = when;
        Sequence = sequence;
    }

    /// <summary>The loop time (<see cref="EventLoop.Time"/>) at which the callback is due.</summary>
    public TimeSpan When { get; }

    /// <summary>Scheduling order; breaks ties between equal <see cref="When"/> values (first scheduled runs first).</summary>
    internal long Sequence { get; }

    /// <summary>Whether this timer sits in the loop's heap (set by the loop thread only).</summary>
    internal bool IsScheduled { get; set; }

    /// <summary>Orders timers by due time, then FIFO.</summary>
    internal bool RunsBefore(TimerHandle other) =>
        When < other.When || (When == other.When && Sequence < other.Sequence);

    private protected override void OnCancelled()
    {
        if (IsScheduled)
        {
            Loop.OnTimerCancelled();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"TimerHandle(When={When}, {(IsCancelled ? "cancelled" : "pending")})";
}
