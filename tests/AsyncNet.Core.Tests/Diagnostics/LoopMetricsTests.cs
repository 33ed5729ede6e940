using AsyncNet.Diagnostics;
using AsyncNet.Loop;
using AsyncNet.Tests.Shared;
using AsyncNet.Tests.Support;

namespace AsyncNet.Tests.Diagnostics;

/// <summary>The loop's instruments of the "AsyncNet" meter, on a manual clock: the loop is stepped with RunOnce.</summary>
public sealed class LoopMetricsTests : IDisposable
{
    private readonly ManualTimeProvider _clock = new();
    private readonly StringWriter _output = new();
    private readonly EventLoop _loop;
    private readonly MetricsRecorder _metrics;

    public LoopMetricsTests()
    {
        _loop = new EventLoop(new EventLoopOptions { TimeProvider = _clock, Debug = false, ErrorOutput = _output });
        _metrics = new MetricsRecorder(_loop);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _loop.Close();
    }

    [Fact]
    public void ReadyCallbacks_RecordsHowManyCallbacksEachIterationRan()
    {
        _loop.CallSoon(() => _loop.CallSoon(() => { }));
        _loop.CallSoon(() => { });
        _loop.CallSoon(() => { });

        _loop.RunOnce();
        _loop.RunOnce();

        Assert.Equal([3.0, 1.0], _metrics.Of(AsyncNetMetrics.LoopReadyCallbacks).Select(m => m.Value));
    }

    [Fact]
    public void IterationDuration_IsTheIterationsWorkOnTheLoopsClock_RecordedOncePerIteration()
    {
        _loop.CallSoon(() => _clock.Advance(TimeSpan.FromMilliseconds(5)));
        _loop.CallSoon(() => _clock.Advance(TimeSpan.FromMilliseconds(2)));
        _loop.RunOnce();

        MetricsRecorder.Recorded duration = Assert.Single(_metrics.Of(AsyncNetMetrics.LoopIterationDuration));
        Assert.Equal(0.007, duration.Value, 9);
    }

    [Fact]
    public void SlowCallbacks_CountsCallbacksThatRanAtLeastTheThreshold_EvenWithoutDebugMode()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), _loop.SlowCallbackDuration);
        _loop.CallSoon(() => _clock.Advance(TimeSpan.FromMilliseconds(150)));
        _loop.CallSoon(() => _clock.Advance(TimeSpan.FromMilliseconds(99)));
        _loop.CallSoon(() => _clock.Advance(TimeSpan.FromMilliseconds(100)));
        _loop.RunOnce();

        Assert.Equal(2, _metrics.Sum(AsyncNetMetrics.SlowCallbacks));

        // Counting is not debug mode: nothing is written.
        Assert.Equal(string.Empty, _output.ToString());
    }
}
