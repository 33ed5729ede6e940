using AsyncNet.Selectors;
using Microsoft.Extensions.Logging;

namespace AsyncNet.Loop;

/// <summary>Settings for a new <see cref="EventLoop"/>.</summary>
public sealed record EventLoopOptions
{
    /// <summary>The environment variable that turns <see cref="Debug"/> on by default: <c>ASYNCNET_DEBUG=1</c> (or <c>true</c>).</summary>
    public const string DebugEnvironmentVariable = "ASYNCNET_DEBUG";

    /// <summary>The default <see cref="SlowCallbackDuration"/>: 100 ms (asyncio's).</summary>
    public static readonly TimeSpan DefaultSlowCallbackDuration = TimeSpan.FromMilliseconds(100);

    /// <summary>The default <see cref="MaxReportsPerSecond"/>: 10.</summary>
    public const int DefaultMaxReportsPerSecond = 10;

    /// <summary>
    /// The selector the loop waits on; the loop takes ownership and disposes it on close.
    /// The default is <see langword="null"/>: a new selector of kind <see cref="SelectorKind"/>.
    /// </summary>
    public ISelector? Selector { get; init; }

    /// <summary>The kind of selector to create when <see cref="Selector"/> is null. The default is <see cref="SelectorKind.Default"/> (epoll on Linux).</summary>
    public SelectorKind SelectorKind { get; init; } = SelectorKind.Default;

    /// <summary>
    /// The clock behind <see cref="EventLoop.Time"/> and every timer. The default is <see cref="System.TimeProvider.System"/>
    /// (monotonic); tests pass a manual clock to run timers without sleeping.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// asyncio's debug mode: slower, and for finding mistakes. The default is <see langword="false"/>, or
    /// <see langword="true"/> when the environment variable <see cref="DebugEnvironmentVariable"/> is <c>1</c> or <c>true</c>.
    /// </summary>
    /// <remarks>
    /// <para>In debug mode the loop:</para>
    /// <list type="bullet">
    /// <item>times every callback and warns about each that runs for at least <see cref="SlowCallbackDuration"/>, naming
    /// it (its delegate's type and method, or the async method an <c>await</c> continuation resumes);</item>
    /// <item>reports, through <see cref="EventLoop.CallExceptionHandler"/>, the exception of a failed <see cref="Future"/>
    /// or of a task started with <see cref="EventLoop.CreateTask(Func{Task}, CancellationToken)"/> that nobody retrieved
    /// (awaited, or read its result or exception) by the time it is garbage-collected;</item>
    /// <item>checks the thread in every loop-bound member, also those that skip the check for speed otherwise (reading a
    /// future's state and result, the sync primitives' state properties, the stream protocol's and write flow control's
    /// callbacks): a call from another thread while the loop runs throws <see cref="InvalidOperationException"/>.</item>
    /// </list>
    /// <para>
    /// A task from <see cref="EventLoop.CreateTask(Func{Task}, CancellationToken)"/> is then a proxy whose
    /// <see cref="Task.AsyncState"/> marks it as the loop's.
    /// </para>
    /// </remarks>
    public bool Debug { get; init; } = IsDebugSetting(Environment.GetEnvironmentVariable(DebugEnvironmentVariable));

    /// <summary>
    /// How long a callback may run before it counts as slow: debug mode warns about it, and the
    /// <c>asyncnet.loop.slow_callbacks</c> counter counts it. The default is <see cref="DefaultSlowCallbackDuration"/> (100 ms).
    /// </summary>
    /// <remarks>Must be positive. Measured on <see cref="TimeProvider"/>'s clock.</remarks>
    public TimeSpan SlowCallbackDuration { get; init; } = DefaultSlowCallbackDuration;

    /// <summary>
    /// Where the loop's <see cref="EventLoop.DefaultExceptionHandler"/> and debug mode write, as structured log entries
    /// (event ids 1 "LoopException", error; 2 "SlowCallback", warning; 3 "ReportsSuppressed", warning). The default is
    /// <see langword="null"/>: lines go to <see cref="ErrorOutput"/>.
    /// </summary>
    /// <remarks>
    /// An exception that describes the peer or the network is logged without the exception object (one line, no stack
    /// trace); any other is passed to the logger, which renders its stack trace. The rate limit of
    /// <see cref="MaxReportsPerSecond"/> applies either way.
    /// </remarks>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Where the loop's <see cref="EventLoop.DefaultExceptionHandler"/> and debug mode write lines when <see cref="Logger"/>
    /// is <see langword="null"/>. The default is <see langword="null"/>: <see cref="Console.Error"/> at the time of each
    /// write. The writer may be called from any thread (one at a time).
    /// </summary>
    public TextWriter? ErrorOutput { get; init; }

    /// <summary>
    /// The most reports of one kind (the same message and exception type) the loop writes per second; the rest are
    /// counted and summed up in one "Suppressed N similar reports" line when that second is over. The default is
    /// <see cref="DefaultMaxReportsPerSecond"/> (10).
    /// </summary>
    /// <remarks>Must be at least 1. It bounds what a peer that breaks connections on purpose can make the loop write.</remarks>
    public int MaxReportsPerSecond { get; init; } = DefaultMaxReportsPerSecond;

    /// <summary>Whether a value of <see cref="DebugEnvironmentVariable"/> turns debug mode on: <c>1</c> or <c>true</c> (any case, spaces ignored).</summary>
    internal static bool IsDebugSetting(string? value) =>
        value?.Trim() is { } text && (text == "1" || text.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Throws if a setting is out of range.</summary>
    /// <param name="parameterName">The name of the options argument, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    internal void Validate(string parameterName)
    {
        if (SlowCallbackDuration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, SlowCallbackDuration, "SlowCallbackDuration must be positive.");
        }

        if (MaxReportsPerSecond < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, MaxReportsPerSecond, "MaxReportsPerSecond must be at least 1.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider, parameterName);
    }
}
