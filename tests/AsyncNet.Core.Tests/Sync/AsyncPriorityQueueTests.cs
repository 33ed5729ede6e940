using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class AsyncPriorityQueueTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void GetAsync_ReturnsTheSmallestItemFirst()
    {
        var queue = new AsyncPriorityQueue<int>(_loop);
        foreach (int i in new[] { 5, 1, 4, 2, 3 })
        {
            queue.PutNowait(i);
        }

        Assert.Equal([1, 2, 3, 4, 5], Enumerable.Range(0, 5).Select(_ => queue.GetNowait()));
    }

    [Fact]
    public void Comparer_OrdersTheItems_AndEqualItemsLeaveInPutOrder()
    {
        var byPriority = Comparer<(int Priority, string Name)>.Create((a, b) => a.Priority.CompareTo(b.Priority));
        var queue = new AsyncPriorityQueue<(int Priority, string Name)>(_loop, comparer: byPriority);
        queue.PutNowait((2, "x"));
        queue.PutNowait((1, "a"));
        queue.PutNowait((2, "y"));
        queue.PutNowait((1, "b"));

        Assert.Equal(["a", "b", "x", "y"], Enumerable.Range(0, 4).Select(_ => queue.GetNowait().Name));
        Assert.Same(byPriority, queue.Comparer);
    }

    [Fact]
    public void Cancel_GetterAfterWoken_ReturnsTheItemToItsRankAmongEquals()
    {
        var byPriority = Comparer<(int Priority, string Name)>.Create((a, b) => a.Priority.CompareTo(b.Priority));
        var queue = new AsyncPriorityQueue<(int Priority, string Name)>(_loop, comparer: byPriority);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task<(int, string)> woken = queue.GetAsync(cts.Token).AsTask();
            queue.PutNowait((1, "first"));
            queue.PutNowait((1, "second"));
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            Assert.Equal("first", queue.GetNowait().Name);
            Assert.Equal("second", queue.GetNowait().Name);
        });
    }
}
