using AsyncNet.Loop;

namespace AsyncNet.Tests.Loop;

public sealed class LoopTaskTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void CreateTask_ResumesOnTheLoopThread_AfterAwaitingThreadPoolWork()
    {
        var threads = new List<int>();

        _loop.RunUntilComplete(async () =>
        {
            threads.Add(Environment.CurrentManagedThreadId);

            // Completed by a pool thread only once the loop runs again, so after this await has yielded: the
            // continuation must come back from that thread to the loop's.
            var poolWork = new TaskCompletionSource();
            _loop.CallSoon(() => ThreadPool.QueueUserWorkItem(_ => poolWork.SetResult()));
            await poolWork.Task;
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Delay(5);
            threads.Add(Environment.CurrentManagedThreadId);
        });

        Assert.Equal(3, threads.Count);
        Assert.All(threads, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }

    [Fact]
    public void AwaitCompletedAfterClose_DropsTheContinuation_InsteadOfThrowingOnTheCompletingThread()
    {
        var gate = new TaskCompletionSource();
        bool resumed = false;
        Task waiter = _loop.CreateTask(async () =>
        {
            await gate.Task; // captures the loop's context
            resumed = true;
        });
        _loop.RunUntilComplete(() => _loop.SleepAsync(TimeSpan.FromMilliseconds(1)));
        _loop.Close();

        // The continuation is posted to the closed loop from this thread; before, the post threw here (and, on a
        // thread-pool thread, ended the process).
        Exception? thrown = Record.Exception(gate.SetResult);
        Task viaScheduler = Task.Factory.StartNew(() => { }, CancellationToken.None, TaskCreationOptions.None, _loop.TaskScheduler);

        Assert.Null(thrown);
        Assert.False(resumed);
        Assert.False(waiter.IsCompleted);
        Assert.False(viaScheduler.IsCompleted);
    }

    [Fact]
    public void CreateTask_StartsOnTheNextIteration_NotInline()
    {
        bool started = false;
        Task task = _loop.CreateTask(() =>
        {
            started = true;
            return Task.CompletedTask;
        });

        Assert.False(started);
        _loop.RunUntilComplete(task);
        Assert.True(started);
    }

    [Fact]
    public void CreateTask_HidesTheLoopScheduler_SoStartNewInsideRunsOnThePool_NotOnTheLoopThread()
    {
        // A blocking task started with the default scheduler from loop code once ran inline on the loop thread
        // (TaskScheduler.Current was the loop's) and stalled it for good.
        int loopThread = 0;
        int workThread = 0;
        TaskScheduler? seen = null;
        _loop.RunUntilComplete(_loop.CreateTask(async () =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            seen = TaskScheduler.Current;
            using var blockedUntilAwaited = new ManualResetEventSlim();
            Task blocking = Task.Factory.StartNew(
                () =>
                {
                    workThread = Environment.CurrentManagedThreadId;
                    blockedUntilAwaited.Wait(TimeSpan.FromSeconds(10));
                },
                TaskCreationOptions.LongRunning);
            await _loop.SleepAsync(TimeSpan.Zero);
            blockedUntilAwaited.Set();
            await blocking;
        }));

        Assert.Same(TaskScheduler.Default, seen);
        Assert.NotEqual(0, workThread);
        Assert.NotEqual(loopThread, workThread);
    }

    [Fact]
    public void RunUntilComplete_ReturnsTheResult()
    {
        int result = _loop.RunUntilComplete(async () =>
        {
            await _loop.SleepAsync(TimeSpan.FromMilliseconds(1));
            return 99;
        });

        Assert.Equal(99, result);
    }

    [Fact]
    public void RunUntilComplete_RethrowsTheOriginalException()
    {
        var ex = Assert.Throws<InvalidDataException>(() => _loop.RunUntilComplete(async () =>
        {
            await _loop.SleepAsync(TimeSpan.Zero);
            throw new InvalidDataException("bad frame");
        }));

        Assert.Equal("bad frame", ex.Message);
    }

    [Fact]
    public void RunUntilComplete_StoppedFirst_ThrowsInvalidOperation()
    {
        var never = new TaskCompletionSource();
        _loop.CallSoon(_loop.Stop);

        var ex = Assert.Throws<InvalidOperationException>(() => _loop.RunUntilComplete(never.Task));

        Assert.Contains("stopped before", ex.Message);
    }

    [Fact]
    public void RunUntilComplete_ATaskCompletingLater_DoesNotStopALaterRun()
    {
        var first = new TaskCompletionSource();
        _loop.CallSoon(_loop.Stop);
        Assert.Throws<InvalidOperationException>(() => _loop.RunUntilComplete(first.Task));

        // The first task completes during the second run; its stale stopper must not end that run early.
        int ticks = 0;
        _loop.RunUntilComplete(async () =>
        {
            first.SetResult();
            for (; ticks < 5; ticks++)
            {
                await _loop.SleepAsync(TimeSpan.FromMilliseconds(1));
            }
        });

        Assert.Equal(5, ticks);
    }

    [Fact]
    public void SleepAsync_WaitsOnTheLoopsClock()
    {
        TimeSpan elapsed = _loop.RunUntilComplete(async () =>
        {
            TimeSpan start = _loop.Time;
            await _loop.SleepAsync(TimeSpan.FromMilliseconds(40));
            return _loop.Time - start;
        });

        Assert.True(elapsed >= TimeSpan.FromMilliseconds(40), $"slept {elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void SleepAsync_Cancelled_ThrowsAtOnceAndDropsItsTimer()
    {
        using var cts = new CancellationTokenSource();
        TimeSpan elapsed = TimeSpan.Zero;

        Assert.ThrowsAny<OperationCanceledException>(() => _loop.RunUntilComplete(async () =>
        {
            TimeSpan start = _loop.Time;
            _loop.CallLater(TimeSpan.FromMilliseconds(10), cts.Cancel);
            try
            {
                await _loop.SleepAsync(TimeSpan.FromHours(1), cts.Token);
            }
            finally
            {
                elapsed = _loop.Time - start;
            }
        }));

        Assert.True(elapsed < TimeSpan.FromSeconds(10));
        _loop.CallSoon(() => { });
        _loop.RunOnce();
        Assert.Equal(0, _loop.ScheduledTimerCount);
    }

    [Fact]
    public void SleepAsync_AlreadyCancelledToken_ReturnsACancelledTask()
    {
        Task sleep = _loop.SleepAsync(TimeSpan.FromHours(1), new CancellationToken(canceled: true));

        Assert.True(sleep.IsCanceled);
        Assert.Equal(0, _loop.ScheduledTimerCount);
    }

    [Fact]
    public void SynchronizationContext_IsTheLoopsWhileRunning_AndRestoredAfter()
    {
        SynchronizationContext? before = SynchronizationContext.Current;
        SynchronizationContext? inside = null;
        _loop.CallSoon(() =>
        {
            inside = SynchronizationContext.Current;
            _loop.Stop();
        });

        _loop.RunForever();

        Assert.Same(_loop.SynchronizationContext, inside);
        Assert.Same(before, SynchronizationContext.Current);
    }

    [Fact]
    public void SynchronizationContext_Send_FromAnotherThread_RunsOnTheLoopAndPropagatesExceptions()
    {
        int ranOn = 0;
        Exception? thrown = null;
        _loop.CallSoon(() => Task.Run(() =>
        {
            _loop.SynchronizationContext.Send(_ => ranOn = Environment.CurrentManagedThreadId, null);
            thrown = Record.Exception(() => _loop.SynchronizationContext.Send(_ => throw new IOException("sent"), null));
            _loop.Stop();
        }));

        _loop.RunForever();

        Assert.Equal(Environment.CurrentManagedThreadId, ranOn);
        Assert.IsType<IOException>(thrown);
    }
}
