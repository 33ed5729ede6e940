using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// A loop-bound queue that returns the smallest item first, asyncio's <c>PriorityQueue</c>; equal items leave
/// in the order they were put.
/// </summary>
/// <remarks>Waiters are still served FIFO; everything but the item order is as for <see cref="AsyncQueue{T}"/>.</remarks>
/// <typeparam name="T">The item type.</typeparam>
public sealed class AsyncPriorityQueue<T> : AsyncQueue<T>
{
    /// <summary>Creates a priority queue bound to <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose tasks use the queue.</param>
    /// <param name="maxSize">The most items the queue holds; the default, 0, means unbounded.</param>
    /// <param name="comparer">Orders the items, smallest first; the default is <see cref="Comparer{T}.Default"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is negative.</exception>
    public AsyncPriorityQueue(EventLoop loop, int maxSize = 0, IComparer<T>? comparer = null)
        : base(loop, maxSize, new PriorityQueueBuffer<T>(comparer ?? Comparer<T>.Default))
    {
        Comparer = comparer ?? Comparer<T>.Default;
    }

    /// <summary>The comparer that orders the items.</summary>
    public IComparer<T> Comparer { get; }
}
