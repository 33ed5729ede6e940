using System.Runtime.CompilerServices;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Loop;

/// <summary>
/// asyncio's debug mode (<see cref="EventLoopOptions.Debug"/>): slow-callback warnings, exceptions nobody retrieved, and
/// the thread check where it is skipped for speed otherwise.
/// </summary>
public sealed class DebugModeTests : IDisposable
{
    private readonly ManualTimeProvider _clock = new();
    private readonly StringWriter _output = new();
    private readonly List<LoopExceptionContext> _reports = [];
    private readonly List<EventLoop> _loops = [];

    public void Dispose()
    {
        foreach (EventLoop loop in _loops)
        {
            loop.Close();
        }
    }

    [Fact]
    public void Debug_DefaultsToTheEnvironmentVariable_AndIsTurnedOnByTheOption()
    {
        Assert.Equal(EventLoopOptions.IsDebugSetting(Environment.GetEnvironmentVariable(EventLoopOptions.DebugEnvironmentVariable)), new EventLoopOptions().Debug);
        Assert.False(Loop(debug: false).IsDebugMode);
        Assert.True(Loop(debug: true).IsDebugMode);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData(" TRUE ", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("yes", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void DebugEnvironmentVariable_TurnsDebugOnFor1OrTrueOnly(string? value, bool expected) =>
        Assert.Equal(expected, EventLoopOptions.IsDebugSetting(value));

    [Fact]
    public void Options_OutOfRange_AreRejectedByTheLoop()
    {
        Assert.Throws<ArgumentOutOfRangeException>("options", () => new EventLoop(new EventLoopOptions { SlowCallbackDuration = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>("options", () => new EventLoop(new EventLoopOptions { MaxReportsPerSecond = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>("options", () => new EventLoopGroup(new EventLoopGroupOptions { LoopOptions = new EventLoopOptions { MaxReportsPerSecond = 0 } }));
    }

    [Fact]
    public void SlowCallback_InDebugMode_IsReportedNamingItsTypeAndMethod_AndFastOnesAreNot()
    {
        EventLoop loop = Loop(debug: true);
        loop.CallSoon(SlowCallback);
        loop.CallSoon(() => _clock.Advance(TimeSpan.FromMilliseconds(99)));
        loop.CallSoon(static state => ((ManualTimeProvider)state!).Advance(TimeSpan.FromMilliseconds(120)), _clock);
        loop.RunOnce();

        Assert.Equal(
            [
                "AsyncNet event loop: Executing DebugModeTests.SlowCallback took 0.250 s",
                "AsyncNet event loop: Executing DebugModeTests.SlowCallback_InDebugMode_IsReportedNamingItsTypeAndMethod_AndFastOnesAreNot (lambda) took 0.120 s",
            ],
            Lines());
    }

    [Fact]
    public void SlowCallback_AnAwaitContinuation_IsNamedByTheAsyncMethodItResumes()
    {
        EventLoop loop = Loop(debug: true);
        loop.RunUntilComplete(SlowAfterYieldAsync);

        Assert.Equal(["AsyncNet event loop: Executing DebugModeTests.SlowAfterYieldAsync (async) took 0.300 s"], Lines());
    }

    [Fact]
    public void SlowCallback_WithoutDebugMode_IsNotReported()
    {
        EventLoop loop = Loop(debug: false);
        loop.CallSoon(SlowCallback);
        loop.RunOnce();

        Assert.Empty(Lines());
    }

    [Fact]
    public void SlowCallback_Threshold_IsTheOption()
    {
        EventLoop loop = Loop(debug: true, slow: TimeSpan.FromSeconds(1));
        loop.CallSoon(SlowCallback);
        loop.RunOnce();
        Assert.Empty(Lines());

        loop.CallSoon(() => _clock.Advance(TimeSpan.FromSeconds(1)));
        loop.RunOnce();
        Assert.Single(Lines());
    }

    [Fact]
    public void ExceptionInCallback_NamesTheCallbackByTypeAndMethod()
    {
        EventLoop loop = Loop(debug: false);
        loop.CallSoon(ThrowingCallback);
        loop.RunOnce();

        Assert.Equal("Exception in callback DebugModeTests.ThrowingCallback", Assert.Single(_reports).Message);
    }

    [Fact]
    public void FutureException_NeverRetrieved_InDebugMode_IsReportedWhenTheFutureIsCollected()
    {
        EventLoop loop = Loop(debug: true);
        FailFuture(loop, retrieve: false);
        CollectGarbage();
        Step(loop);

        LoopExceptionContext report = Assert.Single(_reports);
        Assert.Equal("Future exception was never retrieved", report.Message);
        Assert.Equal("dropped", Assert.IsType<InvalidDataException>(report.Exception).Message);
        Assert.NotNull(report.Future);
    }

    [Fact]
    public void FutureException_Retrieved_IsNotReported()
    {
        EventLoop loop = Loop(debug: true);
        FailFuture(loop, retrieve: true);
        AwaitFailedFuture(loop);
        CollectGarbage();
        Step(loop);

        Assert.Empty(_reports);
    }

    [Fact]
    public void FutureException_NeverRetrieved_WithoutDebugMode_IsNotReported()
    {
        EventLoop loop = Loop(debug: false);
        FailFuture(loop, retrieve: false);
        CollectGarbage();
        Step(loop);

        Assert.Empty(_reports);
    }

    [Fact]
    public void TaskException_NeverObserved_InDebugMode_IsReportedWhenTheTaskIsCollected()
    {
        EventLoop loop = Loop(debug: true);
        StartFailingTask(loop, observe: false);
        Step(loop);
        CollectGarbage();
        Step(loop);

        LoopExceptionContext report = Assert.Single(_reports, r => r.Message == "Task exception was never retrieved");
        Assert.Equal("task dropped", Assert.IsType<InvalidDataException>(report.Exception).Message);
    }

    [Fact]
    public void TaskException_Observed_IsNotReported()
    {
        EventLoop loop = Loop(debug: true);
        StartFailingTask(loop, observe: true);
        CollectGarbage();
        Step(loop);

        Assert.DoesNotContain(_reports, r => r.Message == "Task exception was never retrieved");
    }

    [Fact]
    public void TaskException_NeverObserved_WithoutDebugMode_IsNotReported()
    {
        EventLoop loop = Loop(debug: false);
        StartFailingTask(loop, observe: false);
        Step(loop);
        CollectGarbage();
        Step(loop);

        Assert.Empty(_reports);
    }

    [Fact]
    public async Task DebugMode_FutureStateReadFromAnotherThreadWhileTheLoopRuns_Throws()
    {
        await using EventLoop debug = EventLoop.StartOnNewThread(new EventLoopOptions { Debug = true });
        Future<int> future = debug.CreateFuture<int>();
        Assert.Throws<InvalidOperationException>(() => future.IsDone);
        Assert.Throws<InvalidOperationException>(() => future.IsCancelled);
        Assert.Throws<InvalidOperationException>(() => future.Exception);

        // Without debug mode the read is not checked, for speed.
        await using EventLoop fast = EventLoop.StartOnNewThread(new EventLoopOptions { Debug = false });
        Assert.False(fast.CreateFuture<int>().IsDone);
    }

    [Fact]
    public async Task DebugMode_WriteFlowControlFromAnotherThreadWhileTheLoopRuns_Throws()
    {
        await using EventLoop debug = EventLoop.StartOnNewThread(new EventLoopOptions { Debug = true });
        var flow = new WriteFlowControl(debug, new QuietProtocol(), new QuietTransport(), 10, 0);
        Assert.Throws<InvalidOperationException>(() => flow.OnBufferGrew(11));
        Assert.Throws<InvalidOperationException>(() => flow.OnBufferShrank(0));
        Assert.Throws<InvalidOperationException>(() => flow.PauseUntilLowWater(5));
        Assert.Throws<InvalidOperationException>(() => flow.SetLimits(10, 0, 0));
        Assert.Throws<InvalidOperationException>(flow.Stop);
        Assert.False(flow.IsWritingPaused);

        // On the loop thread it works as ever.
        Assert.True(await debug.RunCoroutineThreadSafe(() =>
        {
            flow.OnBufferGrew(11);
            return Task.FromResult(flow.IsWritingPaused);
        }));

        await using EventLoop fast = EventLoop.StartOnNewThread(new EventLoopOptions { Debug = false });
        var fastFlow = new WriteFlowControl(fast, new QuietProtocol(), new QuietTransport(), 10, 0);
        fastFlow.OnBufferGrew(11);
        Assert.True(fastFlow.IsWritingPaused);
    }

    [Fact]
    public async Task DebugMode_SyncPrimitivesStateReadFromAnotherThread_Throws_ButTheirDescriptionsDoNot()
    {
        await using EventLoop debug = EventLoop.StartOnNewThread(new EventLoopOptions { Debug = true });
        var signal = new AsyncNet.Sync.AsyncEvent(debug);
        var gate = new AsyncNet.Sync.AsyncLock(debug);
        var semaphore = new AsyncNet.Sync.AsyncBoundedSemaphore(debug, 2);
        var condition = new AsyncNet.Sync.AsyncCondition(debug, gate);
        var queue = new AsyncNet.Sync.AsyncQueue<int>(debug);

        Assert.Throws<InvalidOperationException>(() => signal.IsSet);
        Assert.Throws<InvalidOperationException>(() => gate.IsLocked);
        Assert.Throws<InvalidOperationException>(() => semaphore.CurrentCount);
        Assert.Throws<InvalidOperationException>(() => condition.WaitingCount);
        Assert.Throws<InvalidOperationException>(() => queue.Count);
        Assert.Equal("AsyncBoundedSemaphore(Count=2, Bound=2, Waiting=0)", semaphore.ToString());
        Assert.Equal("AsyncCondition(Unlocked, Waiting=0)", condition.ToString());

        await using EventLoop fast = EventLoop.StartOnNewThread(new EventLoopOptions { Debug = false });
        Assert.False(new AsyncNet.Sync.AsyncEvent(fast).IsSet);
    }

    private EventLoop Loop(bool debug, TimeSpan? slow = null)
    {
        var loop = new EventLoop(new EventLoopOptions
        {
            Debug = debug,
            TimeProvider = _clock,
            ErrorOutput = _output,
            SlowCallbackDuration = slow ?? EventLoopOptions.DefaultSlowCallbackDuration,
        });
        loop.ExceptionHandler = (_, context) =>
        {
            lock (_reports)
            {
                _reports.Add(context);
            }
        };
        _loops.Add(loop);
        return loop;
    }

    private void SlowCallback() => _clock.Advance(TimeSpan.FromMilliseconds(250));

    private void ThrowingCallback() => throw new InvalidOperationException("a bug");

    private async Task SlowAfterYieldAsync()
    {
        await Task.Yield();
        _clock.Advance(TimeSpan.FromMilliseconds(300));
    }

    private string[] Lines() => _output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Runs a few iterations of <paramref name="loop"/>, so callbacks queued from other threads run.</summary>
    private static void Step(EventLoop loop) => loop.RunUntilComplete(async () =>
    {
        for (int i = 0; i < 3; i++)
        {
            await loop.SleepAsync(TimeSpan.Zero);
        }
    });

    /// <summary>Makes the garbage collector finalize everything unreachable now.</summary>
    private static void CollectGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    // Not inlined: the future must be unreachable once this returns.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FailFuture(EventLoop loop, bool retrieve)
    {
        Future<int> future = loop.CreateFuture<int>();
        future.SetException(new InvalidDataException("dropped"));
        if (retrieve)
        {
            Assert.IsType<InvalidDataException>(future.Exception);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AwaitFailedFuture(EventLoop loop) => Assert.Throws<InvalidDataException>(() => loop.RunUntilComplete(async () =>
    {
        Future<int> future = loop.CreateFuture<int>();
        loop.CallSoon(() => future.SetException(new InvalidDataException("awaited")));
        await future;
    }));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StartFailingTask(EventLoop loop, bool observe)
    {
        Task task = loop.CreateTask(() => Task.FromException(new InvalidDataException("task dropped")));
        if (observe)
        {
            Step(loop);
            Assert.IsType<InvalidDataException>(task.Exception!.InnerException);
        }
    }

    private sealed class QuietProtocol : IBaseProtocol
    {
        public void ConnectionMade(ITransport transport)
        {
        }

        public void ConnectionLost(Exception? exception)
        {
        }
    }
}
