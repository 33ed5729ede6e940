using System.Diagnostics.CodeAnalysis;
using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// A loop-bound FIFO queue for producer and consumer tasks, asyncio's <c>Queue</c>: optionally bounded,
/// with task accounting (<see cref="TaskDone"/>, <see cref="JoinAsync"/>) and Python 3.13's
/// <see cref="Shutdown"/>. <see cref="AsyncLifoQueue{T}"/> and <see cref="AsyncPriorityQueue{T}"/> change the order.
/// </summary>
/// <remarks>
/// <para>
/// Thread affinity: every member must be called on the loop's thread while it runs (or from any single thread
/// while it does not; the state properties are checked only in the loop's debug mode); awaits resume on the loop thread. For producers or consumers on plain threads use
/// <see cref="DualQueue{T}"/>.
/// </para>
/// <para>
/// Fairness and cancellation: waiting getters and putters are served FIFO. A put hands its item straight to
/// the longest-waiting getter, and a get that frees a slot promises it to the longest-waiting putter, so a
/// caller arriving in between cannot take either. If that waiter's token is cancelled before it resumes, the
/// item returns to its place (and to the next getter), or the slot to the next putter: nothing is lost, and a
/// cancelled put never enters the queue. An item handed to a getter keeps its slot until the getter resumes,
/// so a full queue stays full until then, as in asyncio.
/// </para>
/// <para>
/// Shutdown (Python 3.13): afterwards puts fail with <see cref="QueueShutDownException"/>; gets drain what is
/// left, then fail likewise; waiting putters and getters are released with that exception. An immediate
/// shutdown also drops every item (those already handed to a getter that has not resumed included) and lowers
/// the unfinished count by as many, which may release <see cref="JoinAsync"/>.
/// </para>
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
public class AsyncQueue<T>
{
    private readonly QueueCore<T> _core;

    /// <summary>Creates a FIFO queue bound to <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose tasks use the queue.</param>
    /// <param name="maxSize">The most items the queue holds; the default, 0, means unbounded.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is negative.</exception>
    public AsyncQueue(EventLoop loop, int maxSize = 0)
        : this(loop, maxSize, new FifoQueueBuffer<T>(maxSize is > 0 and <= 1024 ? maxSize : 16))
    {
    }

    private protected AsyncQueue(EventLoop loop, int maxSize, QueueBuffer<T> buffer)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        Loop = loop;
        _core = new QueueCore<T>(buffer, maxSize, syncRoot: null, allTasksDone: null);
    }

    /// <summary>The loop the queue is bound to.</summary>
    public EventLoop Loop { get; }

    /// <summary>The most items the queue holds; 0 means unbounded.</summary>
    public int MaxSize => _core.MaxSize;

    /// <summary>The items available to get now (asyncio's <c>qsize()</c>); one handed to a getter that has not resumed is not counted.</summary>
    public int Count
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _core.Count;
        }
    }

    /// <summary>Whether no item is available: <see cref="TryGet"/> would fail.</summary>
    public bool IsEmpty
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _core.Count == 0;
        }
    }

    /// <summary>
    /// Whether a put would wait: every slot holds an item, an item handed to a getter that has not resumed, or
    /// room promised to a putter that has not resumed. Always <see langword="false"/> for an unbounded queue.
    /// </summary>
    public bool IsFull
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _core.IsFull;
        }
    }

    /// <summary>Items put and not yet marked done with <see cref="TaskDone"/>.</summary>
    public int UnfinishedTasks
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _core.Unfinished;
        }
    }

    /// <summary>Whether <see cref="Shutdown"/> was called.</summary>
    public bool IsShutDown
    {
        get
        {
            Loop.VerifyAccessInDebugMode();
            return _core.IsShutDown;
        }
    }

    /// <summary>Puts <paramref name="item"/>, waiting in FIFO order while the queue is full.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled put never enters the queue.</param>
    /// <returns>A task that completes when the item is in the queue; completed synchronously when there is room.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down (through the returned task).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first (through the returned task).</exception>
    public ValueTask PutAsync(T item, CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        return _core.PutAsync(Loop, item, cancellationToken);
    }

    /// <summary>Removes and returns the next item, waiting in FIFO order while the queue is empty.</summary>
    /// <param name="cancellationToken">Cancels the wait; an item handed over before the cancellation is seen returns to the queue.</param>
    /// <returns>The item; completed synchronously when one is available.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down and empty (through the returned task).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first (through the returned task).</exception>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        return _core.GetAsync(Loop, cancellationToken);
    }

    /// <summary>Puts <paramref name="item"/> if there is room now.</summary>
    /// <param name="item">The item.</param>
    /// <returns><see langword="false"/> if the queue is full or shut down.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public bool TryPut(T item)
    {
        Loop.VerifyAccess();
        return _core.TryPut(item) == QueueAttempt.Done;
    }

    /// <summary>Puts <paramref name="item"/> without waiting (asyncio's <c>put_nowait</c>).</summary>
    /// <param name="item">The item.</param>
    /// <exception cref="QueueFullException">The queue is full.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void PutNowait(T item)
    {
        Loop.VerifyAccess();
        switch (_core.TryPut(item))
        {
            case QueueAttempt.WouldWait:
                throw new QueueFullException(MaxSize);
            case QueueAttempt.ShutDown:
                throw new QueueShutDownException("Cannot put: the queue is shut down.");
        }
    }

    /// <summary>Removes the next item if one is available now.</summary>
    /// <param name="item">The item, or default.</param>
    /// <returns>Whether an item was taken.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public bool TryGet([MaybeNullWhen(false)] out T item)
    {
        Loop.VerifyAccess();
        return _core.TryGet(out item) == QueueAttempt.Done;
    }

    /// <summary>Removes and returns the next item without waiting (asyncio's <c>get_nowait</c>).</summary>
    /// <returns>The item.</returns>
    /// <exception cref="QueueEmptyException">The queue is empty.</exception>
    /// <exception cref="QueueShutDownException">The queue is shut down and empty.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public T GetNowait()
    {
        Loop.VerifyAccess();
        return _core.TryGet(out T? item) switch
        {
            QueueAttempt.Done => item!,
            QueueAttempt.ShutDown => throw new QueueShutDownException("Cannot get: the queue is shut down and empty."),
            _ => throw new QueueEmptyException(),
        };
    }

    /// <summary>Marks one item taken from the queue as processed; see <see cref="JoinAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">Called more times than items were put, or from another thread while the loop runs.</exception>
    public void TaskDone()
    {
        Loop.VerifyAccess();
        _core.TaskDone();
    }

    /// <summary>Waits until every item put has been marked processed with <see cref="TaskDone"/>.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the unfinished count is zero; completed synchronously if it is now.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first (through the returned task).</exception>
    public ValueTask JoinAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        return _core.JoinAsync(Loop, cancellationToken);
    }

    /// <summary>Shuts the queue down (Python 3.13); see the type's remarks. Calling it again is allowed.</summary>
    /// <param name="immediate">Also drop every item and lower the unfinished count by as many; the default is <see langword="false"/>.</param>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    public void Shutdown(bool immediate = false)
    {
        Loop.VerifyAccess();
        _core.Shutdown(immediate);
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        string name = GetType().Name;
        return $"{name[..name.IndexOf('`', StringComparison.Ordinal)]}<{typeof(T).Name}>({_core.Describe()})";
    }
}
