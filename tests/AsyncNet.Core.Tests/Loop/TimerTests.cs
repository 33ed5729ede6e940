using System.Runtime.CompilerServices;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;

namespace AsyncNet.Tests.Loop;

/// <summary>Timers on a manual clock: the loop is stepped with RunOnce after the clock is moved.</summary>
public sealed class TimerTests : IDisposable
{
    private readonly ManualTimeProvider _clock = new();
    private readonly EventLoop _loop;

    public TimerTests() => _loop = new EventLoop(new EventLoopOptions { TimeProvider = _clock });

    public void Dispose() => _loop.Close();

    [Fact]
    public void Time_FollowsTheLoopsClock()
    {
        TimeSpan start = _loop.Time;
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(3), _loop.Time - start);
    }

    [Fact]
    public void CallLater_DoesNotRunBeforeItsTime_AndRunsWhenDue()
    {
        bool fired = false;
        TimerHandle timer = _loop.CallLater(TimeSpan.FromSeconds(10), () => fired = true);
        Assert.Equal(_loop.Time + TimeSpan.FromSeconds(10), timer.When);

        _clock.Advance(TimeSpan.FromSeconds(9.999));
        StepWithoutWaiting();
        Assert.False(fired);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        StepWithoutWaiting();
        Assert.True(fired);
    }

    [Fact]
    public void Timers_RunInOrderOfWhen_ThenFifoAmongEqualTimes()
    {
        var order = new List<string>();
        TimeSpan now = _loop.Time;
        _loop.CallAt(now + TimeSpan.FromSeconds(3), s => order.Add((string)s!), "c");
        _loop.CallAt(now + TimeSpan.FromSeconds(1), s => order.Add((string)s!), "a1");
        _loop.CallAt(now + TimeSpan.FromSeconds(2), s => order.Add((string)s!), "b");
        _loop.CallAt(now + TimeSpan.FromSeconds(1), s => order.Add((string)s!), "a2");
        _loop.CallAt(now + TimeSpan.FromSeconds(1), s => order.Add((string)s!), "a3");

        _clock.Advance(TimeSpan.FromSeconds(5));
        StepWithoutWaiting();

        Assert.Equal(["a1", "a2", "a3", "b", "c"], order);
    }

    [Fact]
    public void CallAt_InThePast_RunsOnTheNextIteration()
    {
        bool fired = false;
        _clock.Advance(TimeSpan.FromSeconds(5));
        _loop.CallAt(TimeSpan.FromSeconds(1), () => fired = true);

        _loop.RunOnce();

        Assert.True(fired);
    }

    [Fact]
    public void CancelledTimer_DoesNotRun_AndIsDroppedFromTheTop()
    {
        bool fired = false;
        TimerHandle timer = _loop.CallLater(TimeSpan.FromSeconds(1), () => fired = true);
        timer.Cancel();
        Assert.Equal(1, _loop.ScheduledTimerCount);

        _clock.Advance(TimeSpan.FromSeconds(2));
        StepWithoutWaiting();

        Assert.False(fired);
        Assert.Equal(0, _loop.ScheduledTimerCount);
    }

    [Fact]
    public void AMillionCancelledTimers_AreCompactedAway_AndReleaseTheirMemory()
    {
        TimerHandle keep = _loop.CallLater(TimeSpan.FromHours(2), () => { });
        // Weak references to a sample of the cancelled handles: once compaction drops them, nothing holds them. This
        // watches only our own objects, unlike the process's total memory, which tests running beside it move.
        WeakReference<TimerHandle>[] sample = ScheduleAMillionCancelledTimers();

        Assert.Equal(1_000_001, _loop.ScheduledTimerCount);
        StepWithoutWaiting();

        Assert.Equal(1, _loop.ScheduledTimerCount);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        int alive = sample.Count(w => w.TryGetTarget(out _));
        Assert.True(alive == 0, $"{alive} of {sample.Length} sampled cancelled timers are still held after compaction");
        Assert.False(keep.IsCancelled);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference<TimerHandle>[] ScheduleAMillionCancelledTimers()
    {
        var sample = new List<WeakReference<TimerHandle>>();
        for (int i = 0; i < 1_000_000; i++)
        {
            // Due later than the kept timer, so lazy removal from the top alone would never reach them.
            TimerHandle handle = _loop.CallLater(TimeSpan.FromHours(3), () => { });
            handle.Cancel();
            if (i % 10_000 == 0)
            {
                sample.Add(new WeakReference<TimerHandle>(handle));
            }
        }

        return [.. sample];
    }

    [Fact]
    public void FewCancelledTimers_AreNotCompacted_UntilTheyAreTheMajority()
    {
        var timers = Enumerable.Range(0, 200).Select(i => _loop.CallLater(TimeSpan.FromHours(1 + i), () => { })).ToList();
        _loop.CallLater(TimeSpan.FromMinutes(1), () => { }); // an uncancelled top keeps lazy removal from acting

        foreach (TimerHandle t in timers.Skip(100))
        {
            t.Cancel();
        }

        StepWithoutWaiting();
        Assert.Equal(201, _loop.ScheduledTimerCount); // 100 of 201 cancelled: not more than half

        timers[0].Cancel();
        StepWithoutWaiting();
        Assert.Equal(100, _loop.ScheduledTimerCount); // 101 of 201: compacted
    }

    [Fact]
    public void TimerCancelledFromAnotherThread_DoesNotRun()
    {
        bool fired = false;
        TimerHandle timer = _loop.CallLater(TimeSpan.FromSeconds(1), () => fired = true);
        Task.Run(timer.Cancel).Wait();

        _clock.Advance(TimeSpan.FromSeconds(1));
        StepWithoutWaiting();

        Assert.False(fired);
    }

    [Fact]
    public void CallLater_HugeDelay_Saturates()
    {
        TimerHandle timer = _loop.CallLater(TimeSpan.MaxValue, () => { });
        Assert.Equal(TimeSpan.MaxValue, timer.When);
    }

    [Fact]
    public void CallLater_RealClock_FiresAfterTheDelay()
    {
        using var loop = new EventLoop();
        TimeSpan start = loop.Time;
        TimeSpan firedAt = TimeSpan.Zero;
        loop.CallLater(TimeSpan.FromMilliseconds(30), () =>
        {
            firedAt = loop.Time;
            loop.Stop();
        });

        loop.RunForever();

        Assert.True(firedAt - start >= TimeSpan.FromMilliseconds(30), $"fired after {(firedAt - start).TotalMilliseconds} ms");
    }

    /// <summary>One iteration that never blocks: a ready callback makes the select a poll.</summary>
    private void StepWithoutWaiting()
    {
        _loop.CallSoon(() => { });
        _loop.RunOnce();
    }
}
