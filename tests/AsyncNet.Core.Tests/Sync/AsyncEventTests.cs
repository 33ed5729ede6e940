using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class AsyncEventTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void WaitAsync_WhenSet_CompletesSynchronously()
    {
        var evt = new AsyncEvent(_loop, initialState: true);

        Assert.True(evt.WaitAsync().IsCompletedSuccessfully);
    }

    [Fact]
    public void Set_WakesEveryWaiter()
    {
        var evt = new AsyncEvent(_loop);
        _loop.Run(async () =>
        {
            Task[] waiters = Enumerable.Range(0, 3).Select(_ => evt.WaitAsync().AsTask()).ToArray();
            await SyncTestLoop.TurnsAsync();
            Assert.All(waiters, w => Assert.False(w.IsCompleted));

            evt.Set();

            await Task.WhenAll(waiters);
            Assert.True(evt.IsSet);
            Assert.Equal(0, evt.WaitingCount);
        });
    }

    [Fact]
    public void Clear_BeforeWokenWaitersResume_StillLetsThemThrough()
    {
        var evt = new AsyncEvent(_loop);
        _loop.Run(async () =>
        {
            Task waiter = evt.WaitAsync().AsTask();

            evt.Set();
            evt.Clear();

            await waiter;
            Assert.False(evt.WaitAsync().IsCompleted);
        });
    }

    [Fact]
    public void Cancel_WhileWaiting_CancelsOnlyThatWaiter()
    {
        var evt = new AsyncEvent(_loop);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task cancelled = evt.WaitAsync(cts.Token).AsTask();
            Task other = evt.WaitAsync().AsTask();

            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

            Assert.Equal(1, evt.WaitingCount);
            evt.Set();
            await other;
        });
    }

    [Fact]
    public void Cancel_AfterSetBeforeResuming_ThrowsForThatWaiterOnly()
    {
        var evt = new AsyncEvent(_loop);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task cancelled = evt.WaitAsync(cts.Token).AsTask();
            Task other = evt.WaitAsync().AsTask();

            evt.Set();
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
            await other;
        });
    }

    [Fact]
    public void ToString_ShowsLiveState()
    {
        var evt = new AsyncEvent(_loop);
        _ = evt.WaitAsync();

        Assert.Equal("AsyncEvent(Unset, Waiting=1)", evt.ToString());
    }
}
