using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// A semaphore that rejects a release past its initial count, asyncio's <c>BoundedSemaphore</c>: it catches
/// the bug of releasing more often than acquiring.
/// </summary>
/// <remarks>Everything else is as for <see cref="AsyncSemaphore"/>.</remarks>
public sealed class AsyncBoundedSemaphore : AsyncSemaphore
{
    /// <summary>Creates a bounded semaphore with <paramref name="initialCount"/> permits, which is also its bound.</summary>
    /// <param name="loop">The loop whose tasks use the semaphore.</param>
    /// <param name="initialCount">The number of permits and the bound; the default is 1.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initialCount"/> is negative.</exception>
    public AsyncBoundedSemaphore(EventLoop loop, int initialCount = 1)
        : base(loop, initialCount)
    {
        Bound = initialCount;
    }

    /// <summary>The most permits the semaphore can hold: its initial count.</summary>
    public int Bound { get; }

    private protected override string DescribeBound() => $", Bound={Bound}";

    private protected override void CheckRelease()
    {
        // A waiter exists only while the count is zero, so a count at the bound means every permit is home.
        if (CurrentCount >= Bound)
        {
            throw new SemaphoreFullException($"AsyncBoundedSemaphore released too many times: it already holds all {Bound} permits.");
        }
    }
}
