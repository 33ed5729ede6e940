// LoopLog: what a loop writes about itself — the default exception handler's reports, debug mode's slow-callback
// warnings, and the summaries of reports the rate limit held back.
//
// Maintainer's overview
// - One line per report. A report whose exception describes the peer or the network (IsPeerOrNetworkError) is written
//   as "message (details): ExceptionType: exception message", without a stack trace: a connection a hostile client
//   breaks costs one short line. Any other exception is a bug somewhere, so its stack trace follows (for an ILogger:
//   the exception is passed to it, and the logger renders it).
// - Rate limit: at most MaxReportsPerSecond reports of one kind (same message, same exception type) per second; the
//   rest are counted, and one "suppressed N similar reports" line says how many when the second is over (written by the
//   loop's timer, or the kind's next report, or the loop's Close, whichever comes first).
// - Sink: the ILogger if one is set, else a TextWriter (Console.Error unless given another, looked up at each write so
//   Console.SetError applies). Writes are serialized by one lock: reports may come from any thread.

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using AsyncNet.Loop;
using Microsoft.Extensions.Logging;

namespace AsyncNet.Diagnostics;

/// <summary>A loop's own log: formats, rate-limits and writes its reports (see the file's overview).</summary>
internal sealed class LoopLog
{
    /// <summary>What every line written to a <see cref="TextWriter"/> starts with.</summary>
    public const string Prefix = "AsyncNet event loop: ";

    /// <summary>The event id of a report through <see cref="EventLoop.DefaultExceptionHandler"/>.</summary>
    public static readonly EventId ReportEvent = new(1, "LoopException");

    /// <summary>The event id of debug mode's slow-callback warning.</summary>
    public static readonly EventId SlowCallbackEvent = new(2, "SlowCallback");

    /// <summary>The event id of the line that sums up reports the rate limit held back.</summary>
    public static readonly EventId SuppressedEvent = new(3, "ReportsSuppressed");

    private static readonly Action<ILogger, string, Exception?> s_logReport =
        LoggerMessage.Define<string>(LogLevel.Error, ReportEvent, "{Report}");

    private static readonly Action<ILogger, string, string, string, Exception?> s_logReportWithException =
        LoggerMessage.Define<string, string, string>(LogLevel.Error, ReportEvent, "{Report}: {ExceptionType}: {ExceptionMessage}");

    private static readonly Action<ILogger, string, double, Exception?> s_logSlowCallback =
        LoggerMessage.Define<string, double>(LogLevel.Warning, SlowCallbackEvent, "Executing {Callback} took {Seconds:0.000} s");

    private static readonly Action<ILogger, long, double, string, Exception?> s_logSuppressed =
        LoggerMessage.Define<long, double, string>(LogLevel.Warning, SuppressedEvent, "Suppressed {Count} similar reports within {WindowSeconds} s: {Kind}");

    private readonly ILogger? _logger;
    private readonly TextWriter? _output;
    private readonly ReportRateLimiter _limiter;
    private readonly Lock _lock = new();
    private readonly List<(ReportKind Kind, long HeldBack)> _ended = [];

