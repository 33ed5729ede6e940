using System.Runtime.CompilerServices;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;
using Microsoft.Extensions.Logging;

namespace AsyncNet.Tests.Diagnostics;

/// <summary>
/// The loop's default exception handler: one line per report (a stack trace only for bugs), at most a few reports of
/// a kind per second with a summary of the rest, to a writer or an <see cref="ILogger"/>.
/// </summary>
public sealed class DefaultExceptionHandlerTests : IDisposable
{
    private const string ServerHandler = "Unhandled exception in a stream server's handler";

    private readonly ManualTimeProvider _clock = new();
    private readonly StringWriter _output = new();
    private readonly List<EventLoop> _loops = [];

    public void Dispose()
    {
        foreach (EventLoop loop in _loops)
        {
            loop.Close();
        }
    }

    [Fact]
    public void NetworkError_IsOneLine_OfMessageSourceExceptionTypeAndMessage_WithoutStackTrace()
    {
        EventLoop loop = Loop();
        Exception reset = Thrown(new ConnectionResetException("Connection reset by 127.0.0.1:5000."));

        loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, reset) { Source = "StreamServer(127.0.0.1:9000)" });

        Assert.Equal(
            "AsyncNet event loop: Unhandled exception in a stream server's handler (source: StreamServer(127.0.0.1:9000)): ConnectionResetException: Connection reset by 127.0.0.1:5000." + Environment.NewLine,
            _output.ToString());
    }

    [Theory]
    [InlineData("io")]
    [InlineData("socket")]
    [InlineData("timeout")]
    [InlineData("cancelled")]
    [InlineData("aggregate")]
    public void PeerAndNetworkErrors_HaveNoStackTrace(string kind)
    {
        EventLoop loop = Loop();
        Exception error = Thrown(kind switch
        {
            "io" => new InvalidDataException("bad frame"),
            "socket" => new System.Net.Sockets.SocketException(104),
            "timeout" => new TimeoutException("idle"),
            "cancelled" => new OperationCanceledException("stopped"),
            _ => new AggregateException(new IOException("a"), new TimeoutException("b")),
        });

        loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, error));

        Assert.Single(Lines());
        Assert.DoesNotContain(" at ", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bug_IsWrittenWithItsStackTrace()
    {
        EventLoop loop = Loop();
        Exception bug = Thrown(new NullReferenceException("oops"));

        loop.DefaultExceptionHandler(new LoopExceptionContext("Fatal error: protocol.DataReceived() failed", bug) { Source = "transport" });

        string[] lines = Lines();
        Assert.Equal("AsyncNet event loop: Fatal error: protocol.DataReceived() failed (source: transport): NullReferenceException: oops", lines[0]);
        Assert.Contains(lines, line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal) && line.Contains(nameof(Thrown), StringComparison.Ordinal));
    }

    [Fact]
    public void AReport_StaysOnOneLine_WhenMessagesHoldLineBreaks()
    {
        EventLoop loop = Loop();
        loop.DefaultExceptionHandler(new LoopExceptionContext("Accept failed", new IOException("first\r\nsecond")) { Source = new MultiLine() });

        Assert.Equal(["AsyncNet event loop: Accept failed (source: a b): IOException: first second"], Lines());
    }

    [Fact]
    public void AReportWithoutException_IsItsMessage()
    {
        EventLoop loop = Loop();
        loop.DefaultExceptionHandler(new LoopExceptionContext("Something to know", null));

        Assert.Equal(["AsyncNet event loop: Something to know"], Lines());
    }

    [Fact]
    public void RateLimit_WritesAtMostTheLimitPerKindPerSecond_ThenSumsUpTheRestBeforeTheNextReport()
    {
        EventLoop loop = Loop(maxPerSecond: 3);
        for (int i = 0; i < 10; i++)
        {
            loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, new IOException($"peer {i}")));
        }

        // Another kind: the same message with another exception type has its own budget.
        loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, new TimeoutException("slow peer")));

        _clock.Advance(TimeSpan.FromMilliseconds(999));
        loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, new IOException("still held back")));

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, new IOException("peer 11")));

        Assert.Equal(
            [
                $"AsyncNet event loop: {ServerHandler}: IOException: peer 0",
                $"AsyncNet event loop: {ServerHandler}: IOException: peer 1",
                $"AsyncNet event loop: {ServerHandler}: IOException: peer 2",
                $"AsyncNet event loop: {ServerHandler}: TimeoutException: slow peer",
                $"AsyncNet event loop: Suppressed 8 similar reports within 1 s: {ServerHandler}: IOException",
                $"AsyncNet event loop: {ServerHandler}: IOException: peer 11",
            ],
            Lines());
    }

    [Fact]
    public void RateLimit_OnTheLoop_ATimerWritesTheSummaryWhenTheSecondIsOver()
    {
        EventLoop loop = Loop(maxPerSecond: 2);
        loop.RunUntilComplete(async () =>
        {
            for (int i = 0; i < 5; i++)
            {
                loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, new IOException("peer")));
            }

            Assert.Equal(2, Lines().Length);
            _clock.Advance(TimeSpan.FromSeconds(1));
            await loop.SleepAsync(TimeSpan.Zero);
            await loop.SleepAsync(TimeSpan.Zero);
        });

        Assert.Equal($"AsyncNet event loop: Suppressed 3 similar reports within 1 s: {ServerHandler}: IOException", Lines()[^1]);
        Assert.Equal(3, Lines().Length);
    }

    [Fact]
    public void RateLimit_Close_WritesTheSummaryOfReportsStillHeldBack()
    {
        EventLoop loop = Loop(maxPerSecond: 1);
        loop.DefaultExceptionHandler(new LoopExceptionContext("Exception in callback X.Y", new InvalidOperationException("bug")));
        loop.DefaultExceptionHandler(new LoopExceptionContext("Exception in callback X.Y", new InvalidOperationException("bug")));
        loop.Close();

        Assert.Equal("AsyncNet event loop: Suppressed 1 similar reports within 1 s: Exception in callback X.Y: InvalidOperationException", Lines()[^1]);
    }

    [Fact]
    public void Logger_GetsStructuredErrors_WithTheExceptionOnlyForBugs()
    {
        var logger = new CapturingLogger();
        EventLoop loop = Loop(logger: logger);
        loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, new IOException("peer gone")) { Source = "server" });
        Exception bug = Thrown(new InvalidOperationException("bug"));
        loop.DefaultExceptionHandler(new LoopExceptionContext("Exception in callback X.Y", bug));
        loop.DefaultExceptionHandler(new LoopExceptionContext("Just so you know", null));

        Assert.Equal(string.Empty, _output.ToString());
        Assert.Collection(
            logger.Entries,
            network =>
            {
                Assert.Equal(LogLevel.Error, network.Level);
                Assert.Equal(new EventId(1, "LoopException"), network.EventId);
                Assert.Equal($"{ServerHandler} (source: server): IOException: peer gone", network.Message);
                Assert.Null(network.Exception);
                Assert.Equal("IOException", network.Values["ExceptionType"]);
                Assert.Equal("peer gone", network.Values["ExceptionMessage"]);
            },
            withTrace =>
            {
                Assert.Equal("Exception in callback X.Y: InvalidOperationException: bug", withTrace.Message);
                Assert.Same(bug, withTrace.Exception);
            },
            plain => Assert.Equal("Just so you know", plain.Message));
    }

    [Fact]
    public void Logger_GetsSlowCallbackWarningsAndSummaries()
    {
        var logger = new CapturingLogger();
        EventLoop loop = Loop(logger: logger, maxPerSecond: 1, debug: true);
        loop.CallSoon(() => _clock.Advance(TimeSpan.FromMilliseconds(200)));
        loop.RunOnce();
        loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, new IOException("a")));
        loop.DefaultExceptionHandler(new LoopExceptionContext(ServerHandler, new IOException("b")));
        loop.Close();

        CapturingLogger.Entry slow = logger.Entries[0];
        Assert.Equal(LogLevel.Warning, slow.Level);
        Assert.Equal(new EventId(2, "SlowCallback"), slow.EventId);
        Assert.Equal(0.2, (double)slow.Values["Seconds"]!, 9);
        Assert.EndsWith(" took 0.200 s", slow.Message, StringComparison.Ordinal);

        CapturingLogger.Entry summary = logger.Entries[^1];
        Assert.Equal(LogLevel.Warning, summary.Level);
        Assert.Equal(new EventId(3, "ReportsSuppressed"), summary.EventId);
        Assert.Equal(1L, summary.Values["Count"]);
        Assert.Equal($"Suppressed 1 similar reports within 1 s: {ServerHandler}: IOException", summary.Message);
    }

    [Fact]
    public void CallExceptionHandler_WithoutAHandler_WritesThroughTheDefault()
    {
        EventLoop loop = Loop();
        loop.CallSoon(() => throw new IOException("from a callback"));
        loop.RunOnce();

        Assert.Equal(["AsyncNet event loop: Exception in callback DefaultExceptionHandlerTests.CallExceptionHandler_WithoutAHandler_WritesThroughTheDefault (lambda): IOException: from a callback"], Lines());
    }

    private EventLoop Loop(int maxPerSecond = EventLoopOptions.DefaultMaxReportsPerSecond, ILogger? logger = null, bool debug = false)
    {
        var loop = new EventLoop(new EventLoopOptions
        {
            TimeProvider = _clock,
            ErrorOutput = _output,
            MaxReportsPerSecond = maxPerSecond,
            Logger = logger,
            Debug = debug,
        });
        _loops.Add(loop);
        return loop;
    }

    private string[] Lines() => _output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Throws and catches <paramref name="exception"/>, so it carries a stack trace as a real failure does.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception caught)
        {
            return caught;
        }
    }

    private sealed class MultiLine
    {
        public override string ToString() => "a\nb";
    }
}
