using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>What a put or get that may not wait found.</summary>
internal enum QueueAttempt
{
    /// <summary>The item was put or taken.</summary>
    Done,

    /// <summary>A put found no room, or a get found no item; the queue is open.</summary>
    WouldWait,

    /// <summary>The queue is shut down (a get finds this only once no item is left).</summary>
    ShutDown,
}

/// <summary>
/// The state machine of a bounded queue with FIFO waiters, task accounting and Python 3.13 shutdown, shared by
/// <see cref="AsyncQueue{T}"/> (loop thread only, no lock) and <see cref="DualQueue{T}"/> (every call under its
/// lock, <see cref="SyncRoot"/>).
/// </summary>
/// <remarks>
/// <para>
/// Slots. A slot of the bound is taken by a buffered item, by an item handed to a woken loop getter that has
/// not resumed (it may still be cancelled and give the item back), or by a slot promised to a woken loop putter
/// that has not resumed (it may still be cancelled and give the slot back). So a cancellation after a wake-up
/// gives back exactly what it took, the bound is never exceeded, and nobody arriving in between can take what
/// was promised to a waiter (FIFO). Threads decide at once, so their grants take no slot in transit.
/// </para>
/// <para>
/// Invariants (checked by <see cref="AssertInvariants"/>): a buffered item ⇒ no queued getter; a queued putter
/// ⇒ the queue is full; occupied slots ≤ <see cref="MaxSize"/> when bounded; after shutdown no putter is queued
/// or woken, and no getter is queued.
/// </para>
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class QueueCore<T>
{
    private readonly QueueBuffer<T> _buffer;
    private readonly Action? _allTasksDone;
    private readonly WaiterQueue _getters = new();
    private readonly WaiterQueue _putters = new();

    // Loop waiters woken but not yet resumed; each holds a slot (see the remarks).
    private readonly WaiterQueue _wokenGetters = new();
    private readonly WaiterQueue _wokenPutters = new();
    private readonly WaiterQueue _joiners = new();
    private long _nextSequence;

    /// <summary>Creates the core.</summary>
    /// <param name="buffer">The storage, which fixes the order.</param>
    /// <param name="maxSize">The bound; 0 for none.</param>
    /// <param name="syncRoot">The lock every call is made under, or null for a loop-only queue.</param>
    /// <param name="allTasksDone">Called (under the lock) when the unfinished count drops to zero.</param>
    public QueueCore(QueueBuffer<T> buffer, int maxSize, object? syncRoot, Action? allTasksDone)
    {
        _buffer = buffer;
        MaxSize = maxSize;
        SyncRoot = syncRoot;
        _allTasksDone = allTasksDone;
    }

    /// <summary>The lock loop waiters take when they settle or are cancelled; null for a loop-only queue.</summary>
    public object? SyncRoot { get; }

    /// <summary>The bound; 0 means unbounded.</summary>
    public int MaxSize { get; }

    /// <summary>Items available to take now.</summary>
    public int Count => _buffer.Count;

    /// <summary>Items put and not yet marked done with <see cref="TaskDone"/>.</summary>
    public int Unfinished { get; private set; }

    /// <summary>Whether <see cref="Shutdown"/> was called.</summary>
    public bool IsShutDown { get; private set; }

    /// <summary>Whether <see cref="Close"/> was called.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Whether no put can complete without waiting: every slot is occupied (see the remarks).</summary>
    public bool IsFull => MaxSize > 0 && Occupied >= MaxSize;

    /// <summary>Getters queued.</summary>
    public int WaitingGetters => _getters.Count;

    /// <summary>Putters queued.</summary>
    public int WaitingPutters => _putters.Count;

    /// <summary>Settles scheduled on the loop and not yet run (the dual queue's WaitClosedAsync waits for zero).</summary>
    public int PendingSettles { get; private set; }

    /// <summary>Called when <see cref="PendingSettles"/> drops to zero after <see cref="Close"/>.</summary>
    public Action? SettlesDrained { get; set; }

    private int Occupied => _buffer.Count + _wokenGetters.Count + _wokenPutters.Count;

    /// <summary>Puts <paramref name="item"/> if there is room.</summary>
    public QueueAttempt TryPut(T item)
    {
        if (IsShutDown)
        {
            return QueueAttempt.ShutDown;
        }

        if (IsFull)
        {
            return QueueAttempt.WouldWait;
        }

        Commit(item);
        AssertInvariants();
        return QueueAttempt.Done;
    }

    /// <summary>Takes the next item if there is one.</summary>
    public QueueAttempt TryGet([MaybeNullWhen(false)] out T item)
    {
        if (_buffer.Count > 0)
        {
            item = _buffer.Take(out _);
            GrantPutters();
            AssertInvariants();
            return QueueAttempt.Done;
        }

        item = default!;
        return IsShutDown ? QueueAttempt.ShutDown : QueueAttempt.WouldWait;
    }

    /// <summary>Puts from a loop task, waiting for room.</summary>
    public ValueTask PutAsync(EventLoop loop, T item, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        switch (TryPut(item))
        {
            case QueueAttempt.Done:
                return default;
            case QueueAttempt.ShutDown:
                return ValueTask.FromException(new QueueShutDownException("Cannot put: the queue is shut down."));
        }

        var waiter = new QueuePutWaiter<T>(this, loop, item, cancellationToken);
        AddPutter(waiter);
        waiter.RegisterCancellation();
        return waiter.AsVoidValueTask();
    }

    /// <summary>Gets from a loop task, waiting for an item.</summary>
    public ValueTask<T> GetAsync(EventLoop loop, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        switch (TryGet(out T? item))
        {
            case QueueAttempt.Done:
                return new ValueTask<T>(item!);
            case QueueAttempt.ShutDown:
                return ValueTask.FromException<T>(new QueueShutDownException("Cannot get: the queue is shut down and empty."));
        }

        var waiter = new QueueGetWaiter<T>(this, loop, cancellationToken);
        AddGetter(waiter);
        waiter.RegisterCancellation();
        return waiter.AsValueTask();
    }

    /// <summary>Waits from a loop task until every item put has been marked done.</summary>
    public ValueTask JoinAsync(EventLoop loop, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (Unfinished == 0)
        {
            return default;
        }

        if (IsClosed)
        {
            return ValueTask.FromException(new QueueShutDownException("Cannot join: the queue was closed with unfinished items."));
        }

        var waiter = new QueueEventWaiter<T>(this, loop, cancellationToken);
        _joiners.AddLast(waiter);
        waiter.RegisterCancellation();
        return waiter.AsVoidValueTask();
    }

    /// <summary>Queues a getter after <see cref="TryGet"/> answered <see cref="QueueAttempt.WouldWait"/>.</summary>
    public void AddGetter(WaiterNode getter)
    {
        Debug.Assert(_buffer.Count == 0 && !IsShutDown, "A getter waits only on an empty, open queue");
        _getters.AddLast(getter);
    }

    /// <summary>Queues a putter after <see cref="TryPut"/> answered <see cref="QueueAttempt.WouldWait"/>.</summary>
    public void AddPutter(WaiterNode putter)
    {
        Debug.Assert(IsFull && !IsShutDown, "A putter waits only on a full, open queue");
        _putters.AddLast(putter);
    }

    /// <summary>Removes a queued thread waiter that timed out or was cancelled.</summary>
    public bool RemoveWaiter(WaiterNode waiter) => _getters.Remove(waiter) || _putters.Remove(waiter);

    /// <summary>Marks one item as processed.</summary>
    /// <exception cref="InvalidOperationException">More calls than items put.</exception>
    public void TaskDone()
    {
        if (Unfinished == 0)
        {
            throw new InvalidOperationException("TaskDone was called more times than items were put in the queue.");
        }

        if (--Unfinished == 0)
        {
            AllTasksDone();
        }
    }

    /// <summary>Shuts the queue down, as Python 3.13's <c>Queue.shutdown</c>.</summary>
    public void Shutdown(bool immediate)
    {
        IsShutDown = true;
        if (immediate)
        {
            int drained = _buffer.Count;
            _buffer.Clear();

            // Items handed to woken getters have not been received yet: drain them too.
            while (_wokenGetters.TryRemoveFirst(out WaiterNode? node))
            {
                ((IQueueGetter<T>)node).Revoke(NewShutDown("get"));
                drained++;
            }

            if (drained > 0)
            {
                Unfinished = Math.Max(0, Unfinished - drained);
                if (Unfinished == 0)
                {
                    AllTasksDone();
                }
            }
        }

        // A queued getter implies an empty buffer, so every getter has nothing left to take.
        while (_getters.TryRemoveFirst(out WaiterNode? node))
        {
            ((IQueueGetter<T>)node).Fail(NewShutDown("get"));
        }

        while (_putters.TryRemoveFirst(out WaiterNode? node))
        {
            ((IQueuePutter<T>)node).Fail(NewShutDown("put"));
        }

        // Putters promised a slot have not put yet; after shutdown they may not.
        while (_wokenPutters.TryRemoveFirst(out WaiterNode? node))
        {
            ((IQueuePutter<T>)node).Revoke(NewShutDown("put"));
        }

        AssertInvariants();
    }

    /// <summary>Immediate shutdown, then fails the joiners that are still waiting (the dual queue's close).</summary>
    public void Close()
    {
        Shutdown(immediate: true);
        IsClosed = true;
        while (_joiners.TryRemoveFirst(out WaiterNode? node))
        {
            ((QueueEventWaiter<T>)node).WakeWithError(new QueueShutDownException("The queue was closed with unfinished items."));
        }
    }

    /// <summary>A woken loop getter resumed with its item: its slot frees up.</summary>
    public void OnGetterResumed()
    {
        GrantPutters();
        AssertInvariants();
    }

    /// <summary>A woken loop getter was cancelled before resuming: its item goes back to its place.</summary>
    public void ReturnItem(T item, long sequence)
    {
        Deliver(item, sequence, givenBack: true);
        GrantPutters();
        AssertInvariants();
    }

    /// <summary>A woken loop putter resumed: its item enters the queue in its reserved slot.</summary>
    public void OnPutterResumed(T item)
    {
        Commit(item);
        GrantPutters();
        AssertInvariants();
    }

    /// <summary>A woken loop putter was cancelled before resuming: its reserved slot goes to the next putter.</summary>
    public void OnPutterCancelledAfterWake()
    {
        GrantPutters();
        AssertInvariants();
    }

    /// <summary>Counts a settle scheduled on the loop (called under the lock).</summary>
    public void OnSettleScheduled() => PendingSettles++;

    /// <summary>Counts a settle that ran (called under the lock).</summary>
    public void OnSettleRan()
    {
        if (--PendingSettles == 0 && IsClosed)
        {
            SettlesDrained?.Invoke();
        }
    }

    /// <summary>Describes the live state, for ToString.</summary>
    public string Describe() =>
        $"Count={_buffer.Count}, MaxSize={MaxSize}, Getters={_getters.Count}, Putters={_putters.Count}, " +
        $"InTransit={_wokenGetters.Count + _wokenPutters.Count}, Unfinished={Unfinished}" +
        (IsClosed ? ", Closed" : IsShutDown ? ", ShutDown" : string.Empty);

    private static QueueShutDownException NewShutDown(string operation) =>
        new($"Cannot {operation}: the queue is shut down.");

    /// <summary>A new item enters the queue.</summary>
    private void Commit(T item)
    {
        Unfinished++;
        Deliver(item, _nextSequence++, givenBack: false);
    }

    /// <summary>Hands an item to the first live getter, or buffers it.</summary>
    private void Deliver(T item, long sequence, bool givenBack)
    {
        while (_getters.TryRemoveFirst(out WaiterNode? node))
        {
            var getter = (IQueueGetter<T>)node;
            if (getter.Token.IsCancellationRequested)
            {
                getter.WakeCancelled();
                continue;
            }

            if (getter.ResumesLater)
            {
                _wokenGetters.AddLast(node);
            }

            getter.Grant(item, sequence);
            return;
        }

        if (givenBack)
        {
            _buffer.PutBack(item, sequence);
        }
        else
        {
            _buffer.Add(item, sequence);
        }
    }

    /// <summary>Gives free slots to queued putters, in order.</summary>
    private void GrantPutters()
    {
        while (!IsFull && _putters.TryRemoveFirst(out WaiterNode? node))
        {
            var putter = (IQueuePutter<T>)node;
            if (putter.Token.IsCancellationRequested)
            {
                putter.WakeCancelled();
                continue;
            }

            if (putter.ResumesLater)
            {
                _wokenPutters.AddLast(node);
            }
            else
            {
                Commit(putter.Item);
            }

            putter.Grant();
        }
    }

    private void AllTasksDone()
    {
        while (_joiners.TryRemoveFirst(out WaiterNode? node))
        {
            ((QueueEventWaiter<T>)node).Wake();
        }

        _allTasksDone?.Invoke();
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_buffer.Count == 0 || _getters.IsEmpty, "A buffered item means no getter is queued");
        Debug.Assert(_putters.IsEmpty || IsFull, "A queued putter means the queue is full");
        Debug.Assert(MaxSize == 0 || Occupied <= MaxSize, "Occupied slots never exceed the bound");
        Debug.Assert(!IsShutDown || (_putters.IsEmpty && _wokenPutters.IsEmpty && _getters.IsEmpty), "A shut-down queue has no putter waiting and no getter queued");
    }
}
