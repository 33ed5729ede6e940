using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class DualQueueAsyncSideTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void PutAndGet_Uncontended_CompleteSynchronouslyWithoutAllocating()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 8);
        DualQueueAsyncSide<int> side = queue.AsyncSide;

        long bytes = SyncTestLoop.AllocatedBy(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                ValueTask put = side.PutAsync(i);
                Assert.True(put.IsCompletedSuccessfully);
                ValueTask<int> get = side.GetAsync();
                Assert.True(get.IsCompletedSuccessfully);
                side.TaskDone();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void GetAsync_WokenByAThread_ResumesOnTheLoopThread()
    {
        var queue = new DualQueue<int>(_loop);
        _loop.Run(async () =>
        {
            int loopThread = Environment.CurrentManagedThreadId;
            Task<int> getter = queue.AsyncSide.GetAsync().AsTask();

            await SyncTestLoop.OnThread(() => queue.SyncSide.Put(5));

            Assert.Equal(5, await getter);
            Assert.Equal(loopThread, Environment.CurrentManagedThreadId);
        });
    }

    [Fact]
    public void Cancel_LoopGetterAfterWokenBeforeResuming_PassesTheItemToABlockedThread()
    {
        var queue = new DualQueue<int>(_loop);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task<int> loopGetter = queue.AsyncSide.GetAsync(cts.Token).AsTask();
            Task<int> threadGetter = SyncTestLoop.OnThread(() => queue.SyncSide.Get());
            await SyncTestLoop.UntilAsync(() => queue.WaitingGetters == 2);

            queue.AsyncSide.PutNowait(7);   // handed to the loop getter, first in line…
            cts.Cancel();                    // …cancelled before it resumes.

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loopGetter);
            Assert.Equal(7, await threadGetter);
        });
    }

    [Fact]
    public void Cancel_LoopPutterAfterWokenBeforeResuming_DoesNotPutAndTheNextPutterGoesIn()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 1);
        _loop.Run(async () =>
        {
            queue.AsyncSide.PutNowait(1);
            using var cts = new CancellationTokenSource();
            Task woken = queue.AsyncSide.PutAsync(2, cts.Token).AsTask();
            Task next = queue.AsyncSide.PutAsync(3).AsTask();

            Assert.Equal(1, queue.AsyncSide.GetNowait());
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            await next;
            Assert.Equal(3, queue.AsyncSide.GetNowait());
            Assert.True(queue.IsEmpty);
        });
    }

    [Fact]
    public void PutAsync_Full_IsWokenWhenAThreadGets()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 1);
        _loop.Run(async () =>
        {
            await queue.AsyncSide.PutAsync(1);
            Task putter = queue.AsyncSide.PutAsync(2).AsTask();

            Assert.Equal(1, await SyncTestLoop.OnThread(() => queue.SyncSide.Get()));

            await putter;
            Assert.Equal(2, queue.AsyncSide.GetNowait());
        });
    }

    [Fact]
    public void JoinAsync_CompletesWhenAThreadMarksTheLastItemDone()
    {
        var queue = new DualQueue<int>(_loop);
        _loop.Run(async () =>
        {
            await queue.AsyncSide.PutAsync(1);
            Task join = queue.AsyncSide.JoinAsync().AsTask();

            await SyncTestLoop.OnThread(() =>
            {
                queue.SyncSide.Get();
                queue.SyncSide.TaskDone();
            });

            await join;
        });
    }

    [Fact]
    public void GetAsync_FromAnotherThreadWhileTheLoopRuns_Throws()
    {
        var queue = new DualQueue<int>(_loop);
        _loop.Run(async () =>
        {
            Exception? ex = await SyncTestLoop.OnThread(() => Record.Exception(() => queue.AsyncSide.GetAsync()));
            Assert.IsType<InvalidOperationException>(ex);
        });
    }

    [Fact]
    public void ToString_NamesTheSide() =>
        Assert.StartsWith("AsyncSide of DualQueue<String>(", new DualQueue<string>(_loop).AsyncSide.ToString(), StringComparison.Ordinal);
}
