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

    private void OnLoop(Action body) => OnLoop(() =>
    {
        body();
        return Task.CompletedTask;
    });

    private void OnLoop(Func<Task> body) => _loop.RunUntilComplete(_loop.CreateTask(body));
}
