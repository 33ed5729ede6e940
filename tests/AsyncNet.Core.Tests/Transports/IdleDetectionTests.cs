using AsyncNet.Errors;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary>
/// The idle rules to the tick, on a manual clock over real TCP connections: when each kind is reported, the first flag,
/// repeats, what activity resets, pauses, close-on-idle, and one timer per connection however busy.
/// </summary>
public sealed class IdleDetectionTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);

    private readonly ManualClockLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void ReadIdle_SilentPeer_ReportedAtTheTimeoutThenOncePerFurtherTimeout() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { ReadIdle = Timeout });
        List<IdleEvent> events = pair.ServerProtocol.IdleEvents;

        await _test.AdvanceAsync(199);
        Assert.Empty(events);
        await _test.AdvanceAsync(1);
        Assert.Equal([new IdleEvent(IdleKind.Read, isFirst: true, Timeout, Timeout)], events);

        await _test.AdvanceAsync(199);
        Assert.Single(events);
        await _test.AdvanceAsync(1);
        await _test.AdvanceAsync(200);
        Assert.Equal(
            [
                new IdleEvent(IdleKind.Read, isFirst: true, Timeout, Timeout),
                new IdleEvent(IdleKind.Read, isFirst: false, Timeout, 2 * Timeout),
                new IdleEvent(IdleKind.Read, isFirst: false, Timeout, 3 * Timeout),
            ],
            events);
        await pair.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void ReadIdle_DataKeepsArriving_NeverReported_WithOneTimerThroughout() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { ReadIdle = Timeout });
        int timers = _test.Loop.ScheduledTimerCount;

        // Ten timeouts' worth of time, with a byte every 150 ms: the timer fires, finds activity, re-arms for the rest.
        for (int i = 0; i < 14; i++)
        {
            await _test.AdvanceAsync(150);
            await pair.PeerSendsAsync();
            Assert.Equal(timers, _test.Loop.ScheduledTimerCount);
        }

        Assert.Empty(pair.ServerProtocol.IdleEvents);

        // Silence from the last byte on: reported exactly one timeout after it.
        await _test.AdvanceAsync(199);
        Assert.Empty(pair.ServerProtocol.IdleEvents);
        await _test.AdvanceAsync(1);
        Assert.Equal([new IdleEvent(IdleKind.Read, isFirst: true, Timeout, Timeout)], pair.ServerProtocol.IdleEvents);
        await pair.DisposeAsync();
    });

    [Fact]
    public void ReadIdle_ActivityAfterAReport_StartsANewStretchWhoseFirstReportIsFirst() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { ReadIdle = Timeout });
        await _test.AdvanceAsync(200);
        await _test.AdvanceAsync(200);
        await pair.PeerSendsAsync();
        await _test.AdvanceAsync(200);

        Assert.Equal([true, false, true], pair.ServerProtocol.IdleEvents.Select(e => e.IsFirst));
        Assert.Equal(Timeout, pair.ServerProtocol.IdleEvents[2].IdleTime);
        await pair.DisposeAsync();
    });

    [Fact]
    public void WriteIdle_NothingWritten_Reported_AndAHeartbeatWrittenFromTheReportReachesThePeer() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(
            _test.Loop,
            StreamFamily.Tcp4,
            new IdleOptions { WriteIdle = Timeout },
            () => new IdleRecordingProtocol { OnIdle = static (p, idle) => p.Transport.Write("ping"u8) });

        // Incoming bytes are not writes.
        await _test.AdvanceAsync(100);
        await pair.PeerSendsAsync();
        await _test.AdvanceAsync(100);
        Assert.Equal([new IdleEvent(IdleKind.Write, isFirst: true, Timeout, Timeout)], pair.ServerProtocol.IdleEvents);
        await pair.ClientProtocol.WaitForBytesAsync(4);
        Assert.Equal("ping"u8.ToArray(), pair.ClientProtocol.Received);

        // The ping was a write: the next report is a full timeout after it, and a first one.
        await _test.AdvanceAsync(199);
        Assert.Single(pair.ServerProtocol.IdleEvents);
        await _test.AdvanceAsync(1);
        Assert.Equal([true, true], pair.ServerProtocol.IdleEvents.Select(e => e.IsFirst));
        await pair.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void WriteIdle_WritesKeepComing_NeverReported() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { WriteIdle = Timeout });
        for (int i = 1; i <= 10; i++)
        {
            await _test.AdvanceAsync(150);
            pair.ServerTransport.Write("y"u8);
            await pair.ClientProtocol.WaitForBytesAsync(i);
        }

        Assert.Empty(pair.ServerProtocol.IdleEvents);
        await pair.DisposeAsync();
    });

    [Fact]
    public void WriteIdle_EchoingFromDataReceived_CountsAsWriting() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(
            _test.Loop,
            StreamFamily.Tcp4,
            new IdleOptions { ReadIdle = Timeout, WriteIdle = Timeout },
            () => new IdleRecordingProtocol { OnData = static (p, data) => p.Transport.Write(data) });
        for (int i = 1; i <= 10; i++)
        {
            await _test.AdvanceAsync(150);
            await pair.PeerSendsAsync();
            await pair.ClientProtocol.WaitForBytesAsync(i);
        }

        Assert.Empty(pair.ServerProtocol.IdleEvents);
        await _test.AdvanceAsync(200);
        Assert.Equal([IdleKind.Read, IdleKind.Write], pair.ServerProtocol.IdleEvents.Select(e => e.Kind));
        await pair.DisposeAsync();
    });

    [Fact]
    public void BufferedProtocol_ReadsAndAnswers_KeepBothSidesQuiet_SilenceIsReported() => _test.Run(async () =>
    {
        var accepted = new TaskCompletionSource<BufferedIdleProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () =>
        {
            var protocol = new BufferedIdleProtocol();
            accepted.TrySetResult(protocol);
            return protocol;
        }, new ServerOptions { Idle = new IdleOptions { ReadIdle = Timeout, WriteIdle = Timeout } });
        (IStreamTransport client, RecordingProtocol clientProtocol) = await StreamFamily.Tcp4.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        BufferedIdleProtocol serverProtocol = await accepted.Task;
        for (int i = 1; i <= 10; i++)
        {
            await _test.AdvanceAsync(150);
            client.Write("x"u8);
            await clientProtocol.WaitForBytesAsync(i);
        }

        Assert.Equal(10, serverProtocol.ReceivedCount);
        Assert.Empty(serverProtocol.IdleEvents);
        await _test.AdvanceAsync(200);
        Assert.Equal([IdleKind.Read, IdleKind.Write], serverProtocol.IdleEvents.Select(e => e.Kind));
        client.Abort();
        await clientProtocol.Lost;
        await server.DisposeAsync();
    });

    [Fact]
    public void WriteIdle_AfterWriteEof_NoLongerReported() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { WriteIdle = Timeout });
        await _test.AdvanceAsync(200);
        Assert.Single(pair.ServerProtocol.IdleEvents);
        pair.ServerTransport.WriteEof();
        await _test.AdvanceAsync(200);
        await _test.AdvanceAsync(200);
        Assert.Single(pair.ServerProtocol.IdleEvents);
        await pair.DisposeAsync();
    });

    [Fact]
    public void AllIdle_EitherDirectionKeepsItQuiet_ReportedWhenBothAreSilent() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { AllIdle = Timeout });
        for (int i = 0; i < 4; i++)
        {
            await _test.AdvanceAsync(150);
            await pair.PeerSendsAsync();
        }

        for (int i = 1; i <= 4; i++)
        {
            await _test.AdvanceAsync(150);
            pair.ServerTransport.Write("y"u8);
            await pair.ClientProtocol.WaitForBytesAsync(i);
        }

        Assert.Empty(pair.ServerProtocol.IdleEvents);
        await _test.AdvanceAsync(200);
        Assert.Equal([new IdleEvent(IdleKind.All, isFirst: true, Timeout, Timeout)], pair.ServerProtocol.IdleEvents);
        await pair.DisposeAsync();
    });

    [Fact]
    public void AllKinds_DueTogether_ReportedInOrderReadWriteAll() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(
            _test.Loop, StreamFamily.Tcp4, new IdleOptions { ReadIdle = Timeout, WriteIdle = Timeout, AllIdle = Timeout });
        await _test.AdvanceAsync(200);
        Assert.Equal([IdleKind.Read, IdleKind.Write, IdleKind.All], pair.ServerProtocol.IdleEvents.Select(e => e.Kind));
        await pair.DisposeAsync();
    });

    [Fact]
    public void ReadIdle_WhileReadingIsPaused_NotReported_AndResumingStartsAFreshStretch() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { ReadIdle = Timeout });
        pair.ServerTransport.PauseReading();
        for (int i = 0; i < 5; i++)
        {
            await _test.AdvanceAsync(200);
        }

        Assert.Empty(pair.ServerProtocol.IdleEvents);
        pair.ServerTransport.ResumeReading();
        await _test.AdvanceAsync(199);
        Assert.Empty(pair.ServerProtocol.IdleEvents);
        await _test.AdvanceAsync(1);
        Assert.Equal([new IdleEvent(IdleKind.Read, isFirst: true, Timeout, Timeout)], pair.ServerProtocol.IdleEvents);
        await pair.DisposeAsync();
    });

    [Fact]
    public void CloseOnIdle_SilentPeer_AbortsWithIdleTimeoutNamingKindAndDuration_AndThePeerSeesTheClose() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { ReadIdle = Timeout, CloseOnIdle = true });
        await _test.AdvanceAsync(199);
        Assert.False(pair.ServerTransport.IsClosing);
        await _test.AdvanceAsync(1);

        var timeout = Assert.IsType<IdleTimeoutException>(await pair.ServerProtocol.Lost);
        Assert.Equal(IdleKind.Read, timeout.Kind);
        Assert.Equal(Timeout, timeout.Timeout);
        Assert.Equal(System.Net.Sockets.SocketError.TimedOut, timeout.SocketError);
        Assert.Contains("200 ms", timeout.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", timeout.Message, StringComparison.Ordinal);
        Assert.Empty(pair.ServerProtocol.IdleEvents);
        await pair.PeerSeesCloseAsync();

        // Closing is an expected outcome, not a fault worth logging.
        Assert.Empty(_test.HandlerReports);
        await pair.DisposeAsync();
    });

    [Fact]
    public void CloseOnIdle_AllIdle_Closes_ButWriteIdleIsStillOnlyReported() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(
            _test.Loop,
            StreamFamily.Tcp4,
            new IdleOptions { WriteIdle = TimeSpan.FromMilliseconds(100), AllIdle = TimeSpan.FromMilliseconds(300), CloseOnIdle = true });
        for (int i = 0; i < 5; i++)
        {
            await _test.AdvanceAsync(100);
            await pair.PeerSendsAsync();
        }

        Assert.Equal(5, pair.ServerProtocol.IdleEvents.Count(e => e.Kind == IdleKind.Write));
        Assert.False(pair.ServerTransport.IsClosing);

        await _test.AdvanceAsync(300);
        var timeout = Assert.IsType<IdleTimeoutException>(await pair.ServerProtocol.Lost);
        Assert.Equal(IdleKind.All, timeout.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(300), timeout.Timeout);
        Assert.DoesNotContain(pair.ServerProtocol.IdleEvents, e => e.Kind == IdleKind.All);
        await pair.PeerSeesCloseAsync();
        await pair.DisposeAsync();
    });

    [Fact]
    public void CloseOnIdle_SteadyTrickle_KeepsTheConnectionOpenPastManyTimeouts() => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { ReadIdle = Timeout, CloseOnIdle = true });
        for (int i = 0; i < 20; i++)
        {
            await _test.AdvanceAsync(190);
            await pair.PeerSendsAsync();
        }

        Assert.False(pair.ServerTransport.IsClosing);
        Assert.Equal(20, pair.ServerProtocol.ReceivedCount);
        await pair.DisposeAsync();
    });

    [Fact]
    public void IdleDetected_Throws_ClosesWithThatExceptionAndReportsIt() => _test.Run(async () =>
    {
        var failure = new InvalidOperationException("heartbeat failed");
        IdlePair pair = await IdlePair.ConnectAsync(
            _test.Loop, StreamFamily.Tcp4, new IdleOptions { WriteIdle = Timeout }, () => new IdleRecordingProtocol { OnIdle = (_, _) => throw failure });
        await _test.AdvanceAsync(200);

        Assert.Same(failure, await pair.ServerProtocol.Lost);
        LoopExceptionContextAssert(failure);
        await pair.PeerSeesCloseAsync();
        await pair.DisposeAsync();
    });

    [Fact]
    public void Close_StopsIdleReports_AndCancelsTheTimer() => _test.Run(async () =>
    {
        int before = _test.Loop.ScheduledTimerCount;
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, StreamFamily.Tcp4, new IdleOptions { ReadIdle = Timeout, WriteIdle = Timeout });
        Assert.NotNull(pair.ServerTransport.IdleTracker);
        pair.ServerTransport.Close();
        await pair.ServerProtocol.Lost;
        await _test.AdvanceAsync(1000);
        Assert.Empty(pair.ServerProtocol.IdleEvents);
        await pair.DisposeAsync();
        await _test.Loop.YieldAsync(3);
        Assert.Equal(before, _test.Loop.ScheduledTimerCount);
    });

    [Fact]
    public void NoListenerAndNoClose_TracksNothing()
    {
        _test.Run(async () =>
        {
            var accepted = new TaskCompletionSource<RecordingProtocol>();
            Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () =>
            {
                var protocol = new RecordingProtocol();
                accepted.TrySetResult(protocol);
                return protocol;
            }, new ServerOptions { Idle = new IdleOptions { ReadIdle = Timeout, WriteIdle = Timeout, AllIdle = Timeout } });
            (IStreamTransport client, RecordingProtocol clientProtocol) = await StreamFamily.Tcp4.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
            RecordingProtocol serverProtocol = await accepted.Task;
            await serverProtocol.Made;

            // Nobody would hear a report and nothing would close: no tracker, no timer.
            Assert.Null(((SocketStreamTransport)serverProtocol.Transport).IdleTracker);
            client.Abort();
            await serverProtocol.Lost;
            await clientProtocol.Lost;
            await server.DisposeAsync();
        });
    }

    [Theory]
    [InlineData(0, null, null, false)]
    [InlineData(null, -1, null, false)]
    [InlineData(null, null, 0, false)]
    [InlineData(null, 100, null, true)]
    [InlineData(null, null, null, true)]
    public void Options_OutOfRange_RejectedWhenConnecting(int? readMs, int? writeMs, int? allMs, bool close)
    {
        var idle = new IdleOptions
        {
            ReadIdle = readMs is int r ? TimeSpan.FromMilliseconds(r) : null,
            WriteIdle = writeMs is int w ? TimeSpan.FromMilliseconds(w) : null,
            AllIdle = allMs is int a ? TimeSpan.FromMilliseconds(a) : null,
            CloseOnIdle = close,
        };
        Assert.Throws<ArgumentOutOfRangeException>("options", () => { _ = _test.Loop.CreateConnectionAsync(() => new RecordingProtocol(), "127.0.0.1", 1, new ConnectionOptions { Idle = idle }); });
        Assert.Throws<ArgumentOutOfRangeException>("options", () => { _ = _test.Loop.CreateServerAsync(() => new RecordingProtocol(), "127.0.0.1", 0, new ServerOptions { Idle = idle }); });
    }

    [Fact]
    public void IdleTimeoutException_MessageNamesTheKindThePeerAndTheDuration()
    {
        Assert.Equal(
            "Read idle timeout: nothing received from 10.0.0.1:80 for 250 ms; the connection was closed.",
            new IdleTimeoutException(IdleKind.Read, TimeSpan.FromMilliseconds(250), "10.0.0.1:80").Message);
        Assert.Equal(
            "All idle timeout: nothing received from or sent to the peer for 90 s; the connection was closed.",
            new IdleTimeoutException(IdleKind.All, TimeSpan.FromSeconds(90)).Message);
    }

    private void LoopExceptionContextAssert(Exception failure)
    {
        AsyncNet.Loop.LoopExceptionContext report = Assert.Single(_test.HandlerReports);
        Assert.Same(failure, report.Exception);
        Assert.Contains("IdleDetected", report.Message, StringComparison.Ordinal);
    }
}
