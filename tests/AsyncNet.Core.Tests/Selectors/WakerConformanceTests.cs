using AsyncNet.Selectors;

namespace AsyncNet.Core.Tests.Selectors;

/// <summary>The behaviour every <see cref="Waker"/> must share, each run with the selector it is made for.</summary>
public abstract class WakerConformanceTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(50);

    private protected abstract ISelector CreateSelector();

    private protected abstract Waker CreateWaker();

    [Fact]
    public void Register_WatchesTheReadEndForReading()
    {
        using ISelector selector = CreateSelector();
        using Waker waker = CreateWaker();

        SelectorKey key = waker.Register(selector, "waker");

        Assert.Equal(SelectorEvents.Read, key.Events);
        Assert.Equal("waker", key.Data);
        Assert.Equal(1, selector.Count);
        Assert.Empty(selector.SelectBounded(Quiet));
        selector.Unregister(key.Fd);
    }

    [Fact]
    public void Wake_FromAnotherThread_UnblocksAnInfiniteSelect()
    {
        using ISelector selector = CreateSelector();
        using Waker waker = CreateWaker();
        SelectorKey key = waker.Register(selector, "waker");

        Thread selecting = Bounded.Start(() => selector.Select(timeout: null).ToArray(), out Func<SelectorReady[]> result);
        Assert.False(selecting.Join(TimeSpan.FromMilliseconds(100)), "An infinite select returned before any wake-up.");
        var waking = new Thread(waker.Wake);
        waking.Start();
        Bounded.Join(waking, Bounded.Limit);
        Bounded.Join(selecting, Bounded.Limit);

        SelectorReady ready = Assert.Single(result());
        Assert.Equal(new SelectorReady(key, SelectorEvents.Read), ready);
        Assert.Equal("waker", ready.Key.Data);
        selector.Unregister(key.Fd);
    }

    [Fact]
    public void Drain_AfterWake_MakesTheReadEndNotReady()
    {
        using ISelector selector = CreateSelector();
        using Waker waker = CreateWaker();
        SelectorKey key = waker.Register(selector, null);

        waker.Wake();

        Assert.Equal(SelectorEvents.Read, selector.WaitFor(key, SelectorEvents.Read));
        Assert.Equal(new SelectorReady(key, SelectorEvents.Read), Assert.Single(selector.SelectBounded(TimeSpan.Zero))); // level-triggered
        waker.Drain();
        Assert.Empty(selector.SelectBounded(Quiet));
        selector.Unregister(key.Fd);
    }

    [Fact]
    public void Drain_WithNothingPending_ReturnsAtOnce()
    {
        using ISelector selector = CreateSelector();
        using Waker waker = CreateWaker();
        SelectorKey key = waker.Register(selector, null);

        Bounded.Run(() =>
        {
            waker.Drain();
            waker.Drain();
            return 0;
        });

        Assert.Empty(selector.SelectBounded(Quiet));
        selector.Unregister(key.Fd);
    }

    [Fact]
    public void Wake_ManyTimesFromManyThreads_CoalescesWithoutBlocking()
    {
        const int Threads = 4;
        const int WakesPerThread = 50_000; // 200,000 in all: far more than a pipe or socket buffer holds
        using ISelector selector = CreateSelector();
        using Waker waker = CreateWaker();
        SelectorKey key = waker.Register(selector, null);

        Thread[] wakers = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < WakesPerThread; i++)
            {
                waker.Wake();
            }
        })
        { IsBackground = true }).ToArray();
        Array.ForEach(wakers, t => t.Start());
        Array.ForEach(wakers, t => Bounded.Join(t, Bounded.Limit)); // a Wake that blocked on a full buffer never joins

        Assert.Equal(new SelectorReady(key, SelectorEvents.Read), Assert.Single(selector.SelectBounded(Bounded.Limit)));

        // One drain empties what is buffered; a socket pair may still have bytes in flight from the writer's
        // send buffer, which arrive as the reader's window opens, so drain until quiet, a bounded number of times.
        for (int round = 0; ; round++)
        {
            Assert.True(round < 1000, "The waker stayed readable after 1,000 drains.");
            waker.Drain();
            if (selector.SelectBounded(Quiet).Length == 0)
            {
                break;
            }
        }

        selector.Unregister(key.Fd);
    }

    [Fact]
    public void Wake_AfterDispose_ReachesNoDescriptor()
    {
        // After Dispose the waker's descriptor numbers are free, and the kernel hands out the lowest free number, so a
        // waker made next usually gets them. A stale Wake must neither throw nor wake that one.
        for (int attempt = 0; ; attempt++)
        {
            using ISelector selector = CreateSelector();
            Waker stale = CreateWaker();
            int staleFd = stale.Register(selector, null).Fd;
            selector.Unregister(staleFd);
            stale.Dispose();

            using Waker fresh = CreateWaker();
            SelectorKey key = fresh.Register(selector, "fresh");
            if (key.Fd != staleFd)
            {
                // A descriptor opened meanwhile by another test took the number: try again.
                selector.Unregister(key.Fd);
                Assert.True(attempt < 50, "The kernel never reused the disposed waker's descriptor number.");
                continue;
            }

            stale.Wake();
            stale.Dispose(); // idempotent

            Assert.Empty(selector.SelectBounded(Quiet));
            fresh.Wake();
            Assert.Equal(new SelectorReady(key, SelectorEvents.Read), Assert.Single(selector.SelectBounded(Bounded.Limit)));
            selector.Unregister(key.Fd);
            return;
        }
    }
}
