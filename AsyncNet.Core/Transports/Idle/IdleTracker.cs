// IdleTracker: one connection's idle detection on the loop's timers (the rules are in IdleOptions' remarks).
//
// Maintainer's overview
// - Bookkeeping on the hot path is one field write each: the transport calls OnRead after a read that brought bytes and
//   OnWrite after a send the kernel took bytes from; each stores the loop's time. Nothing is scheduled, cancelled or
//   allocated per message. The loop keeps no per-iteration time, so each stamp is a clock read (tens of ns, a vDSO
//   call), except that the flush ending a read's callback reuses the read's stamp: a request/response exchange costs
//   one clock read, not two.
// - One timer, armed for the earliest Due of the watched kinds and re-armed only when it fires: the check then compares
//   each due kind's last activity with now. Quiet for its timeout → report, and look again a full timeout from now
//   (Netty's rule: repeats come one timeout apart). Active since → look again at last activity + timeout, the time that
//   remains. So a busy connection's timer fires about once per timeout, and a thousand idle ones cost a thousand timers.
// - IsFirst needs no hot-path write: each kind remembers the last-activity time it last reported; a report is a first
//   one when last activity has moved since (activity is always later than a report's last activity, which is at least
//   a timeout in the past).
// - Stop (connection closing or lost) cancels the timer; the loop drops the cancelled entry lazily.

using AsyncNet.Loop;

namespace AsyncNet.Transports;

/// <summary>Tracks one stream transport's read and write activity and reports idle stretches through it.</summary>
/// <remarks>Loop thread only.</remarks>
internal sealed class IdleTracker
{
    private static readonly Action<object?> s_check = static state => ((IdleTracker)state!).Check();

    private readonly SocketStreamTransport _transport;
    private readonly EventLoop _loop;
    private readonly bool _closeOnIdle;

    // One per kind; a kind not watched has Due = TimeSpan.MaxValue and never comes due.
    private KindClock _read;
    private KindClock _write;
    private KindClock _all;

    private TimeSpan _lastRead;
    private TimeSpan _lastWrite;

    // True from OnRead until the read's callback (and the flush that ends it) returns: _lastRead is "now" for OnWrite.
    private bool _inReadCallback;

    // The armed timer: null before Start, while Check runs (it has just fired) and after Stop.
    private TimerHandle? _timer;
    private bool _stopped;

    /// <summary>Creates a tracker for the kinds <paramref name="options"/> sets that someone will act on.</summary>
    /// <param name="transport">The transport to report through.</param>
    /// <param name="loop">The transport's loop: its clock and timers.</param>
    /// <param name="options">The validated options.</param>
    /// <param name="hasListener">Whether the protocol implements <see cref="IIdleAwareProtocol"/>.</param>
    private IdleTracker(SocketStreamTransport transport, EventLoop loop, IdleOptions options, bool hasListener)
    {
        _transport = transport;
        _loop = loop;
        _closeOnIdle = options.CloseOnIdle;

        // Read and all-idle matter to a listener or to close-on-idle; write-idle only to a listener (it never closes).
        _read = new KindClock(hasListener || _closeOnIdle ? options.ReadIdle : null);
        _write = new KindClock(hasListener ? options.WriteIdle : null);
        _all = new KindClock(hasListener || _closeOnIdle ? options.AllIdle : null);
    }

    /// <summary>Makes a tracker, or returns null when nothing would ever be reported or closed.</summary>
    public static IdleTracker? Create(SocketStreamTransport transport, EventLoop loop, IdleOptions? options, bool hasListener)
    {
        if (options is null || !options.IsEnabled)
        {
            return null;
        }

        var tracker = new IdleTracker(transport, loop, options, hasListener);
        return tracker._read.IsWatched || tracker._write.IsWatched || tracker._all.IsWatched ? tracker : null;
    }

    /// <summary>Bytes (or the peer's EOF) arrived; the protocol's callback for them runs next.</summary>
    public void OnRead()
    {
        _lastRead = _loop.Time;
        _inReadCallback = true;
    }

    /// <summary>The callback for the last read, and the flush that ended it, returned.</summary>
    public void OnReadCallbackDone() => _inReadCallback = false;

    /// <summary>The kernel took bytes from a send.</summary>
    /// <remarks>
    /// Inside a read's callback the read's stamp stands in for the clock: early by at most the callback's run time,
    /// which can only bring a write-idle report that much sooner.
    /// </remarks>
    public void OnWrite() => _lastWrite = _inReadCallback ? _lastRead : _loop.Time;