    /// <summary>Creates the log of one loop.</summary>
    /// <param name="logger">Where reports go; <see langword="null"/> for <paramref name="output"/>.</param>
    /// <param name="output">Where lines go without a logger; <see langword="null"/> for <see cref="Console.Error"/>.</param>
    /// <param name="maxReportsPerSecond">The most reports of one kind written per second.</param>
    public LoopLog(ILogger? logger, TextWriter? output, int maxReportsPerSecond)
    {
        _logger = logger;
        _output = output;
        _limiter = new ReportRateLimiter(maxReportsPerSecond, TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Whether <paramref name="exception"/> describes the peer or the network rather than a bug: an
    /// <see cref="IOException"/> (every AsyncNet network, stream and framing exception is one), an
    /// <see cref="InvalidDataException"/> (bad input), a <see cref="SocketException"/>, a <see cref="TimeoutException"/>,
    /// a cancellation, or an aggregate of only such.
    /// </summary>
    /// <param name="exception">The exception.</param>
    /// <returns>Whether its report is one line, without a stack trace.</returns>
    public static bool IsPeerOrNetworkError(Exception exception) => exception switch
    {
        IOException or InvalidDataException or SocketException or TimeoutException or OperationCanceledException => true,
        AggregateException { InnerExceptions.Count: > 0 } aggregate => aggregate.InnerExceptions.All(IsPeerOrNetworkError),
        _ => false,
    };

    /// <summary>Writes one report, unless the rate limit holds it back.</summary>
    /// <param name="context">The report.</param>
    /// <param name="now">The loop's time.</param>
    /// <returns>When this report is the first held back in its second, the time that second ends (a summary is due then); else <see langword="null"/>.</returns>
    public TimeSpan? Report(LoopExceptionContext context, TimeSpan now)
    {
        Exception? exception = context.Exception;
        lock (_lock)
        {
            if (!Admit(new ReportKind(context.Message, exception?.GetType()), now, out TimeSpan? summaryDue))
            {
                return summaryDue;
            }

            string report = Describe(context);
            if (exception is null)
            {
                if (_logger is { } logger)
                {
                    s_logReport(logger, report, null);
                }
                else
                {
                    WriteLine(report);
                }

                return null;
            }

            Exception? trace = IsPeerOrNetworkError(exception) ? null : exception;
            string type = exception.GetType().Name;
            string message = OneLine(exception.Message);
            if (_logger is { } withException)
            {
                s_logReportWithException(withException, report, type, message, trace);
            }
            else
            {
                WriteLine(trace is null ? $"{report}: {type}: {message}" : $"{report}: {type}: {message}{Environment.NewLine}{trace}");
            }

            return null;
        }
    }

    /// <summary>Debug mode: warns that a callback ran for <paramref name="took"/>, unless the rate limit holds it back.</summary>
    /// <param name="callback">The callback's name.</param>
    /// <param name="took">How long it ran.</param>
    /// <param name="now">The loop's time.</param>
    /// <returns>As for <see cref="Report"/>.</returns>
    public TimeSpan? SlowCallback(string callback, TimeSpan took, TimeSpan now)
    {
        lock (_lock)
        {
            if (!Admit(new ReportKind($"Executing {callback}", null), now, out TimeSpan? summaryDue))
            {
                return summaryDue;
            }

            if (_logger is { } logger)
            {
                s_logSlowCallback(logger, callback, took.TotalSeconds, null);
            }
            else
            {
                WriteLine(string.Create(CultureInfo.InvariantCulture, $"Executing {callback} took {took.TotalSeconds:0.000} s"));
            }

            return null;
        }
    }

    /// <summary>Writes the summaries of held-back reports whose second ended by <paramref name="now"/> (every one for <see cref="TimeSpan.MaxValue"/>).</summary>
    /// <param name="now">The loop's time.</param>
    public void WriteEndedSummaries(TimeSpan now)
    {
        lock (_lock)
        {
            _limiter.TakeEnded(now, _ended);
            foreach ((ReportKind kind, long heldBack) in _ended)
            {
                WriteSummary(kind, heldBack);
            }

            _ended.Clear();
        }
    }

    /// <summary>Asks the rate limit about one report; first writes the summary of the kind's last second if one is owed.</summary>
    private bool Admit(ReportKind kind, TimeSpan now, out TimeSpan? summaryDue)
    {
        bool admitted = _limiter.TryAcquire(kind, now, out long endedHeldBack, out summaryDue);
        if (endedHeldBack > 0)
        {
            WriteSummary(kind, endedHeldBack);
        }

        return admitted;
    }

    private void WriteSummary(ReportKind kind, long heldBack)
    {
        double seconds = _limiter.WindowLength.TotalSeconds;
        if (_logger is { } logger)
        {
            s_logSuppressed(logger, heldBack, seconds, kind.ToString(), null);
        }
        else
        {
            WriteLine(string.Create(CultureInfo.InvariantCulture, $"Suppressed {heldBack} similar reports within {seconds} s: {kind}"));
        }
    }

    private void WriteLine(string text) => (_output ?? Console.Error).WriteLine(Prefix + text);

    /// <summary>The report's message and what it concerns: "message (future: …; source: …)".</summary>
    private static string Describe(LoopExceptionContext context)
    {
        if (context.Future is null && context.Source is null)
        {
            return context.Message;
        }

        var text = new StringBuilder(context.Message).Append(" (");
        if (context.Future is { } future)
        {
            text.Append("future: ").Append(SafeToString(future));
        }

        if (context.Source is { } source)
        {
            text.Append(context.Future is null ? "source: " : "; source: ").Append(SafeToString(source));
        }

        return text.Append(')').ToString();
    }

    /// <summary>An object's description for a report; a throwing <c>ToString</c> must not lose the report.</summary>
    private static string SafeToString(object value)
    {
        try
        {
            return OneLine(value.ToString() ?? value.GetType().Name);
        }
        catch (Exception)
        {
            return value.GetType().Name;
        }
    }

    /// <summary>Keeps a report on one line: line breaks inside a message become spaces.</summary>
    private static string OneLine(string text) =>
        text.AsSpan().IndexOfAny('\r', '\n') < 0 ? text : text.ReplaceLineEndings(" ");
}
