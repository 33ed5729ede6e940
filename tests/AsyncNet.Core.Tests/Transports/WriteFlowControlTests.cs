using System.Diagnostics.Metrics;
using AsyncNet.Diagnostics;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

public sealed class WriteFlowControlTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly FlowProtocol _protocol = new();
    private readonly List<LoopExceptionContext> _reports = [];

    public WriteFlowControlTests() => _loop.ExceptionHandler = (_, context) => _reports.Add(context);

    public void Dispose() => _loop.Close();

    [Theory]
    [InlineData(null, null, 65536, 16384)]
    [InlineData(1000, null, 1000, 250)]
    [InlineData(null, 100, 400, 100)]
    [InlineData(10, 10, 10, 10)]
    [InlineData(0, 0, 0, 0)]
    [InlineData(null, int.MaxValue, int.MaxValue, int.MaxValue)]
    public void ResolveLimits_FollowsAsyncioDefaults(int? high, int? low, int expectedHigh, int expectedLow) =>
        Assert.Equal((expectedHigh, expectedLow), WriteFlowControl.ResolveLimits(high, low, "options"));

    [Theory]
    [InlineData(10, 20)]
    [InlineData(-1, null)]
    [InlineData(null, -1)]
    public void ResolveLimits_RejectsNegativeMarksAndHighBelowLow(int? high, int? low)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => WriteFlowControl.ResolveLimits(high, low, "options"));
        Assert.Equal("options", error.ParamName);
        Assert.Contains("mark", error.Message);
    }

    [Fact]
    public void Pauses_OnlyStrictlyAboveHigh_AndResumes_OnlyAtOrBelowLow_Alternating()
    {
        WriteFlowControl flow = Create(high: 100, low: 20);
        flow.OnBufferGrew(100);
        Assert.Empty(_protocol.Events);
        flow.OnBufferGrew(101);
        flow.OnBufferGrew(500);
        Assert.Equal(["pause"], _protocol.Events);
        Assert.True(flow.IsWritingPaused);

        flow.OnBufferShrank(21);
        Assert.Equal(["pause"], _protocol.Events);
        flow.OnBufferShrank(20);
        flow.OnBufferShrank(0);
        Assert.Equal(["pause", "resume"], _protocol.Events);
        Assert.False(flow.IsWritingPaused);

        flow.OnBufferShrank(0);
        flow.OnBufferGrew(101);
        Assert.Equal(["pause", "resume", "pause"], _protocol.Events);
    }

    [Fact]
    public void SetLimits_RechecksAtOnce_BothWays_AndKeepsTheOldMarksWhenRejected()
    {
        WriteFlowControl flow = Create();
        flow.SetLimits(high: 50, low: 10, bufferedBytes: 60);
        Assert.Equal(["pause"], _protocol.Events);
        flow.SetLimits(high: 1000, low: 60, bufferedBytes: 60);
        Assert.Equal(["pause", "resume"], _protocol.Events);

        Assert.Throws<ArgumentOutOfRangeException>(() => flow.SetLimits(high: 1, low: 2, bufferedBytes: 60));
        Assert.Equal((1000, 60), (flow.HighWaterMark, flow.LowWaterMark));
    }

    [Fact]
    public void PauseUntilLowWater_BetweenTheMarks_PausesNow_AndResumesAtTheLowMark()
    {
        WriteFlowControl flow = Create(high: 100, low: 20);
        Assert.False(flow.PauseUntilLowWater(20), "At the low mark there is nothing to wait for");
        Assert.Empty(_protocol.Events);

        Assert.True(flow.PauseUntilLowWater(50));
        Assert.True(flow.PauseUntilLowWater(50), "Already paused: the resume is coming");
        Assert.Equal(["pause"], _protocol.Events);
        flow.OnBufferShrank(21);
        flow.OnBufferShrank(20);
        Assert.Equal(["pause", "resume"], _protocol.Events);
    }

    [Fact]
    public void Stop_EndsEveryCallback()
    {
        WriteFlowControl flow = Create(high: 10, low: 0);
        flow.OnBufferGrew(11);
        flow.Stop();
        flow.OnBufferShrank(0);
        flow.SetLimits(1, 0, 5);
        Assert.False(flow.PauseUntilLowWater(100));
        Assert.Equal(["pause"], _protocol.Events);
        Assert.Contains("Stopped", flow.ToString());
    }

    [Fact]
    public void AThrowingProtocol_GoesToTheLoopsHandler_NamingTheTransport_AndFlowControlGoesOn()
    {
        _protocol.Throw = true;
        var transport = new QuietTransport();
        var flow = new WriteFlowControl(_loop, _protocol, transport, 10, 0);
        flow.OnBufferGrew(11);
        flow.OnBufferShrank(0);

        Assert.Equal(["pause", "resume"], _protocol.Events);
        Assert.Equal(2, _reports.Count);
        Assert.Contains("PauseWriting", _reports[0].Message);
        Assert.Contains("ResumeWriting", _reports[1].Message);
        Assert.Same(transport, _reports[0].Source);
    }

    [Fact]
    public void Constructor_NamesTheMissingArgument()
    {
        var transport = new QuietTransport();
        Assert.Equal("loop", Assert.Throws<ArgumentNullException>(() => new WriteFlowControl(null!, _protocol, transport)).ParamName);
        Assert.Equal("protocol", Assert.Throws<ArgumentNullException>(() => new WriteFlowControl(_loop, null!, transport)).ParamName);
        Assert.Equal("transport", Assert.Throws<ArgumentNullException>(() => new WriteFlowControl(_loop, _protocol, null!)).ParamName);
    }

    [Fact]
    public void BadMarks_NameTheArgumentThatWasGiven_InTheConstructorAndInSetLimits()
    {
        var transport = new QuietTransport();
        Assert.Equal("lowWaterMark", Assert.Throws<ArgumentOutOfRangeException>(() => new WriteFlowControl(_loop, _protocol, transport, null, -1)).ParamName);
        Assert.Equal("highWaterMark", Assert.Throws<ArgumentOutOfRangeException>(() => new WriteFlowControl(_loop, _protocol, transport, -1, null)).ParamName);
        Assert.Equal("highWaterMark", Assert.Throws<ArgumentOutOfRangeException>(() => new WriteFlowControl(_loop, _protocol, transport, 10, 20)).ParamName);

        WriteFlowControl flow = Create(high: 100, low: 20);
        Assert.Equal("low", Assert.Throws<ArgumentOutOfRangeException>(() => flow.SetLimits(null, -1, 0)).ParamName);
        Assert.Equal("high", Assert.Throws<ArgumentOutOfRangeException>(() => flow.SetLimits(-1, null, 0)).ParamName);
    }

    [Theory]
    [InlineData(-1, null)]
    [InlineData(null, -1)]
    [InlineData(-1, 5)]
    [InlineData(5, -1)]
    public void ResolveLimits_OneNegativeMark_IsReportedAsNegative(int? high, int? low)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => WriteFlowControl.ResolveLimits(high, low, "options"));
        Assert.Contains("must not be negative", error.Message);
    }

    [Fact]
    public async Task InDebugMode_SetLimitsFromAnotherThread_Throws()
    {
        await using EventLoop debug = EventLoop.StartOnNewThread(new EventLoopOptions { Debug = true });
        var flow = new WriteFlowControl(debug, _protocol, new QuietTransport(), 100, 20);
        Assert.Throws<InvalidOperationException>(() => flow.SetLimits(200, 50, 0));
        Assert.Equal(100, flow.HighWaterMark);
    }

    [Fact]
    public void ToString_ShowsTheMarks_AndWhetherPausedOrStopped()
    {
        WriteFlowControl flow = Create(high: 100, low: 20);
        Assert.Equal("WriteFlowControl(High=100, Low=20)", flow.ToString());
        flow.OnBufferGrew(101);
        Assert.Equal("WriteFlowControl(High=100, Low=20, Paused)", flow.ToString());
        flow.Stop();
        Assert.Equal("WriteFlowControl(High=100, Low=20, Paused, Stopped)", flow.ToString());
    }

    [Fact]
    public void APause_WithoutConnectionMetrics_IsCountedOnTheMeter()
    {
        long pauses = 0;
        WriteFlowControl flow = Create(high: 100, low: 20);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AsyncNet" && instrument.Name == AsyncNetMetrics.WritePauses)
            {
                l.EnableMeasurementEvents(instrument, flow);
            }
        };

        // Only this flow's thread counts: other tests pause their own flows concurrently.
        int thread = Environment.CurrentManagedThreadId;
        listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            if (Environment.CurrentManagedThreadId == thread)
            {
                Interlocked.Add(ref pauses, value);
            }
        });
        listener.Start();

        flow.OnBufferGrew(101);
        flow.OnBufferShrank(0);
        flow.OnBufferGrew(101);
        Assert.Equal(2, Interlocked.Read(ref pauses));
    }

    private WriteFlowControl Create(int? high = null, int? low = null) => new(_loop, _protocol, new QuietTransport(), high, low);

    private sealed class FlowProtocol : IBaseProtocol
    {
        public List<string> Events { get; } = [];

        public bool Throw { get; set; }

        public void ConnectionMade(ITransport transport)
        {
        }

        public void ConnectionLost(Exception? exception)
        {
        }

        public void PauseWriting() => Record("pause");

        public void ResumeWriting() => Record("resume");

        private void Record(string what)
        {
            Events.Add(what);
            if (Throw)
            {
                throw new InvalidOperationException(what);
            }
        }
    }
}
