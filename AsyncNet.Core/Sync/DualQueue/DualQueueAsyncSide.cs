using System.Diagnostics.CodeAnalysis;
using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// The awaitable face of a <see cref="DualQueue{T}"/> (janus's <c>async_q</c>), for tasks on the queue's loop:
/// the contract of <see cref="AsyncQueue{T}"/>, with the items, bound and counts shared with the sync side.
/// </summary>
/// <remarks>
/// Thread affinity: the awaitable members must be called on the loop's thread while it runs; awaits resume there.
/// A task woken by a thread (an item handed over, a slot freed) resumes on a later loop iteration; if its token
/// is cancelled before then, the item or slot passes on to the next waiter of either side.
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
public sealed class DualQueueAsyncSide<T>
{
    private readonly DualQueue<T> _queue;

    internal DualQueueAsyncSide(DualQueue<T> queue) => _queue = queue;

    /// <summary>The queue both sides share.</summary>
    public DualQueue<T> Queue => _queue;

    /// <summary>The loop this side is bound to.</summary>
    public EventLoop Loop => _queue.Loop;

    /// <summary>The most items the queue holds; 0 means unbounded.</summary>
    public int MaxSize => _queue.MaxSize;

    /// <summary>The items available to get now.</summary>
    public int Count => _queue.Count;

    /// <summary>Whether no item is available now.</summary>
    public bool IsEmpty => _queue.IsEmpty;

    /// <summary>Whether a put would wait now.</summary>
    public bool IsFull => _queue.IsFull;

    /// <summary>Items put and not yet marked done.</summary>
    public int UnfinishedTasks => _queue.UnfinishedTasks;

    /// <summary>Puts <paramref name="item"/>, waiting in FIFO order (with blocked threads) while the queue is full.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled put never enters the queue.</param>
    /// <returns>A task that completes when the item is in the queue; completed synchronously when there is room.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down (through the returned task).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first (through the returned task).</exception>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        lock (_queue.SyncRoot)
        {
            return _queue.Core.PutAsync(Loop, item, cancellationToken);
        }
    }

    /// <summary>Removes and returns the next item, waiting in FIFO order (with blocked threads) while the queue is empty.</summary>
    /// <param name="cancellationToken">Cancels the wait; an item handed over before the cancellation is seen returns to the queue.</param>
    /// <returns>The item; completed synchronously when one is available.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down and empty (through the returned task).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first (through the returned task).</exception>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        lock (_queue.SyncRoot)
        {
            return _queue.Core.GetAsync(Loop, cancellationToken);
        }
    }

    /// <summary>Puts <paramref name="item"/> if there is room now.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="false"/> if the queue is full or shut down.</returns>
    public bool TryPut(T item) => _queue.SyncSide.TryPut(item);

    /// <summary>Puts <paramref name="item"/> without waiting.</summary>
    /// <param name="item">The item.</param>
    /// <exception cref="QueueFullException">The queue is full.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down.</exception>
    public void PutNowait(T item) => _queue.SyncSide.PutNowait(item);

    /// <summary>Removes the next item if one is available now.</summary>
    /// <param name="item">The item, or default.</param>
    /// <returns>Whether an item was taken.</returns>
    public bool TryGet([MaybeNullWhen(false)] out T item) => _queue.SyncSide.TryGet(out item);

    /// <summary>Removes and returns the next item without waiting.</summary>
    /// <returns>The item.</returns>
    /// <exception cref="QueueEmptyException">The queue is empty.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down and empty.</exception>
    public T GetNowait() => _queue.SyncSide.GetNowait();

    /// <summary>Marks one item as processed (shared with the sync side).</summary>
    /// <exception cref="InvalidOperationException">Called more times than items were put.</exception>
    public void TaskDone() => _queue.SyncSide.TaskDone();

    /// <summary>Waits until every item put (on either side) has been marked processed.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes on the loop thread; completed synchronously if nothing is unfinished.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="QueueShutDownException">The queue was closed with unfinished items (through the returned task).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first (through the returned task).</exception>
    public ValueTask JoinAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        lock (_queue.SyncRoot)
        {
            return _queue.Core.JoinAsync(Loop, cancellationToken);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => "AsyncSide of " + _queue;
}
