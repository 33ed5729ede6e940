using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class AsyncBoundedSemaphoreTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void Release_PastTheBound_ThrowsSemaphoreFullAndChangesNothing()
    {
        var semaphore = new AsyncBoundedSemaphore(_loop, 2);

        var ex = Assert.Throws<SemaphoreFullException>(semaphore.Release);

        Assert.Contains("2 permits", ex.Message);
        Assert.Equal(2, semaphore.CurrentCount);
    }

    [Fact]
    public void Release_AfterAcquire_IsAllowedUpToTheBound()
    {
        var semaphore = new AsyncBoundedSemaphore(_loop, 2);
        Assert.True(semaphore.TryAcquire());
        Assert.True(semaphore.TryAcquire());

        semaphore.Release();
        semaphore.Release();

        Assert.Equal(2, semaphore.CurrentCount);
        Assert.Throws<SemaphoreFullException>(semaphore.Release);
    }

    [Fact]
    public void Release_WithAWaiter_HandsThePermitOverWithinTheBound()
    {
        var semaphore = new AsyncBoundedSemaphore(_loop, 1);
        _loop.Run(async () =>
        {
            await semaphore.AcquireAsync();
            Task waiter = semaphore.AcquireAsync().AsTask();

            semaphore.Release();
            await waiter;
            semaphore.Release();

            Assert.Equal(1, semaphore.CurrentCount);
            Assert.Throws<SemaphoreFullException>(semaphore.Release);
        });
    }

    [Fact]
    public void Cancel_AfterWoken_ReturnsThePermitWithoutTrippingTheBound()
    {
        var semaphore = new AsyncBoundedSemaphore(_loop, 1);
        _loop.Run(async () =>
        {
            await semaphore.AcquireAsync();
            using var cts = new CancellationTokenSource();
            Task woken = semaphore.AcquireAsync(cts.Token).AsTask();

            semaphore.Release();
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            Assert.Equal(1, semaphore.CurrentCount);
        });
    }

    [Fact]
    public void ToString_ShowsTheBound() =>
        Assert.Equal("AsyncBoundedSemaphore(Count=3, Bound=3, Waiting=0)", new AsyncBoundedSemaphore(_loop, 3).ToString());
}
