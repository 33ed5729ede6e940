using System.Collections.Concurrent;
using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class DualQueueTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void Constructor_NegativeMaxSize_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DualQueue<int>(_loop, -1));

    [Fact]
    public void BothSides_ShareItemsBoundAndCounts()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 2);

        queue.SyncSide.PutNowait(1);
        queue.AsyncSide.PutNowait(2);

        Assert.True(queue.IsFull);
        Assert.True(queue.AsyncSide.IsFull);
        Assert.Equal(2, queue.SyncSide.Count);
        Assert.Equal(2, queue.AsyncSide.UnfinishedTasks);
        Assert.Throws<QueueFullException>(() => queue.SyncSide.PutNowait(3));
        Assert.Equal(1, queue.AsyncSide.GetNowait());
        Assert.Equal(2, queue.SyncSide.GetNowait());
        queue.SyncSide.TaskDone();
        queue.AsyncSide.TaskDone();
        Assert.Throws<InvalidOperationException>(queue.SyncSide.TaskDone);
    }

    [Fact]
    public void ThreadProducer_LoopConsumer_ReceivesEverythingInOrder()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 4);
        _loop.Run(async () =>
        {
            Task producer = SyncTestLoop.OnThread(() =>
            {
                for (int i = 0; i < 1000; i++)
                {
                    queue.SyncSide.Put(i);
                }
            });

            for (int i = 0; i < 1000; i++)
            {
                Assert.Equal(i, await queue.AsyncSide.GetAsync());
            }

            await producer;
        });
    }

    [Fact]
    public void LoopProducer_ThreadConsumer_ReceivesEverythingInOrder()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 4);
        _loop.Run(async () =>
        {
            Task<List<int>> consumer = SyncTestLoop.OnThread(() =>
            {
                var got = new List<int>();
                for (int i = 0; i < 1000; i++)
                {
                    got.Add(queue.SyncSide.Get());
                }

                return got;
            });

            for (int i = 0; i < 1000; i++)
            {
                await queue.AsyncSide.PutAsync(i);
            }

            Assert.Equal(Enumerable.Range(0, 1000), await consumer);
        });
    }

    [Fact]
    public void ThreadsAndLoopTasksOnBothSides_DeliverExactlyTheItemsPut()
    {
        const int PerProducer = 500;
        var queue = new DualQueue<int>(_loop, maxSize: 3);
        var received = new ConcurrentBag<int>();
        _loop.Run(async () =>
        {
            // Items: thread producers 0 and 1, loop producers 2 and 3; each producer's items are distinct.
            Task[] threadProducers = Enumerable.Range(0, 2).Select(p => SyncTestLoop.OnThread(() =>
            {
                for (int i = 0; i < PerProducer; i++)
                {
                    queue.SyncSide.Put((p * PerProducer) + i);
                }
            })).ToArray();
            Task[] loopProducers = Enumerable.Range(2, 2).Select(async p =>
            {
                for (int i = 0; i < PerProducer; i++)
                {
                    await queue.AsyncSide.PutAsync((p * PerProducer) + i);
                }
            }).ToArray();
            Task[] threadConsumers = Enumerable.Range(0, 2).Select(_ => SyncTestLoop.OnThread(() =>
            {
                try
                {
                    while (true)
                    {
                        received.Add(queue.SyncSide.Get());
                        queue.SyncSide.TaskDone();
                    }
                }
                catch (QueueShutDownException)
                {
                }
            })).ToArray();
            Task[] loopConsumers = Enumerable.Range(0, 2).Select(async _ =>
            {
                try
                {
                    while (true)
                    {
                        received.Add(await queue.AsyncSide.GetAsync());
                        queue.AsyncSide.TaskDone();
                    }
                }
                catch (QueueShutDownException)
                {
                }
            }).ToArray();

            await Task.WhenAll(threadProducers.Concat(loopProducers));
            await queue.AsyncSide.JoinAsync();
            queue.Shutdown();
            await Task.WhenAll(threadConsumers.Concat(loopConsumers));
        });

        Assert.Equal(Enumerable.Range(0, 4 * PerProducer), received.Order());
        Assert.Equal(0, queue.UnfinishedTasks);
    }

    [Fact]
    public void Close_WakesBlockedThreadsAndLoopWaitersWithQueueShutDown()
    {
        var getQueue = new DualQueue<int>(_loop);
        var putQueue = new DualQueue<int>(_loop, maxSize: 1);
        putQueue.SyncSide.PutNowait(0);
        _loop.Run(async () =>
        {
            Task<int> blockedGetter = SyncTestLoop.OnThread(() => getQueue.SyncSide.Get());
            Task blockedPutter = SyncTestLoop.OnThread(() => putQueue.SyncSide.Put(1));
            Task<int> loopGetter = getQueue.AsyncSide.GetAsync().AsTask();
            Task loopPutter = putQueue.AsyncSide.PutAsync(2).AsTask();
            await SyncTestLoop.UntilAsync(() => getQueue.WaitingGetters == 2 && putQueue.WaitingPutters == 2);

            await SyncTestLoop.OnThread(() =>
            {
                getQueue.Close();
                putQueue.Close();
            });

            await Assert.ThrowsAsync<QueueShutDownException>(() => blockedGetter);
            await Assert.ThrowsAsync<QueueShutDownException>(() => blockedPutter);
            await Assert.ThrowsAsync<QueueShutDownException>(() => loopGetter);
            await Assert.ThrowsAsync<QueueShutDownException>(() => loopPutter);
            await getQueue.WaitClosedAsync();
            await putQueue.WaitClosedAsync();
            Assert.True(putQueue.IsClosed);
            Assert.True(putQueue.IsEmpty);
        });
    }

    [Fact]
    public void Close_ReleasesJoinersOnBothSidesWithQueueShutDown()
    {
        var queue = new DualQueue<int>(_loop);
        queue.SyncSide.PutNowait(1);
        queue.SyncSide.GetNowait();
        _loop.Run(async () =>
        {
            Task threadJoin = SyncTestLoop.OnThread(() => queue.SyncSide.Join());
            Task loopJoin = queue.AsyncSide.JoinAsync().AsTask();
            await SyncTestLoop.TurnsAsync();

            queue.Close();

            await Assert.ThrowsAsync<QueueShutDownException>(() => threadJoin);
            await Assert.ThrowsAsync<QueueShutDownException>(() => loopJoin);
        });
    }

    [Fact]
    public void WaitClosedAsync_BeforeClose_WaitsForIt()
    {
        var queue = new DualQueue<int>(_loop);
        _loop.Run(async () =>
        {
            Task closed = queue.WaitClosedAsync().AsTask();
            await SyncTestLoop.TurnsAsync();
            Assert.False(closed.IsCompleted);

            await SyncTestLoop.OnThread(queue.Close);

            await closed;
            Assert.True(queue.WaitClosedAsync().IsCompletedSuccessfully);
        });
    }

    [Fact]
    public void Shutdown_FromAThread_LetsGetsDrainThenFailsThemOnBothSides()
    {
        var queue = new DualQueue<int>(_loop);
        queue.SyncSide.PutNowait(1);
        queue.SyncSide.PutNowait(2);

        queue.Shutdown();

        Assert.True(queue.IsShutDown);
        Assert.Throws<QueueShutDownException>(() => queue.SyncSide.Put(3));
        Assert.Equal(1, queue.SyncSide.Get());
        _loop.Run(async () =>
        {
            Assert.Equal(2, await queue.AsyncSide.GetAsync());
            await Assert.ThrowsAsync<QueueShutDownException>(() => queue.AsyncSide.GetAsync().AsTask());
        });
        Assert.Throws<QueueShutDownException>(() => queue.SyncSide.Get());
    }

    [Fact]
    public void ToString_ShowsLiveState()
    {
        var queue = new DualQueue<int>(_loop, maxSize: 2);
        queue.SyncSide.PutNowait(5);

        Assert.Equal("DualQueue<Int32>(Count=1, MaxSize=2, Getters=0, Putters=0, InTransit=0, Unfinished=1)", queue.ToString());
        Assert.StartsWith("SyncSide of DualQueue<Int32>(", queue.SyncSide.ToString(), StringComparison.Ordinal);
    }
}
