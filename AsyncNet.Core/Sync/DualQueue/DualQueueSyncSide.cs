using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// The blocking face of a <see cref="DualQueue{T}"/> (janus's <c>sync_q</c>), for plain threads: Python
/// <c>queue.Queue</c>'s contract with .NET cancellation. Safe from any thread.
/// </summary>
/// <remarks>
/// <para>
/// A blocked thread waits in the same FIFO as the queue's loop tasks. When its turn comes it is handed the item
/// (or, as a putter, its item enters the queue) at once, so a thread whose timeout or token fires at the same
/// moment still returns what it was handed; a thread that was not handed anything leaves the queue and throws.
/// </para>
/// <para>
/// An operation that would block is refused on the loop's own thread (it would stop the loop that must wake it);
/// the non-blocking ones (<see cref="TryPut"/>, <see cref="TryGet"/>, <see cref="TaskDone"/>…) work there too.
/// </para>
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
public sealed class DualQueueSyncSide<T>
{
    private readonly DualQueue<T> _queue;

    internal DualQueueSyncSide(DualQueue<T> queue) => _queue = queue;

    /// <summary>The queue both sides share.</summary>
    public DualQueue<T> Queue => _queue;

    /// <summary>The most items the queue holds; 0 means unbounded.</summary>
    public int MaxSize => _queue.MaxSize;

    /// <summary>The items available to get now.</summary>
    public int Count => _queue.Count;

    /// <summary>Whether no item is available now.</summary>
    public bool IsEmpty => _queue.IsEmpty;

    /// <summary>Whether a put would block now.</summary>
    public bool IsFull => _queue.IsFull;

    /// <summary>Items put and not yet marked done.</summary>
    public int UnfinishedTasks => _queue.UnfinishedTasks;

