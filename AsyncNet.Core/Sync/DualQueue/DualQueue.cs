using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>
/// One FIFO queue with two faces, janus's <c>Queue</c>: a <see cref="SyncSide"/> whose blocking
/// <c>Put</c>/<c>Get</c> plain threads call from anywhere, and an <see cref="AsyncSide"/> whose
/// <c>PutAsync</c>/<c>GetAsync</c> tasks on one event loop await. Both share the items, the bound, the
/// unfinished count and the shutdown state.
/// </summary>
/// <remarks>
/// <para>
/// Maintainer's overview. Every operation on either side runs under one lock (<see cref="_sync"/>) around the
/// same state machine as <see cref="AsyncQueue{T}"/> (<see cref="QueueCore{T}"/>), whose waiter queues hold
/// blocked threads and loop tasks side by side in arrival order. A put hands its item straight to the
/// longest-waiting getter of either kind: a thread is signalled through its own event (under the lock, so the
/// signal cannot outlive the wait); a loop task is woken with <see cref="EventLoop.CallSoonThreadSafe(Action{object?}, object?)"/>
/// and decides when it resumes, as on <see cref="AsyncQueue{T}"/> (a task cancelled before it resumes gives the
/// item back). Thread joiners wait on the lock's monitor. Nothing is copied between two queues, so nothing can
/// be lost or duplicated between the sides.
/// </para>
/// <para>
/// Closing (<see cref="Close"/>) is an immediate shutdown that also releases every joiner: blocked threads and
/// waiting tasks alike get <see cref="QueueShutDownException"/>. <see cref="WaitClosedAsync"/> then completes
/// once every wake-up sent to the loop has been delivered. Close the queue before closing its loop: a task still
/// waiting when its loop closes is abandoned with the loop.
/// </para>
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
public sealed partial class DualQueue<T>
{
    // Guards _core and everything below; loop waiters take it when they settle. Never held while a
    // continuation runs or while a thread blocks.
    private readonly object _sync = new();
    private readonly QueueCore<T> _core;
    private readonly WaiterQueue _closedWaiters = new();

    // Bumped each time the unfinished count drops to zero, so a thread joiner cannot miss a brief zero.
    private long _allDoneGeneration;
    private int _threadJoiners;

