using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class AsyncSemaphoreTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void Constructor_NegativeCount_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AsyncSemaphore(_loop, -1));

    [Fact]
    public void AcquireAsync_WithPermits_CompletesSynchronouslyUntilTheyRunOut()
    {
        var semaphore = new AsyncSemaphore(_loop, 2);

        Assert.True(semaphore.AcquireAsync().IsCompletedSuccessfully);
        Assert.True(semaphore.TryAcquire());
        Assert.True(semaphore.IsLocked);
        Assert.False(semaphore.TryAcquire());
        Assert.False(semaphore.AcquireAsync().IsCompleted);
        Assert.Equal(1, semaphore.WaitingCount);
    }

    [Fact]
    public void Release_HandsThePermitToWaitersInFifoOrder()
    {
        var semaphore = new AsyncSemaphore(_loop, 0);
        var order = new List<int>();
        _loop.Run(async () =>
        {
            Task[] waiters = Enumerable.Range(0, 4).Select(i => Take(i)).ToArray();
            for (int i = 0; i < 4; i++)
            {
                semaphore.Release();
                Assert.Equal(0, semaphore.CurrentCount);
                await SyncTestLoop.TurnsAsync(1);
            }

            await Task.WhenAll(waiters);
        });

        Assert.Equal([0, 1, 2, 3], order);

        async Task Take(int id)
        {
            await semaphore.AcquireAsync();
            order.Add(id);
        }
    }

    [Fact]
    public void Cancel_AfterWokenBeforeResuming_PassesThePermitOn()
    {
        var semaphore = new AsyncSemaphore(_loop, 0);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task woken = semaphore.AcquireAsync(cts.Token).AsTask();
            Task next = semaphore.AcquireAsync().AsTask();

            semaphore.Release();
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            await next;
            Assert.Equal(0, semaphore.CurrentCount);
        });
    }

    [Fact]
    public void Cancel_AfterWokenBeforeResuming_WithNobodyElse_CountsThePermitAgain()
    {
        var semaphore = new AsyncSemaphore(_loop, 0);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task woken = semaphore.AcquireAsync(cts.Token).AsTask();

            semaphore.Release();
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            Assert.Equal(1, semaphore.CurrentCount);
        });
    }

    [Fact]
    public void Cancel_WhileQueued_LeavesTheCountUnchanged()
    {
        var semaphore = new AsyncSemaphore(_loop, 0);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task waiter = semaphore.AcquireAsync(cts.Token).AsTask();

            await Task.Run(cts.Cancel);

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
            Assert.Equal(0, semaphore.WaitingCount);
            semaphore.Release();
            Assert.Equal(1, semaphore.CurrentCount);
        });
    }

    [Fact]
    public void Release_UnboundedSemaphore_CanExceedTheInitialCount()
    {
        var semaphore = new AsyncSemaphore(_loop, 1);

        semaphore.Release();

        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact]
    public void AcquireAndRelease_Uncontended_AllocateNothing()
    {
        var semaphore = new AsyncSemaphore(_loop, 1);

        long bytes = SyncTestLoop.AllocatedBy(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                semaphore.AcquireAsync().GetAwaiter().GetResult();
                semaphore.Release();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void ToString_ShowsLiveState()
    {
        var semaphore = new AsyncSemaphore(_loop, 0);
        _ = semaphore.AcquireAsync();

        Assert.Equal("AsyncSemaphore(Count=0, Waiting=1)", semaphore.ToString());
    }
}
