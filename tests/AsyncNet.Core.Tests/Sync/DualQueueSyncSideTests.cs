using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class DualQueueSyncSideTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void Get_WithTimeout_OnAnEmptyQueue_ThrowsQueueEmptyAfterWaiting()
    {
        var queue = new DualQueue<int>(_loop);

        var ex = Assert.Throws<QueueEmptyException>(() => queue.SyncSide.Get(TimeSpan.FromMilliseconds(30)));

        Assert.Contains("stayed empty", ex.Message);
        Assert.Equal(0, queue.WaitingGetters);
    }

    [Fact]
    public void Put_WithTimeout_OnAFullQueue_ThrowsQueueFullAndDoesNotPut()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 1);
        queue.SyncSide.Put(1);

        Assert.Throws<QueueFullException>(() => queue.SyncSide.Put(2, TimeSpan.FromMilliseconds(30)));

        Assert.Equal(0, queue.WaitingPutters);
        Assert.Equal(1, queue.Count);
        Assert.Equal(1, queue.UnfinishedTasks);
    }

    [Fact]
    public void ZeroTimeout_NeverBlocks()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 1);

        Assert.Throws<QueueEmptyException>(() => queue.SyncSide.Get(TimeSpan.Zero));
        queue.SyncSide.Put(1, TimeSpan.Zero);
        Assert.Throws<QueueFullException>(() => queue.SyncSide.Put(2, TimeSpan.Zero));
        Assert.False(queue.SyncSide.TryPut(2));
        Assert.True(queue.SyncSide.TryGet(out int item));
        Assert.Equal(1, item);
    }

    [Fact]
    public void NegativeTimeout_Throws()
    {
        var queue = new DualQueue<int>(_loop);

        Assert.Throws<ArgumentOutOfRangeException>(() => queue.SyncSide.Get(TimeSpan.FromSeconds(-2)));
    }

    [Fact]
    public async Task Get_Blocked_IsCancelledByItsTokenAndLeavesTheQueue()
    {
        var queue = new DualQueue<int>(_loop);
        using var cts = new CancellationTokenSource();
        Task<int> blocked = SyncTestLoop.OnThread(() => queue.SyncSide.Get(cts.Token));
        await SyncTestLoop.UntilAsync(() => queue.WaitingGetters == 1);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked).WaitAsync(SyncTestLoop.Limit);
        Assert.Equal(0, queue.WaitingGetters);
        queue.SyncSide.Put(9);
        Assert.Equal(9, queue.SyncSide.Get());
    }

    [Fact]
    public async Task Put_Blocked_IsWokenByAGetOnAnotherThreadAndItsItemFollowsInOrder()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 1);
        queue.SyncSide.Put(1);
        Task blocked = SyncTestLoop.OnThread(() => queue.SyncSide.Put(2));
        await SyncTestLoop.UntilAsync(() => queue.WaitingPutters == 1);

        Assert.Equal(1, queue.SyncSide.Get());

        await blocked.WaitAsync(SyncTestLoop.Limit);
        Assert.Equal(2, queue.SyncSide.Get());
    }

    [Fact]
    public async Task Put_Blocked_CancelledByItsToken_NeverEntersTheQueue()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 1);
        queue.SyncSide.Put(1);
        using var cts = new CancellationTokenSource();
        Task blocked = SyncTestLoop.OnThread(() => queue.SyncSide.Put(2, cts.Token));
        await SyncTestLoop.UntilAsync(() => queue.WaitingPutters == 1);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked).WaitAsync(SyncTestLoop.Limit);
        Assert.Equal(1, queue.SyncSide.Get());
        Assert.True(queue.IsEmpty);
        Assert.Equal(1, queue.UnfinishedTasks);
    }

    [Fact]
    public void Get_OnTheLoopThreadWhenItWouldBlock_ThrowsInsteadOfDeadlocking()
    {
        var queue = new DualQueue<int>(_loop);
        _loop.Run(() =>
        {
            var ex = Assert.Throws<InvalidOperationException>(() => queue.SyncSide.Get());
            Assert.Contains("AsyncSide", ex.Message);

            queue.SyncSide.Put(1);
            Assert.Equal(1, queue.SyncSide.Get());
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void Join_BlocksUntilALoopConsumerMarksEveryItemDone()
    {
        var queue = new DualQueue<int>(_loop);
        _loop.Run(async () =>
        {
            queue.SyncSide.Put(1);
            queue.SyncSide.Put(2);
            Task join = SyncTestLoop.OnThread(() => queue.SyncSide.Join());

            for (int i = 0; i < 2; i++)
            {
                await queue.AsyncSide.GetAsync();
                await SyncTestLoop.TurnsAsync();
                Assert.False(join.IsCompleted);
                queue.AsyncSide.TaskDone();
            }

            await join;
        });
    }

    [Fact]
    public void Join_WithTimeout_ReturnsFalseWhileItemsAreUnfinished()
    {
        var queue = new DualQueue<int>(_loop);
        Assert.True(queue.SyncSide.Join(TimeSpan.Zero));
        queue.SyncSide.Put(1);

        Assert.False(queue.SyncSide.Join(TimeSpan.FromMilliseconds(20)));
    }

    [Fact]
    public async Task Join_Blocked_IsCancelledByItsToken()
    {
        var queue = new DualQueue<int>(_loop);
        queue.SyncSide.Put(1);
        using var cts = new CancellationTokenSource();
        Task join = SyncTestLoop.OnThread(() => queue.SyncSide.Join(cts.Token));

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => join).WaitAsync(SyncTestLoop.Limit);
    }

    [Fact]
    public void BlockedThreadGetter_IsServedBeforeALoopGetterThatCameLater()
    {
        var queue = new DualQueue<int>(_loop);
        _loop.Run(async () =>
        {
            Task<int> threadGetter = SyncTestLoop.OnThread(() => queue.SyncSide.Get());
            await SyncTestLoop.UntilAsync(() => queue.WaitingGetters == 1);
            Task<int> loopGetter = queue.AsyncSide.GetAsync().AsTask();

            queue.AsyncSide.PutNowait(1);
            queue.AsyncSide.PutNowait(2);

            Assert.Equal(1, await threadGetter);
            Assert.Equal(2, await loopGetter);
        });
    }
}
