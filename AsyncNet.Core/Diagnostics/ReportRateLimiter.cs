namespace AsyncNet.Diagnostics;

/// <summary>
/// Lets through at most a number of reports of each kind per window of time, and counts the rest so that one summary
/// line can say how many were held back. Not thread-safe: its owner locks.
/// </summary>
/// <remarks>
/// Each kind has its own window, which starts with the first report of that kind after the previous window ended. A
/// window's held-back count is handed out once: to the first report of the kind after the window ended
/// (<see cref="TryAcquire"/>), or to whoever collects ended windows first (<see cref="TakeEnded"/>).
/// </remarks>
/// <param name="limit">The most reports of one kind let through per window; at least 1.</param>
/// <param name="window">The window's length.</param>
internal sealed class ReportRateLimiter(int limit, TimeSpan window)
{
    // Kinds come from a bounded set of messages in code, but nothing forces that: past this many, kinds with nothing
    // held back are forgotten (at worst a kind starts a fresh window early).
    private const int MaxKinds = 1024;

    private readonly Dictionary<ReportKind, Window> _windows = [];

    /// <summary>The window's length.</summary>
    public TimeSpan WindowLength => window;

    /// <summary>Decides whether one report of <paramref name="kind"/>, made at <paramref name="now"/>, may be written.</summary>
    /// <param name="kind">The report's kind.</param>
    /// <param name="now">The time of the report (a monotonic clock).</param>
    /// <param name="endedHeldBack">
    /// How many reports of this kind the previous window held back and nobody summed up yet: write that summary first.
    /// </param>
    /// <param name="summaryDue">
    /// When this report is the first one held back in its window, the time the window ends, when its summary is due;
    /// otherwise <see langword="null"/>.
    /// </param>
    /// <returns>Whether to write the report.</returns>
    public bool TryAcquire(ReportKind kind, TimeSpan now, out long endedHeldBack, out TimeSpan? summaryDue)
    {
        endedHeldBack = 0;
        summaryDue = null;
        if (!_windows.TryGetValue(kind, out Window? current))
        {
            if (_windows.Count >= MaxKinds)
            {
                Forget(now);
            }

            current = new Window { Start = now };
            _windows.Add(kind, current);
        }
        else if (now - current.Start >= window)
        {
            endedHeldBack = current.HeldBack;
            current.Start = now;
            current.Written = 0;
            current.HeldBack = 0;
        }

        if (current.Written < limit)
        {
            current.Written++;
            return true;
        }

        if (++current.HeldBack == 1)
        {
            summaryDue = current.Start + window;
        }

        return false;
    }

    /// <summary>Hands out the held-back counts of the windows that ended by <paramref name="now"/>, and zeroes them.</summary>
    /// <param name="now">The time now; <see cref="TimeSpan.MaxValue"/> takes every window's count (the loop is closing).</param>
    /// <param name="ended">Receives each kind with its count.</param>
    public void TakeEnded(TimeSpan now, List<(ReportKind Kind, long HeldBack)> ended)
    {
        foreach ((ReportKind kind, Window current) in _windows)
        {
            if (current.HeldBack > 0 && (now == TimeSpan.MaxValue || now - current.Start >= window))
            {
                ended.Add((kind, current.HeldBack));
                current.HeldBack = 0;
            }
        }
    }

    private void Forget(TimeSpan now)
    {
        foreach ((ReportKind kind, Window current) in _windows)
        {
            if (current.HeldBack == 0 && now - current.Start >= window)
            {
                _windows.Remove(kind);
            }
        }
    }

    /// <summary>One kind's current window.</summary>
    private sealed class Window
    {
        public TimeSpan Start;
        public int Written;
        public long HeldBack;
    }
}
