using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class AsyncLockTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void AcquireAsync_Free_CompletesSynchronouslyAndLocks()
    {
        var gate = new AsyncLock(_loop);

        ValueTask<AsyncLock.Releaser> acquire = gate.AcquireAsync();

        Assert.True(acquire.IsCompletedSuccessfully);
        Assert.True(gate.IsLocked);
        acquire.Result.Dispose();
        Assert.False(gate.IsLocked);
    }

    [Fact]
    public void AcquireAsync_Held_WaitsUntilReleasedAndResumesOnTheLoopThread()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser first = await gate.AcquireAsync();
            Task<int> second = Acquire(gate);
            await SyncTestLoop.TurnsAsync();
            Assert.False(second.IsCompleted);

            first.Dispose();
            Assert.True(gate.IsLocked);
            Assert.Equal(Environment.CurrentManagedThreadId, await second);
        });

        static async Task<int> Acquire(AsyncLock gate)
        {
            using (await gate.AcquireAsync().ConfigureAwait(false))
            {
                // ConfigureAwait(false) does not move us off the loop: waits always resume there.
                return Environment.CurrentManagedThreadId;
            }
        }
    }

    [Fact]
    public void Waiters_AreServedInFifoOrder()
    {
        var gate = new AsyncLock(_loop);
        var order = new List<int>();
        _loop.Run(async () =>
        {
            AsyncLock.Releaser held = await gate.AcquireAsync();
            Task[] waiters = Enumerable.Range(0, 5).Select(i => Critical(i)).ToArray();
            held.Dispose();
            await Task.WhenAll(waiters);
        });

        Assert.Equal([0, 1, 2, 3, 4], order);

        async Task Critical(int id)
        {
            using (await gate.AcquireAsync())
            {
                order.Add(id);
                await Task.Yield();
            }
        }
    }

    [Fact]
    public void Release_HandsTheLockOver_SoABargingTryAcquireFails()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser held = await gate.AcquireAsync();
            ValueTask<AsyncLock.Releaser> waiter = gate.AcquireAsync();
            held.Dispose();

            Assert.False(gate.TryAcquire(out _));
            (await waiter).Dispose();
            Assert.True(gate.TryAcquire(out AsyncLock.Releaser again));
            again.Dispose();
        });
    }

    [Fact]
    public void Release_WhenUnlocked_ThrowsInvalidOperation()
    {
        var gate = new AsyncLock(_loop);

        var ex = Assert.Throws<InvalidOperationException>(gate.Release);

        Assert.Contains("not locked", ex.Message);
    }

    [Fact]
    public void Release_WhileHandedToAWokenWaiter_ThrowsBecauseNobodyHoldsIt()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser held = await gate.AcquireAsync();
            ValueTask<AsyncLock.Releaser> waiter = gate.AcquireAsync();
            held.Dispose();

            Assert.Equal("AsyncLock(HandingOver, Waiting=0)", gate.ToString());
            Assert.Throws<InvalidOperationException>(gate.Release);
            (await waiter).Dispose();
            Assert.False(gate.IsLocked);
        });
    }

    [Fact]
    public void AcquireAsync_SecondTimeBySameTask_WaitsBecauseTheLockIsNotReentrant()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser held = await gate.AcquireAsync();
            ValueTask<AsyncLock.Releaser> again = gate.AcquireAsync();
            await SyncTestLoop.TurnsAsync();

            Assert.False(again.IsCompleted);
            held.Dispose();
            (await again).Dispose();
        });
    }

    [Fact]
    public void Releaser_DisposedTwice_DoesNotReleaseTheNextHolder()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser first = await gate.AcquireAsync();
            ValueTask<AsyncLock.Releaser> next = gate.AcquireAsync();
            first.Dispose();
            AsyncLock.Releaser second = await next;

            first.Dispose();
            default(AsyncLock.Releaser).Dispose();

            Assert.True(gate.IsLocked);
            second.Dispose();
            Assert.False(gate.IsLocked);
        });
    }

    [Fact]
    public void Cancel_WhileQueued_RemovesTheWaiterAndTheLockSkipsIt()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser held = await gate.AcquireAsync();
            using var cts = new CancellationTokenSource();
            Task<AsyncLock.Releaser> cancelled = gate.AcquireAsync(cts.Token).AsTask();
            Task<AsyncLock.Releaser> next = gate.AcquireAsync().AsTask();

            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
            Assert.Equal(1, gate.WaitingCount);

            held.Dispose();
            (await next).Dispose();
            Assert.False(gate.IsLocked);
        });
    }

    [Fact]
    public void Cancel_AfterWokenBeforeResuming_PassesTheLockToTheNextWaiter()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser held = await gate.AcquireAsync();
            using var cts = new CancellationTokenSource();
            Task<AsyncLock.Releaser> woken = gate.AcquireAsync(cts.Token).AsTask();
            Task<AsyncLock.Releaser> next = gate.AcquireAsync().AsTask();

            held.Dispose();      // hands the lock to the first waiter…
            cts.Cancel();        // …which is cancelled before it resumes.

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            AsyncLock.Releaser nextHolds = await next;
            Assert.True(gate.IsLocked);
            nextHolds.Dispose();
            Assert.False(gate.IsLocked);
        });
    }

    [Fact]
    public void Cancel_AfterWokenBeforeResuming_WithNobodyElse_Unlocks()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser held = await gate.AcquireAsync();
            using var cts = new CancellationTokenSource();
            Task<AsyncLock.Releaser> woken = gate.AcquireAsync(cts.Token).AsTask();

            held.Dispose();
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            Assert.False(gate.IsLocked);
        });
    }

    [Fact]
    public void Cancel_FromAnotherThread_IsMarshalledToTheLoop()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            AsyncLock.Releaser held = await gate.AcquireAsync();
            using var cts = new CancellationTokenSource();
            Task<AsyncLock.Releaser> waiter = gate.AcquireAsync(cts.Token).AsTask();

            await Task.Run(cts.Cancel);

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
            Assert.Equal(0, gate.WaitingCount);
            held.Dispose();
            Assert.False(gate.IsLocked);
        });
    }

    [Fact]
    public void AcquireAsync_PreCancelledToken_IsCancelledEvenIfTheLockIsFree()
    {
        var gate = new AsyncLock(_loop);

        ValueTask<AsyncLock.Releaser> acquire = gate.AcquireAsync(new CancellationToken(canceled: true));

        Assert.True(acquire.IsCanceled);
        Assert.False(gate.IsLocked);
    }

    [Fact]
    public void AcquireAsync_FromAnotherThreadWhileTheLoopRuns_Throws()
    {
        var gate = new AsyncLock(_loop);
        _loop.Run(async () =>
        {
            Exception? ex = await Task.Run(() => Record.Exception(() => gate.TryAcquire(out _)));
            Assert.IsType<InvalidOperationException>(ex);
        });
    }

    [Fact]
    public void AcquireAndRelease_Uncontended_AllocateNothing()
    {
        var gate = new AsyncLock(_loop);

        long bytes = SyncTestLoop.AllocatedBy(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                ValueTask<AsyncLock.Releaser> acquire = gate.AcquireAsync();
                acquire.GetAwaiter().GetResult().Dispose();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void ToString_ShowsLiveState()
    {
        var gate = new AsyncLock(_loop);
        gate.TryAcquire(out _);
        _ = gate.AcquireAsync();

        Assert.Equal("AsyncLock(Locked, Waiting=1)", gate.ToString());
    }
}