    /// <summary>Creates a dual queue whose async side is bound to <paramref name="loop"/>.</summary>
    /// <param name="loop">The loop whose tasks use <see cref="AsyncSide"/>.</param>
    /// <param name="maxSize">The most items the queue holds; the default, 0, means unbounded.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxSize"/> is negative.</exception>
    public DualQueue(EventLoop loop, int maxSize = 0)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        Loop = loop;
        _core = new QueueCore<T>(new FifoQueueBuffer<T>(maxSize is > 0 and <= 1024 ? maxSize : 16), maxSize, _sync, OnAllTasksDone)
        {
            SettlesDrained = WakeClosedWaiters,
        };
        SyncSide = new DualQueueSyncSide<T>(this);
        AsyncSide = new DualQueueAsyncSide<T>(this);
    }

    /// <summary>The loop the async side is bound to.</summary>
    public EventLoop Loop { get; }

    /// <summary>The blocking face, for plain threads (any thread but the loop's).</summary>
    public DualQueueSyncSide<T> SyncSide { get; }

    /// <summary>The awaitable face, for tasks on <see cref="Loop"/>.</summary>
    public DualQueueAsyncSide<T> AsyncSide { get; }

    /// <summary>The most items the queue holds; 0 means unbounded.</summary>
    public int MaxSize => _core.MaxSize;

    /// <summary>The items available to get now.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _core.Count;
            }
        }
    }

    /// <summary>Whether no item is available now.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>Whether a put would wait now (see <see cref="AsyncQueue{T}.IsFull"/>).</summary>
    public bool IsFull
    {
        get
        {
            lock (_sync)
            {
                return _core.IsFull;
            }
        }
    }

    /// <summary>Items put and not yet marked done.</summary>
    public int UnfinishedTasks
    {
        get
        {
            lock (_sync)
            {
                return _core.Unfinished;
            }
        }
    }

    /// <summary>Whether <see cref="Shutdown"/> or <see cref="Close"/> was called.</summary>
    public bool IsShutDown
    {
        get
        {
            lock (_sync)
            {
                return _core.IsShutDown;
            }
        }
    }

    /// <summary>Whether <see cref="Close"/> was called.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_sync)
            {
                return _core.IsClosed;
            }
        }
    }

    /// <summary>Shuts the queue down on both sides, as <see cref="AsyncQueue{T}.Shutdown"/> does. Safe from any thread.</summary>
    /// <param name="immediate">Also drop every item and lower the unfinished count by as many; the default is <see langword="false"/>.</param>
    public void Shutdown(bool immediate = false)
    {
        lock (_sync)
        {
            _core.Shutdown(immediate);
        }
    }

    /// <summary>
    /// Closes the queue: an immediate shutdown that also releases every joiner. Every blocked thread and every
    /// waiting task gets <see cref="QueueShutDownException"/>; later puts, gets of nothing and joins with
    /// unfinished items fail likewise. Idempotent; safe from any thread.
    /// </summary>
    public void Close()
    {
        lock (_sync)
        {
            if (_core.IsClosed)
            {
                return;
            }

            _core.Close();
            if (_threadJoiners > 0)
            {
                Monitor.PulseAll(_sync);
            }

            if (_core.PendingSettles == 0)
            {
                WakeClosedWaiters();
            }
        }
    }

    /// <summary>Waits until the queue is closed and every wake-up it sent to the loop has been delivered (janus's <c>wait_closed</c>).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes on the loop thread.</returns>
    /// <exception cref="InvalidOperationException">Called from another thread while the loop runs.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled first (through the returned task).</exception>
    public ValueTask WaitClosedAsync(CancellationToken cancellationToken = default)
    {
        Loop.VerifyAccess();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        lock (_sync)
        {
            if (_core.IsClosed && _core.PendingSettles == 0)
            {
                return default;
            }

            var waiter = new ClosedWaiter(this, cancellationToken);
            _closedWaiters.AddLast(waiter);
            waiter.RegisterCancellation();
            return waiter.AsVoidValueTask();
        }
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        lock (_sync)
        {
            return $"DualQueue<{typeof(T).Name}>({_core.Describe()})";
        }
    }

    /// <summary>Threads and tasks waiting to get (for tests).</summary>
    internal int WaitingGetters
    {
        get
        {
            lock (_sync)
            {
                return _core.WaitingGetters;
            }
        }
    }

    /// <summary>Threads and tasks waiting to put (for tests).</summary>
    internal int WaitingPutters
    {
        get
        {
            lock (_sync)
            {
                return _core.WaitingPutters;
            }
        }
    }

    /// <summary>The lock around <see cref="Core"/>.</summary>
    internal object SyncRoot => _sync;

    /// <summary>The shared state; touch it only under <see cref="SyncRoot"/>.</summary>
    internal QueueCore<T> Core => _core;

    /// <summary>Blocks the calling thread until the unfinished count is zero (the sync side's join).</summary>
    /// <returns>Whether the count reached zero within <paramref name="timeout"/>.</returns>
    internal bool JoinBlocking(TimeSpan timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        CancellationTokenRegistration registration = default;
        lock (_sync)
        {
            if (_core.Unfinished == 0)
            {
                return true;
            }

            if (_core.IsClosed)
            {
                throw new QueueShutDownException("Cannot join: the queue was closed with unfinished items.");
            }

            DualQueueSyncSide<T>.ThrowIfOnLoopThread(Loop, "Join");
            long generation = _allDoneGeneration;
            _threadJoiners++;
            try
            {
                // The callback takes the lock to pulse; Monitor is reentrant if it runs inline right here.
                registration = cancellationToken.UnsafeRegister(static state =>
                {
                    object sync = state!;
                    lock (sync)
                    {
                        Monitor.PulseAll(sync);
                    }
                }, _sync);

                while (generation == _allDoneGeneration)
                {
                    if (_core.IsClosed)
                    {
                        throw new QueueShutDownException("The queue was closed with unfinished items.");
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    long remaining = deadline - Environment.TickCount64;
                    if (remaining <= 0)
                    {
                        return false;
                    }

                    Monitor.Wait(_sync, remaining >= int.MaxValue ? Timeout.Infinite : (int)remaining);
                }

                return true;
            }
            finally
            {
                _threadJoiners--;

                // Unregister, not Dispose: Dispose would wait for a running callback, which waits for this lock.
                registration.Unregister();
            }
        }
    }

    private void OnAllTasksDone()
    {
        _allDoneGeneration++;
        if (_threadJoiners > 0)
        {
            Monitor.PulseAll(_sync);
        }
    }

    private void WakeClosedWaiters()
    {
        while (_closedWaiters.TryRemoveFirst(out WaiterNode? node))
        {
            ((ClosedWaiter)node).Wake();
        }
    }

    private sealed class ClosedWaiter(DualQueue<T> owner, CancellationToken cancellationToken)
        : LoopWaiter<bool>(owner.Loop, cancellationToken)
    {
        protected override object? SyncRoot => owner._sync;

        protected override bool Accept() => true;
    }
}
