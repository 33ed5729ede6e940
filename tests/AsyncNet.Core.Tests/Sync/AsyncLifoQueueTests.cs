using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class AsyncLifoQueueTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void GetAsync_ReturnsTheMostRecentItemFirst()
    {
        var queue = new AsyncLifoQueue<int>(_loop);
        foreach (int i in new[] { 1, 2, 3 })
        {
            queue.PutNowait(i);
        }

        Assert.Equal([3, 2, 1], new[] { queue.GetNowait(), queue.GetNowait(), queue.GetNowait() });
    }

    [Fact]
    public void Cancel_GetterAfterWoken_PutsTheItemBackUnderNewerItems()
    {
        var queue = new AsyncLifoQueue<int>(_loop);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task<int> woken = queue.GetAsync(cts.Token).AsTask();
            queue.PutNowait(1);     // handed to the getter
            queue.PutNowait(2);     // newer
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            Assert.Equal(2, queue.GetNowait());
            Assert.Equal(1, queue.GetNowait());
        });
    }

    [Fact]
    public void MaxSize_BoundsTheStack()
    {
        var queue = new AsyncLifoQueue<int>(_loop, maxSize: 2);
        queue.PutNowait(1);
        queue.PutNowait(2);

        Assert.Throws<QueueFullException>(() => queue.PutNowait(3));
        Assert.Equal("AsyncLifoQueue<Int32>(Count=2, MaxSize=2, Getters=0, Putters=0, InTransit=0, Unfinished=2)", queue.ToString());
    }
}
