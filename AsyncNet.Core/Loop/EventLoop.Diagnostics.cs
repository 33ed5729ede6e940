// What a loop tells about itself: its reports (the default exception handler), debug mode, and its metrics.
//
// Maintainer's overview
// - Reports go through LoopLog (one line each, stack traces only for bugs, rate-limited per kind). A held-back report
//   is summed up when its second is over: by a timer when the report was made on the loop thread, else by the kind's
//   next report or Close.
// - Metrics (Diagnostics/CoreMeter.cs): the iteration's duration and the number of callbacks it ran are measured only
//   while someone listens to them; callbacks are timed one by one only in debug mode or while the slow-callback
//   counter is listened to. With nobody listening an iteration pays three field reads.
// - Debug mode adds: slow-callback warnings, reports of exceptions nobody retrieved (futures: a finalizable witness per
//   failed future; loop tasks: a proxy recognised by TaskScheduler.UnobservedTaskException), and the thread check in
//   members that skip it for speed otherwise (VerifyAccessInDebugMode).

using System.Runtime.CompilerServices;
using AsyncNet.Diagnostics;

namespace AsyncNet.Loop;

public sealed partial class EventLoop
{
    private static readonly Action<object?> s_writeEndedSummaries = static state =>
    {
        var loop = (EventLoop)state!;
        loop._log.WriteEndedSummaries(loop.Time);
    };

    private static readonly Action<object?> s_report = static state =>
    {
        var (loop, context) = ((EventLoop, LoopExceptionContext))state!;
        loop.CallExceptionHandler(context);
    };

    private readonly bool _debug;
    private readonly TimeSpan _slowCallbackDuration;
    private readonly LoopLog _log;

    /// <summary>Whether the loop runs in debug mode (<see cref="EventLoopOptions.Debug"/>, which lists what it adds).</summary>
    public bool IsDebugMode => _debug;

    /// <summary>How long a callback may run before it counts as slow (<see cref="EventLoopOptions.SlowCallbackDuration"/>).</summary>
    public TimeSpan SlowCallbackDuration => _slowCallbackDuration;

    /// <summary>
    /// The default exception handler: writes one line about <paramref name="context"/> to the loop's
    /// <see cref="EventLoopOptions.Logger"/>, or else to <see cref="EventLoopOptions.ErrorOutput"/> (standard error by default).
    /// </summary>
    /// <param name="context">What happened.</param>
    /// <remarks>
    /// <para>
    /// The line reads "AsyncNet event loop: message (future: …; source: …): ExceptionType: exception message" (the
    /// prefix only on a <see cref="TextWriter"/>; the parentheses only when the context names a future or a source).
    /// An exception that describes the peer or the network — an <see cref="IOException"/> (every AsyncNet network,
    /// stream and framing exception is one), an <see cref="InvalidDataException"/>, a
    /// <see cref="System.Net.Sockets.SocketException"/>, a <see cref="TimeoutException"/> or a cancellation — gets that
    /// one line and no more. Any other exception is a bug
    /// (a throwing callback or protocol), and its stack trace follows.
    /// </para>
    /// <para>
    /// At most <see cref="EventLoopOptions.MaxReportsPerSecond"/> reports of one kind (the same message and exception
    /// type) are written per second; the others are counted, and when the second is over one line says
    /// "Suppressed N similar reports within 1 s: message: ExceptionType". Safe to call from any thread.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    public void DefaultExceptionHandler(LoopExceptionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ScheduleSummary(_log.Report(context, Time));
    }

    /// <summary>Checks the thread in debug mode only: for members that skip the check for speed otherwise.</summary>
    /// <exception cref="InvalidOperationException">Debug mode is on and the loop runs on another thread.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void VerifyAccessInDebugMode()
    {
        if (_debug)
        {
            VerifyAccess();
        }
    }

    /// <summary>
    /// Sends <paramref name="context"/> to the exception handler on the loop's thread, from any thread (the finalizer's,
    /// for exceptions nobody retrieved); a closed loop has no thread left, so the default handler writes it here.
    /// </summary>
    internal void ReportFromAnyThread(LoopExceptionContext context)
    {
        try
        {
            if (!TryCallSoonFromAnyThread(s_report, (this, context)))
            {
                DefaultExceptionHandler(context);
            }
        }
        catch (Exception)
        {
            // Called from a finalizer, where an exception would end the process: a report that cannot be made is lost.
        }
    }

    /// <summary>Runs the first <paramref name="count"/> ready callbacks, timing each (debug mode, or the slow-callback counter listened to).</summary>
    private void RunTimed(int count)
    {
        for (; count > 0; count--)
        {
            Handle handle = _ready.Dequeue();

            // Read before running: a callback that cancels its own handle (an I/O reader removed while it ran) clears them.
            object? callback = handle.Callback;
            object? state = handle.State;
            long started = _timeProvider.GetTimestamp();
            handle.Run();
            TimeSpan took = _timeProvider.GetElapsedTime(started);
            if (took >= _slowCallbackDuration)
            {
                OnSlowCallback(callback, state, took);
            }
        }
    }

    private void OnSlowCallback(object? callback, object? state, TimeSpan took)
    {
        if (CoreMeter.SlowCallbacks.Enabled)
        {
            CoreMeter.SlowCallbacks.Add(1);
        }

        if (_debug)
        {
            ScheduleSummary(_log.SlowCallback(CallbackNames.Describe(callback, state), took, Time));
        }
    }

    /// <summary>Records the iteration's histograms (each only while listened to).</summary>
    /// <param name="timed">Whether <paramref name="started"/> was read (the duration histogram was listened to when the iteration began).</param>
    /// <param name="started">The timestamp when the iteration began its work.</param>
    /// <param name="ran">How many callbacks it ran.</param>
    private void RecordIteration(bool timed, long started, int ran)
    {
        if (timed)
        {
            CoreMeter.LoopIterationDuration.Record(_timeProvider.GetElapsedTime(started).TotalSeconds);
        }

        if (CoreMeter.LoopReadyCallbacks.Enabled)
        {
            CoreMeter.LoopReadyCallbacks.Record(ran);
        }
    }

    /// <summary>Arranges for the summary of held-back reports to be written when it is due (see the file's overview).</summary>
    private void ScheduleSummary(TimeSpan? due)
    {
        if (due is { } at && IsOnLoopThread && !_closed)
        {
            CallAt(at, s_writeEndedSummaries, this);
        }
    }
}
