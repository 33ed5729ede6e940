using AsyncNet.Buffers;
using AsyncNet.Loop;

namespace AsyncNet.Tests.Buffers;

public sealed class BufferPoolTests : IDisposable
{
    private readonly EventLoop _loop = new();

    private BufferPool Pool => _loop.BufferPool;

    public void Dispose() => _loop.Close();

    [Theory]
    [InlineData(int.MinValue, BufferPool.MinimumLength)]
    [InlineData(1, BufferPool.MinimumLength)]
    [InlineData(BufferPool.MinimumLength, BufferPool.MinimumLength)]
    [InlineData(BufferPool.MinimumLength + 1, 2 * BufferPool.MinimumLength)]
    [InlineData(5000, 8192)]
    [InlineData(BufferPool.MaximumLength - 1, BufferPool.MaximumLength)]
    [InlineData(int.MaxValue, BufferPool.MaximumLength)]
    public void Rent_RoundsUpToAPowerOfTwoWithinTheRange(int wanted, int expected)
    {
        Assert.Equal(expected, BufferPool.RoundUp(wanted));
        Assert.Equal(expected, Pool.Rent(wanted).Length);
    }

    [Fact]
    public void OnTheLoopThread_AReturnedArrayIsLentAgain_ForAnySizeOfItsClass()
    {
        OnLoop(() =>
        {
            byte[] array = Pool.Rent(5000);
            Pool.Return(array);
            Assert.Equal(array.Length, Pool.RetainedBytes);
            Assert.Same(array, Pool.Rent(6000));
            Assert.Equal(0, Pool.RetainedBytes);
        });
    }

    [Fact]
    public void AnArrayReturnedOnAnotherThread_IsLentToTheLoopThread_WhenItsOwnRunOut()
    {
        // A stream reader consumed on the thread pool gives its segments back there; the loop must get them again.
        byte[] array = Pool.Rent(100_000);
        Task.Run(() => Pool.Return(array)).Wait();
        Assert.Equal(array.Length, Pool.RetainedBytes);

        byte[]? lentOnLoop = null;
        OnLoop(() => lentOnLoop = Pool.Rent(100_000));

        Assert.Same(array, lentOnLoop);
        Assert.Equal(0, Pool.RetainedBytes);
    }

    [Fact]
    public void AnotherThread_RentsWhatOtherThreadsReturned()
    {
        byte[] array = Pool.Rent(300);
        Pool.Return(array);
        Assert.Same(array, Task.Run(() => Pool.Rent(512)).Result);
    }

    [Fact]
    public void ArraysItDoesNotLend_AreLeftToTheGc()
    {
        Pool.Return(new byte[100]);
        Pool.Return(new byte[3000]);
        Pool.Return(new byte[2 * BufferPool.MaximumLength]);
        OnLoop(() => Pool.Return(new byte[BufferPool.MinimumLength - 1]));
        Assert.Equal(0, Pool.RetainedBytes);
        Assert.Throws<ArgumentNullException>(() => Pool.Return(null!));
    }

    [Fact]
    public void RetainedBytes_NeverExceedTheLimit_OverBothHalves()
    {
        int half = (int)(BufferPool.MaxRetainedBytes / BufferPool.MaximumLength / 2);
        for (int i = 0; i < half + 10; i++)
        {
            Pool.Return(new byte[BufferPool.MaximumLength]);
        }

        OnLoop(() =>
        {
            for (int i = 0; i < half + 10; i++)
            {
                Pool.Return(new byte[BufferPool.MaximumLength]);
            }
        });

        Assert.Equal(BufferPool.MaxRetainedBytes, Pool.RetainedBytes);
    }

    [Fact]
    public void ConcurrentReturnsFromManyThreads_WhileTheLoopRents_LoseNoArrayAndLendNoneTwice()
    {
        const int perThread = 2_000;
        var lent = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        byte[][] arrays = Enumerable.Range(0, 4 * perThread).Select(_ => Pool.Rent(1024)).ToArray();
        OnLoop(async () =>
        {
            Task returns = Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                for (int i = 0; i < perThread; i++)
                {
                    Pool.Return(arrays[(t * perThread) + i]);
                }
            })));
            while (!returns.IsCompleted || Pool.RetainedBytes > 0)
            {
                byte[] array = Pool.Rent(1024);
                if (arrays.Contains(array))
                {
                    Assert.True(lent.Add(array), "An array was lent twice");
                }

                await _loop.SleepAsync(TimeSpan.Zero);
            }

            await returns;
        });

        Assert.Equal(arrays.Length, lent.Count);
    }

    // Pinning: a transport sends from a stream reader's receive buffer during a read callback, so the array must not
    // be lent again (and written over) until the callback's send, even when the reader gives it back first.

    [Fact]
    public void APinnedArrayGivenBack_IsNotLentAgainUntilUnpinned_ThenItIs()
    {
        OnLoop(() =>
        {
            byte[] pinned = Pool.Rent(256 * 1024);
            Assert.True(Pool.TryPin(pinned));
            Pool.Return(pinned);
            Assert.Equal(0, Pool.RetainedBytes);
            byte[] other = Pool.Rent(256 * 1024);
            Assert.NotSame(pinned, other);

            Pool.Unpin();
            Assert.Equal(pinned.Length, Pool.RetainedBytes);
            Assert.Same(pinned, Pool.Rent(256 * 1024));
        });
    }

    [Fact]
    public void WhileOneArrayIsPinned_AnotherIsNot_AndGivenBackItIsLentAgainAsUsual()
    {
        OnLoop(() =>
        {
            byte[] pinned = Pool.Rent(4096);
            byte[] other = Pool.Rent(4096);
            Assert.True(Pool.TryPin(pinned));
            Assert.False(Pool.TryPin(other));
            Pool.Return(other);
            Assert.Same(other, Pool.Rent(4096));
            Pool.Unpin();
        });
    }

    [Fact]
    public void UnpinningAnArrayNotGivenBack_KeepsNothing_AndLaterReturnsAreOrdinary()
    {
        OnLoop(() =>
        {
            byte[] pinned = Pool.Rent(4096);
            Assert.True(Pool.TryPin(pinned));
            Pool.Unpin();
            Assert.Equal(0, Pool.RetainedBytes);

            // Still the caller's: given back after the unpin, it is kept and lent as any other.
            Pool.Return(pinned);
            Assert.Same(pinned, Pool.Rent(4096));
        });
    }

    [Fact]
    public void APinnedArrayGivenBackOnAnotherThread_IsNeverLentAgain()
    {
        byte[] pinned = Array.Empty<byte>();
        OnLoop(() =>
        {
            pinned = Pool.Rent(8192);
            Assert.True(Pool.TryPin(pinned));
            // A thread of its own: Task.Run(...).Wait() may run the return inline, on the loop thread.
            var returner = new Thread(() => Pool.Return(pinned));
            returner.Start();
            returner.Join();
            Pool.Unpin();
        });

        // Left to the GC rather than risk lending it while the loop still sends from it.
        Assert.Equal(0, Pool.RetainedBytes);
        Assert.NotSame(pinned, Pool.Rent(8192));
    }

    private void OnLoop(Action body) => OnLoop(() =>
    {
        body();
        return Task.CompletedTask;
    });

    private void OnLoop(Func<Task> body) => _loop.RunUntilComplete(_loop.CreateTask(body));
}
