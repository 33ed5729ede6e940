using AsyncNet.Buffers;
using AsyncNet.Loop;

namespace AsyncNet.Tests.Buffers;

/// <summary>
/// A pinned array (a transport sending from a stream reader's receive buffer during a read callback) is not lent again
/// until unpinned, even when the reader gives it back first; then it is.
/// </summary>
public sealed class BufferPoolPinTests : IDisposable
{
    private readonly EventLoop _loop = new();

    private BufferPool Pool => _loop.BufferPool;

    public void Dispose() => _loop.Close();

    [Fact]
    public void APinnedArrayGivenBack_IsNotLentAgainUntilUnpinned_ThenItIs()
    {
        OnLoop(() =>
        {
            byte[] pinned = Pool.Rent(256 * 1024);
            Pool.Pin(pinned);
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
    public void UnpinningAnArrayNotGivenBack_KeepsNothing_AndLaterReturnsAreOrdinary()
    {
        OnLoop(() =>
        {
            byte[] pinned = Pool.Rent(4096);
            Pool.Pin(pinned);
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
            Pool.Pin(pinned);
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

    private void OnLoop(Action body) => _loop.RunUntilComplete(_loop.CreateTask(() =>
    {
        body();
        return Task.CompletedTask;
    }));
}
