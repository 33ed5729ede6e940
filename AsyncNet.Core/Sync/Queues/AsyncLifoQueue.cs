using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>A loop-bound queue that returns the most recently put item first, asyncio's <c>LifoQueue</c>.</summary>
/// <remarks>Waiters are still served FIFO; everything but the item order is as for <see cref="AsyncQueue{T}"/>.</remarks>
/// <typeparam name="T">The item type.</typeparam>
public sealed class AsyncLifoQueue<T> : AsyncQueue<T>
{
    /// <summary>Creates a LIFO queue bound to <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose tasks use the queue.</param>
    /// <param name="maxSize">The most items the queue holds; the default, 0, means unbounded.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is negative.</exception>
    public AsyncLifoQueue(EventLoop loop, int maxSize = 0)
        : base(loop, maxSize, new LifoQueueBuffer<T>())
    {
    }
}
