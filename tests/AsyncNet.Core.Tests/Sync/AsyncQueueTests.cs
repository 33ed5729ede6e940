using AsyncNet.Loop;
using AsyncNet.Sync;

namespace AsyncNet.Tests.Sync;

public sealed class AsyncQueueTests : IDisposable
{
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void Constructor_NegativeMaxSize_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AsyncQueue<int>(_loop, -1));

    [Fact]
    public void PutAndGet_WithRoom_CompleteSynchronouslyInFifoOrder()
    {
        var queue = new AsyncQueue<int>(_loop);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(queue.PutAsync(i).IsCompletedSuccessfully);
        }

        Assert.Equal(5, queue.Count);
        for (int i = 0; i < 5; i++)
        {
            ValueTask<int> get = queue.GetAsync();
            Assert.True(get.IsCompletedSuccessfully);
            Assert.Equal(i, get.Result);
        }

        Assert.True(queue.IsEmpty);
    }

    [Fact]
    public void GetAsync_Empty_WaitsForThePutAndGettersAreServedFifo()
    {
        var queue = new AsyncQueue<string>(_loop);
        _loop.Run(async () =>
        {
            Task<string>[] getters = Enumerable.Range(0, 3).Select(_ => queue.GetAsync().AsTask()).ToArray();
            await SyncTestLoop.TurnsAsync();
            Assert.All(getters, g => Assert.False(g.IsCompleted));

            queue.PutNowait("a");
            queue.PutNowait("b");
            queue.PutNowait("c");

            Assert.Equal(["a", "b", "c"], await Task.WhenAll(getters));
            Assert.True(queue.IsEmpty);
        });
    }

    [Fact]
    public void PutAsync_Full_WaitsForRoomAndPuttersAreServedFifo()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 2);
        _loop.Run(async () =>
        {
            await queue.PutAsync(1);
            await queue.PutAsync(2);
            Assert.True(queue.IsFull);
            Task p3 = queue.PutAsync(3).AsTask();
            Task p4 = queue.PutAsync(4).AsTask();
            await SyncTestLoop.TurnsAsync();
            Assert.False(p3.IsCompleted);

            var got = new List<int>();
            for (int i = 0; i < 4; i++)
            {
                got.Add(await queue.GetAsync());
            }

            await Task.WhenAll(p3, p4);
            Assert.Equal([1, 2, 3, 4], got);
        });
    }

    [Fact]
    public void TryPutAndPutNowait_Full_FailWithoutWaiting()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 1);
        Assert.True(queue.TryPut(1));

        Assert.False(queue.TryPut(2));
        var ex = Assert.Throws<QueueFullException>(() => queue.PutNowait(2));

        Assert.Equal(1, ex.MaxSize);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void TryGetAndGetNowait_Empty_FailWithoutWaiting()
    {
        var queue = new AsyncQueue<int>(_loop);

        Assert.False(queue.TryGet(out _));
        Assert.Throws<QueueEmptyException>(() => queue.GetNowait());
    }

    [Fact]
    public void TaskDone_MoreThanPuts_ThrowsInvalidOperation()
    {
        var queue = new AsyncQueue<int>(_loop);
        queue.PutNowait(1);
        queue.GetNowait();
        queue.TaskDone();

        var ex = Assert.Throws<InvalidOperationException>(queue.TaskDone);

        Assert.Contains("more times than items were put", ex.Message);
    }

    [Fact]
    public void JoinAsync_CompletesWhenEveryItemIsMarkedDone()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            Assert.True(queue.JoinAsync().IsCompletedSuccessfully);
            queue.PutNowait(1);
            queue.PutNowait(2);
            Task join = queue.JoinAsync().AsTask();

            queue.GetNowait();
            queue.TaskDone();
            await SyncTestLoop.TurnsAsync();
            Assert.False(join.IsCompleted);

            queue.GetNowait();
            queue.TaskDone();
            await join;
            Assert.Equal(0, queue.UnfinishedTasks);
        });
    }

    [Fact]
    public void Cancel_QueuedGetter_ItNeverReceivesAnItem()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task<int> cancelled = queue.GetAsync(cts.Token).AsTask();
            await Task.Run(cts.Cancel);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

            queue.PutNowait(7);
            Assert.Equal(7, queue.GetNowait());
        });
    }

    [Fact]
    public void Cancel_GetterAfterWokenBeforeResuming_HandsTheItemToTheNextGetter()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task<int> woken = queue.GetAsync(cts.Token).AsTask();
            Task<int> next = queue.GetAsync().AsTask();

            queue.PutNowait(42);   // handed to the first getter…
            cts.Cancel();          // …cancelled before it resumes.

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            Assert.Equal(42, await next);
        });
    }

    [Fact]
    public void Cancel_GetterAfterWokenBeforeResuming_ReturnsTheItemToTheFront()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task<int> woken = queue.GetAsync(cts.Token).AsTask();

            queue.PutNowait(1);
            queue.PutNowait(2);
            Assert.Equal(1, queue.Count);
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            Assert.Equal(1, queue.GetNowait());
            Assert.Equal(2, queue.GetNowait());
            Assert.Equal(2, queue.UnfinishedTasks);
        });
    }

    [Fact]
    public void Cancel_SeveralGettersAfterWoken_ReturnTheirItemsInTheOriginalOrder()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            using var cts = new CancellationTokenSource();
            Task<int>[] woken = Enumerable.Range(0, 3).Select(_ => queue.GetAsync(cts.Token).AsTask()).ToArray();

            queue.PutNowait(1);
            queue.PutNowait(2);
            queue.PutNowait(3);
            queue.PutNowait(4);
            cts.Cancel();

            foreach (Task<int> w in woken)
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => w);
            }

            Assert.Equal([1, 2, 3, 4], Drain(queue));
        });
    }

    [Fact]
    public void ItemHandedToAWokenGetter_KeepsItsSlotUntilTheGetterResumes()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 1);
        _loop.Run(async () =>
        {
            Task<int> getter = queue.GetAsync().AsTask();
            queue.PutNowait(1);

            // As in asyncio, the item is in the queue until the getter has run: the queue stays full.
            Assert.True(queue.IsFull);
            Assert.False(queue.TryPut(2));
            Assert.False(queue.TryGet(out _));

            Assert.Equal(1, await getter);
            Assert.True(queue.TryPut(2));
        });
    }

    [Fact]
    public void Cancel_PutterAfterWokenBeforeResuming_DoesNotPutAndPassesTheSlotOn()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 1);
        _loop.Run(async () =>
        {
            queue.PutNowait(1);
            using var cts = new CancellationTokenSource();
            Task woken = queue.PutAsync(2, cts.Token).AsTask();
            Task next = queue.PutAsync(3).AsTask();

            Assert.Equal(1, queue.GetNowait());   // frees the slot for the first putter…
            cts.Cancel();                          // …cancelled before it resumes.

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => woken);
            await next;
            Assert.Equal([3], Drain(queue));
            Assert.Equal(2, queue.UnfinishedTasks);
        });
    }

    [Fact]
    public void Cancel_QueuedPutter_ItsItemNeverEntersTheQueue()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 1);
        _loop.Run(async () =>
        {
            queue.PutNowait(1);
            using var cts = new CancellationTokenSource();
            Task put = queue.PutAsync(2, cts.Token).AsTask();
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => put);

            Assert.Equal([1], Drain(queue));
            Assert.Equal(1, queue.UnfinishedTasks);
        });
    }

    [Fact]
    public void Shutdown_ReleasesWaitingGettersWithQueueShutDown()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            Task<int> getter = queue.GetAsync().AsTask();
            await SyncTestLoop.TurnsAsync();

            queue.Shutdown();

            await Assert.ThrowsAsync<QueueShutDownException>(() => getter);
            Assert.True(queue.IsShutDown);
        });
    }

    [Fact]
    public void Shutdown_ReleasesWaitingPuttersAndRejectsNewPuts_ButGetsDrainWhatIsLeft()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 1);
        _loop.Run(async () =>
        {
            queue.PutNowait(1);
            Task putter = queue.PutAsync(2).AsTask();

            queue.Shutdown();

            await Assert.ThrowsAsync<QueueShutDownException>(() => putter);
            await Assert.ThrowsAsync<QueueShutDownException>(() => queue.PutAsync(3).AsTask());
            Assert.False(queue.TryPut(3));
            Assert.Throws<QueueShutDownException>(() => queue.PutNowait(3));

            Assert.Equal(1, await queue.GetAsync());
            await Assert.ThrowsAsync<QueueShutDownException>(() => queue.GetAsync().AsTask());
            Assert.Throws<QueueShutDownException>(() => queue.GetNowait());
            Assert.False(queue.TryGet(out _));
        });
    }

    [Fact]
    public void Shutdown_PutterWokenButNotResumed_IsRefusedToo()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 1);
        _loop.Run(async () =>
        {
            queue.PutNowait(1);
            Task putter = queue.PutAsync(2).AsTask();
            queue.GetNowait();      // promises the slot to the putter
            queue.Shutdown();       // before it resumes

            await Assert.ThrowsAsync<QueueShutDownException>(() => putter);
            Assert.True(queue.IsEmpty);
        });
    }

    [Fact]
    public void ShutdownImmediate_DrainsItemsLowersUnfinishedAndReleasesJoin()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            queue.PutNowait(1);
            queue.PutNowait(2);
            queue.PutNowait(3);
            queue.GetNowait();          // taken, not done: stays unfinished
            Task join = queue.JoinAsync().AsTask();

            queue.Shutdown(immediate: true);

            Assert.True(queue.IsEmpty);
            Assert.Equal(1, queue.UnfinishedTasks);
            await SyncTestLoop.TurnsAsync();
            Assert.False(join.IsCompleted);
            queue.TaskDone();
            await join;
            await Assert.ThrowsAsync<QueueShutDownException>(() => queue.GetAsync().AsTask());
        });
    }

    [Fact]
    public void ShutdownImmediate_TakesBackAnItemHandedToAGetterThatHasNotResumed()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            Task<int> getter = queue.GetAsync().AsTask();
            queue.PutNowait(5);

            queue.Shutdown(immediate: true);

            await Assert.ThrowsAsync<QueueShutDownException>(() => getter);
            Assert.Equal(0, queue.UnfinishedTasks);
        });
    }

    [Fact]
    public void Shutdown_NotImmediate_LetsAWokenGetterKeepItsItem()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            Task<int> getter = queue.GetAsync().AsTask();
            queue.PutNowait(5);

            queue.Shutdown();

            Assert.Equal(5, await getter);
        });
    }

    [Fact]
    public void PutAndGet_Uncontended_AllocateNothing()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 16);

        long bytes = SyncTestLoop.AllocatedBy(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                queue.PutAsync(i).GetAwaiter().GetResult();
                queue.GetAsync().GetAwaiter().GetResult();
                queue.TaskDone();
            }
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void PutAsync_FromAnotherThreadWhileTheLoopRuns_Throws()
    {
        var queue = new AsyncQueue<int>(_loop);
        _loop.Run(async () =>
        {
            Exception? ex = await Task.Run(() => Record.Exception(() => queue.TryPut(1)));
            Assert.IsType<InvalidOperationException>(ex);
        });
    }

    [Fact]
    public void ManyProducersAndConsumers_DeliverEveryItemExactlyOnce()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 3);
        var received = new List<int>();
        _loop.Run(async () =>
        {
            Task[] producers = Enumerable.Range(0, 4).Select(p => Produce(p)).ToArray();
            Task[] consumers = Enumerable.Range(0, 3).Select(_ => Consume()).ToArray();
            await Task.WhenAll(producers);
            await queue.JoinAsync();
            queue.Shutdown();
            await Task.WhenAll(consumers);
        });

        Assert.Equal(Enumerable.Range(0, 400), received.Order());

        async Task Produce(int p)
        {
            for (int i = 0; i < 100; i++)
            {
                await queue.PutAsync((p * 100) + i);
            }
        }

        async Task Consume()
        {
            while (true)
            {
                int item;
                try
                {
                    item = await queue.GetAsync();
                }
                catch (QueueShutDownException)
                {
                    return;
                }

                received.Add(item);
                queue.TaskDone();
                if (item % 7 == 0)
                {
                    await Task.Yield();
                }
            }
        }
    }

    [Fact]
    public void ToString_ShowsLiveState()
    {
        var queue = new AsyncQueue<int>(_loop, maxSize: 4);
        queue.PutNowait(1);
        queue.Shutdown();

        Assert.Equal("AsyncQueue<Int32>(Count=1, MaxSize=4, Getters=0, Putters=0, InTransit=0, Unfinished=1, ShutDown)", queue.ToString());
    }

    private static List<T> Drain<T>(AsyncQueue<T> queue)
    {
        var items = new List<T>();
        while (queue.TryGet(out T? item))
        {
            items.Add(item);
        }

        return items;
    }
}
