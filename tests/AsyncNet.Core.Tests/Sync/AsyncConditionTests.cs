using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class AsyncConditionTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void WaitAsync_WithoutTheLock_ThrowsInvalidOperation()
    {
        var condition = new AsyncCondition(_loop);

        var ex = Assert.Throws<InvalidOperationException>(() => condition.WaitAsync());

        Assert.Contains("without holding its lock", ex.Message);
    }

    [Fact]
    public void Notify_WithoutTheLock_ThrowsInvalidOperation()
    {
        var condition = new AsyncCondition(_loop);

        Assert.Throws<InvalidOperationException>(() => condition.Notify());
        Assert.Throws<InvalidOperationException>(condition.NotifyAll);
    }

    [Fact]
    public void Constructor_LockOfAnotherLoop_Throws()
    {
        using var other = new EventLoop();

        Assert.Throws<ArgumentException>(() => new AsyncCondition(_loop, new AsyncLock(other)));
    }

    [Fact]
    public void Notify_WakesOneWaiterAtATimeInFifoOrder_AndEachReturnsHoldingTheLock()
    {
        var condition = new AsyncCondition(_loop);
        var order = new List<int>();
        _loop.Run(async () =>
        {
            Task[] waiters = Enumerable.Range(0, 3).Select(i => Waiter(i)).ToArray();
            await SyncTestLoop.TurnsAsync();
            Assert.Equal(3, condition.WaitingCount);

            for (int i = 0; i < 3; i++)
            {
                using (await condition.AcquireAsync())
                {
                    condition.Notify();
                }

                await SyncTestLoop.TurnsAsync();
                Assert.Equal(i + 1, order.Count);
            }

            await Task.WhenAll(waiters);
            Assert.False(condition.IsLocked);
        });

        Assert.Equal([0, 1, 2], order);

        async Task Waiter(int id)
        {
            using (await condition.AcquireAsync())
            {
                await condition.WaitAsync();
                Assert.True(condition.IsLocked);
                order.Add(id);
            }
        }
    }

    [Fact]
    public void NotifyAll_WakesEveryWaiter()
    {
        var condition = new AsyncCondition(_loop);
        int woken = 0;
        _loop.Run(async () =>
        {
            Task[] waiters = Enumerable.Range(0, 4).Select(_ => Waiter()).ToArray();
            await SyncTestLoop.TurnsAsync();

            using (await condition.AcquireAsync())
            {
                condition.NotifyAll();
            }

            await Task.WhenAll(waiters);
        });

        Assert.Equal(4, woken);

        async Task Waiter()
        {
            using (await condition.AcquireAsync())
            {
                await condition.WaitAsync();
                woken++;
            }
        }
    }

    [Fact]
    public void WaitForAsync_ReturnsOnceThePredicateHolds()
    {
        var condition = new AsyncCondition(_loop);
        int value = 0;
        _loop.Run(async () =>
        {
            Task waiter = Waiter();
            for (int i = 1; i <= 3; i++)
            {
                using (await condition.AcquireAsync())
                {
                    value = i;
                    condition.NotifyAll();
                }

                await SyncTestLoop.TurnsAsync();
            }

            await waiter;
        });

        async Task Waiter()
        {
            using (await condition.AcquireAsync())
            {
                await condition.WaitForAsync(() => value >= 3);
                Assert.Equal(3, value);
            }
        }
    }

    [Fact]
    public void Cancel_AfterNotifiedBeforeResuming_PassesTheNotificationOn_AndReacquiresTheLock()
    {
        var condition = new AsyncCondition(_loop);
        using var cts = new CancellationTokenSource();
        bool cancelledHeldLock = false;
        bool otherWoke = false;
        _loop.Run(async () =>
        {
            Task cancelled = Waiter(cts.Token, () => { });
            Task other = Waiter(CancellationToken.None, () => otherWoke = true);
            await SyncTestLoop.TurnsAsync();

            using (await condition.AcquireAsync())
            {
                condition.Notify(1);
                cts.Cancel();
            }

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
            await other;
            Assert.False(condition.IsLocked);
        });

        Assert.True(cancelledHeldLock);
        Assert.True(otherWoke);

        async Task Waiter(CancellationToken token, Action onWake)
        {
            using (await condition.AcquireAsync())
            {
                try
                {
                    await condition.WaitAsync(token);
                    onWake();
                }
                catch (OperationCanceledException)
                {
                    cancelledHeldLock = condition.IsLocked;
                    throw;
                }
            }
        }
    }

    [Fact]
    public void Notify_SkipsAWaiterAlreadyCancelled_AndWakesTheNextOneInstead()
    {
        var condition = new AsyncCondition(_loop);
        using var cts = new CancellationTokenSource();
        var woken = new List<string>();
        _loop.Run(async () =>
        {
            Task cancelled = Waiter("cancelled", cts.Token);
            Task live = Waiter("live", CancellationToken.None);
            await SyncTestLoop.TurnsAsync();

            using (await condition.AcquireAsync())
            {
                cts.Cancel();
                condition.Notify(1);
            }

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
            await live;
        });

        Assert.Equal(["live"], woken);

        async Task Waiter(string name, CancellationToken token)
        {
            using (await condition.AcquireAsync())
            {
                await condition.WaitAsync(token);
                woken.Add(name);
            }
        }
    }

    [Fact]
    public void WaitAsync_ReleasesTheLockWhileWaiting()
    {
        var condition = new AsyncCondition(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser held = await condition.AcquireAsync();
            ValueTask wait = condition.WaitAsync();

            Assert.False(condition.IsLocked);
            using (await condition.AcquireAsync())
            {
                condition.Notify();
            }

            await wait;
            Assert.True(condition.IsLocked);

            // The releaser issued before the wait still releases the re-acquired lock.
            held.Dispose();
            Assert.False(condition.IsLocked);
        });
    }

    [Fact]
    public void TwoConditions_CanShareOneLock()
    {
        var gate = new AsyncLock(_loop);
        var notEmpty = new AsyncCondition(_loop, gate);
        var notFull = new AsyncCondition(_loop, gate);
        _loop.Run(async () =>
        {
            Task waiter = Wait();
            await SyncTestLoop.TurnsAsync();
            using (await notFull.AcquireAsync())
            {
                Assert.True(notEmpty.IsLocked);
                notEmpty.Notify();
            }

            await waiter;
        });

        async Task Wait()
        {
            using (await notEmpty.AcquireAsync())
            {
                await notEmpty.WaitAsync();
            }
        }
    }
}