    /// <summary>Puts <paramref name="item"/>, blocking in FIFO order while the queue is full.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled put never enters the queue.</param>
    /// <exception cref="QueueShutDownException">The queue is shut down, or was shut down during the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">The put would block on the loop's thread.</exception>
    public void Put(T item, CancellationToken cancellationToken = default) => Put(item, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Puts <paramref name="item"/>, blocking at most <paramref name="timeout"/> while the queue is full.</summary>
    /// <param name="item">The item.</param>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> does not wait, <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled put never enters the queue.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="QueueFullException">The queue stayed full for <paramref name="timeout"/>.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down, or was shut down during the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">The put would block on the loop's thread.</exception>
    public void Put(T item, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        ThreadWaiter waiter;
        lock (_queue.SyncRoot)
        {
            QueueCore<T> core = _queue.Core;
            switch (core.TryPut(item))
            {
                case QueueAttempt.Done:
                    return;
                case QueueAttempt.ShutDown:
                    throw new QueueShutDownException("Cannot put: the queue is shut down.");
            }

            if (timeout == TimeSpan.Zero)
            {
                throw new QueueFullException(core.MaxSize);
            }

            ThrowIfOnLoopThread(_queue.Loop, "Put");
            waiter = ThreadWaiter.Rent(cancellationToken, item);
            core.AddPutter(waiter);
        }

        try
        {
            Block(waiter, timeout, cancellationToken);
            lock (_queue.SyncRoot)
            {
                switch (waiter.State)
                {
                    case ThreadWaiter.Outcome.Granted:
                        return;
                    case ThreadWaiter.Outcome.Failed:
                        throw waiter.Error!;
                    case ThreadWaiter.Outcome.Waiting:
                        _queue.Core.RemoveWaiter(waiter);
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new QueueFullException($"The queue stayed full (at its maximum of {_queue.MaxSize} items) for {timeout}.");
                    default:
                        throw new OperationCanceledException(cancellationToken);
                }
            }
        }
        finally
        {
            waiter.Return();
        }
    }

    /// <summary>Puts <paramref name="item"/> if there is room now.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="false"/> if the queue is full or shut down.</returns>
    public bool TryPut(T item)
    {
        lock (_queue.SyncRoot)
        {
            return _queue.Core.TryPut(item) == QueueAttempt.Done;
        }
    }

    /// <summary>Puts <paramref name="item"/> without blocking.</summary>
    /// <param name="item">The item.</param>
    /// <exception cref="QueueFullException">The queue is full.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down.</exception>
    public void PutNowait(T item) => Put(item, TimeSpan.Zero);

    /// <summary>Removes and returns the next item, blocking in FIFO order while the queue is empty.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The item.</returns>
    /// <exception cref="QueueShutDownException">The queue is shut down and empty, or was shut down during the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">The get would block on the loop's thread.</exception>
    public T Get(CancellationToken cancellationToken = default) => Get(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Removes and returns the next item, blocking at most <paramref name="timeout"/> while the queue is empty.</summary>
    /// <param name="timeout">How long to wait; <see cref="TimeSpan.Zero"/> does not wait, <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The item.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="QueueEmptyException">The queue stayed empty for <paramref name="timeout"/>.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down and empty, or was shut down during the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">The get would block on the loop's thread.</exception>
    public T Get(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        cancellationToken.ThrowIfCancellationRequested();
        ThreadWaiter waiter;
        lock (_queue.SyncRoot)
        {
            QueueCore<T> core = _queue.Core;
            switch (core.TryGet(out T? item))
            {
                case QueueAttempt.Done:
                    return item!;
                case QueueAttempt.ShutDown:
                    throw new QueueShutDownException("Cannot get: the queue is shut down and empty.");
            }

            if (timeout == TimeSpan.Zero)
            {
                throw new QueueEmptyException();
            }

            ThrowIfOnLoopThread(_queue.Loop, "Get");
            waiter = ThreadWaiter.Rent(cancellationToken, default!);
            core.AddGetter(waiter);
        }

        try
        {
            Block(waiter, timeout, cancellationToken);
            lock (_queue.SyncRoot)
            {
                switch (waiter.State)
                {
                    case ThreadWaiter.Outcome.Granted:
                        return waiter.Item;
                    case ThreadWaiter.Outcome.Failed:
                        throw waiter.Error!;
                    case ThreadWaiter.Outcome.Waiting:
                        _queue.Core.RemoveWaiter(waiter);
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new QueueEmptyException($"The queue stayed empty for {timeout}.");
                    default:
                        throw new OperationCanceledException(cancellationToken);
                }
            }
        }
        finally
        {
            waiter.Return();
        }
    }

    /// <summary>Removes the next item if one is available now.</summary>
    /// <param name="item">The item, or default.</param>
    /// <returns>Whether an item was taken.</returns>
    public bool TryGet([MaybeNullWhen(false)] out T item)
    {
        lock (_queue.SyncRoot)
        {
            return _queue.Core.TryGet(out item) == QueueAttempt.Done;
        }
    }

    /// <summary>Removes and returns the next item without blocking.</summary>
    /// <returns>The item.</returns>
    /// <exception cref="QueueEmptyException">The queue is empty.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down and empty.</exception>
    public T GetNowait() => Get(TimeSpan.Zero);

    /// <summary>Marks one item as processed (shared with the async side).</summary>
    /// <exception cref="InvalidOperationException">Called more times than items were put.</exception>
    public void TaskDone()
    {
        lock (_queue.SyncRoot)
        {
            _queue.Core.TaskDone();
        }
    }

    /// <summary>Blocks until every item put (on either side) has been marked processed.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="QueueShutDownException">The queue was closed with unfinished items.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">The join would block on the loop's thread.</exception>
    public void Join(CancellationToken cancellationToken = default) => _queue.JoinBlocking(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>Blocks at most <paramref name="timeout"/> until every item put has been marked processed.</summary>
    /// <param name="timeout">How long to wait, or <see cref="Timeout.InfiniteTimeSpan"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>Whether every item was processed in time.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not infinite.</exception>
    /// <exception cref="QueueShutDownException">The queue was closed with unfinished items.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first.</exception>
    /// <exception cref="InvalidOperationException">The join would block on the loop's thread.</exception>
    public bool Join(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValidateTimeout(timeout);
        return _queue.JoinBlocking(timeout, cancellationToken);
    }

    /// <inheritdoc/>
    public override string ToString() => "SyncSide of " + _queue;

    internal static void ThrowIfOnLoopThread(EventLoop loop, string operation)
    {
        if (loop.IsOnLoopThread)
        {
            throw new InvalidOperationException(
                $"A blocking {operation} on the event loop's own thread would stop the loop that has to wake it; use the queue's AsyncSide there.");
        }
    }

    private static void ValidateTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be zero or more, or Timeout.InfiniteTimeSpan.");
        }
    }

    private static void Block(ThreadWaiter waiter, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            waiter.Signal.Wait(timeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The outcome is read under the lock: a thread handed an item as its token fired keeps the item.
        }
    }

    /// <summary>
    /// A blocked thread in the queue's FIFO. One per thread and item type, reused: a thread blocks in one call
    /// at a time, and a waiter is out of every queue before its call returns.
    /// </summary>
    /// <remarks>
    /// States (<see cref="State"/>, written under the queue's lock): Waiting → Granted (handed an item, or its
    /// item was put), Failed (shut down) or Skipped (found cancelled when its turn came). The signal is set under
    /// the lock, after the state, so a woken thread always finds its outcome.
    /// </remarks>
    private sealed class ThreadWaiter : WaiterNode, IQueueGetter<T>, IQueuePutter<T>
    {
        #pragma warning disable IDE1006 // [ThreadStatic] fields are t_camelCase, which the s_ rule cannot tell apart
        [ThreadStatic]
        private static ThreadWaiter? t_cached;
        #pragma warning restore IDE1006

        private ThreadWaiter()
        {
        }

        public enum Outcome
        {
            Waiting,
            Granted,
            Failed,
            Skipped,
        }

        public ManualResetEventSlim Signal { get; } = new(false);

        public Outcome State { get; private set; }

        public CancellationToken Token { get; private set; }

        public T Item { get; private set; } = default!;

        public Exception? Error { get; private set; }

        public bool ResumesLater => false;

        public static ThreadWaiter Rent(CancellationToken cancellationToken, T item)
        {
            ThreadWaiter waiter = t_cached ?? new ThreadWaiter();
            t_cached = null;
            waiter.Signal.Reset();
            waiter.State = Outcome.Waiting;
            waiter.Token = cancellationToken;
            waiter.Item = item;
            waiter.Error = null;
            return waiter;
        }

        public void Return()
        {
            Debug.Assert(Queue is null, "A thread waiter leaves every queue before its call returns");
            Item = default!;
            Error = null;
            Token = default;
            t_cached = this;
        }

        public void Grant(T item, long sequence)
        {
            Item = item;
            Complete(Outcome.Granted);
        }

        public void Grant() => Complete(Outcome.Granted);

        public void Fail(Exception error)
        {
            Error = error;
            Complete(Outcome.Failed);
        }

        public void WakeCancelled() => Complete(Outcome.Skipped);

        public void Revoke(Exception error) =>
            throw new UnreachableException("A thread decides when it is granted; it never holds a grant in transit.");

        private void Complete(Outcome outcome)
        {
            State = outcome;
            Signal.Set();
        }
    }
}