    /// <summary>Reading resumed after a pause: the read side's quiet starts now, not when the last bytes came.</summary>
    public void OnReadingResumed() => _lastRead = _loop.Time;

    /// <summary>The connection is made and open: every watched kind starts its first stretch now.</summary>
    public void Start()
    {
        TimeSpan now = _loop.Time;
        _lastRead = now;
        _lastWrite = now;
        _read.Start(now);
        _write.Start(now);
        _all.Start(now);
        Arm();
    }

    /// <summary>The transport is closing or lost: no more checks. Idempotent.</summary>
    public void Stop()
    {
        _stopped = true;
        _timer?.Cancel();
        _timer = null;
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"IdleTracker(Read={_read}, Write={_write}, All={_all}{(_stopped ? ", Stopped" : string.Empty)})";

    /// <summary>The timer fired: report the kinds that stayed quiet, then re-arm for the earliest next look.</summary>
    private void Check()
    {
        _timer = null;
        if (_stopped)
        {
            return;
        }

        TimeSpan now = _loop.Time;
        if (_transport.IsReadingPaused)
        {
            // The stall is ours (a paused reader), not the peer's: the read side counts as active.
            _lastRead = now;
        }

        if (_write.IsWatched && _transport.IsWriteClosedByUser)
        {
            // After WriteEof nothing can be written, so write-idle has nothing to ask for.
            _write = new KindClock(null);
        }

        // Each report may run user code that closes the transport (Stop), so re-check between them.
        if (CheckKind(ref _read, IdleKind.Read, _lastRead, now) && _stopped)
        {
            return;
        }

        if (CheckKind(ref _write, IdleKind.Write, _lastWrite, now) && _stopped)
        {
            return;
        }

        if (CheckKind(ref _all, IdleKind.All, _lastRead > _lastWrite ? _lastRead : _lastWrite, now) && _stopped)
        {
            return;
        }

        Arm();
    }

    /// <summary>If <paramref name="clock"/> is due, reports or moves it on; returns whether it reported.</summary>
    private bool CheckKind(ref KindClock clock, IdleKind kind, TimeSpan lastActivity, TimeSpan now)
    {
        if (clock.Due > now)
        {
            return false;
        }

        TimeSpan quiet = now - lastActivity;
        if (quiet < clock.Timeout)
        {
            // Active since the last look: look again when the rest of the timeout has passed.
            clock.Due = lastActivity + clock.Timeout;
            return false;
        }

        bool first = lastActivity != clock.ReportedActivity;
        clock.ReportedActivity = lastActivity;
        clock.Due = AddSaturating(now, clock.Timeout);
        if (_closeOnIdle && kind != IdleKind.Write)
        {
            _transport.CloseForIdle(kind, clock.Timeout);
        }
        else
        {
            _transport.ReportIdle(new IdleEvent(kind, first, clock.Timeout, quiet));
        }

        return true;
    }

    private void Arm()
    {
        TimeSpan due = _read.Due;
        if (_write.Due < due)
        {
            due = _write.Due;
        }

        if (_all.Due < due)
        {
            due = _all.Due;
        }

        if (due != TimeSpan.MaxValue)
        {
            _timer = _loop.CallAt(due, s_check, this);
        }
    }

    private static TimeSpan AddSaturating(TimeSpan time, TimeSpan delay) =>
        delay > TimeSpan.MaxValue - time ? TimeSpan.MaxValue : time + delay;

    /// <summary>One idle kind's schedule.</summary>
    private struct KindClock
    {
        /// <summary>The kind's timeout; meaningful only while <see cref="IsWatched"/>.</summary>
        public readonly TimeSpan Timeout;

        /// <summary>When to look next; <see cref="TimeSpan.MaxValue"/> for a kind not watched.</summary>
        public TimeSpan Due;

        /// <summary>The last-activity time of the last report, so a report knows whether it is the stretch's first.</summary>
        public TimeSpan ReportedActivity;

        public KindClock(TimeSpan? timeout)
        {
            Timeout = timeout ?? TimeSpan.Zero;
            Due = TimeSpan.MaxValue;
            ReportedActivity = TimeSpan.MinValue;
            IsWatched = timeout is not null;
        }

        public readonly bool IsWatched { get; }

        public void Start(TimeSpan now)
        {
            if (IsWatched)
            {
                Due = AddSaturating(now, Timeout);
            }
        }

        public override readonly string ToString() =>
            IsWatched ? $"{Timeout.TotalMilliseconds:0} ms" : "off";
    }
}
