using AsyncNet.Loop;

namespace AsyncNet.Sync;

/// <summary>A task or thread waiting in <see cref="QueueCore{T}"/> for an item.</summary>
/// <typeparam name="T">The item type.</typeparam>
internal interface IQueueGetter<T>
{
    /// <summary>The waiter's token; a waiter found cancelled when its turn comes is skipped.</summary>
    CancellationToken Token { get; }

    /// <summary>
    /// Whether the waiter decides later, when it resumes, whether it keeps the item (a loop task, which may be
    /// cancelled in between), rather than at once (a blocked thread).
    /// </summary>
    bool ResumesLater { get; }

    /// <summary>Hands the waiter an item; the core has already taken it out of its queue.</summary>
    void Grant(T item, long sequence);

    /// <summary>Fails the waiter (shut down); the core has already taken it out of its queue.</summary>
    void Fail(Exception error);

    /// <summary>Releases a waiter whose token was found cancelled; nothing is handed over.</summary>
    void WakeCancelled();

    /// <summary>Takes back the item of a woken waiter that has not resumed (immediate shutdown drains it).</summary>
    void Revoke(Exception error);
}

/// <summary>A task or thread waiting in <see cref="QueueCore{T}"/> for room to put <see cref="Item"/>.</summary>
/// <typeparam name="T">The item type.</typeparam>
internal interface IQueuePutter<T>
{
    /// <summary>The waiter's token; a waiter found cancelled when its turn comes is skipped.</summary>
    CancellationToken Token { get; }

    /// <summary>Whether the waiter commits its item later, when it resumes (a loop task), rather than at once (a thread).</summary>
    bool ResumesLater { get; }

    /// <summary>The item to put.</summary>
    T Item { get; }

    /// <summary>
    /// Tells the waiter it has room: for a thread the core has already put <see cref="Item"/>; for a loop task a
    /// slot is reserved until it resumes.
    /// </summary>
    void Grant();

    /// <summary>Fails the waiter (shut down).</summary>
    void Fail(Exception error);

    /// <summary>Releases a waiter whose token was found cancelled; nothing is handed over.</summary>
    void WakeCancelled();

    /// <summary>Takes back the slot reserved for a woken waiter that has not resumed (shutdown).</summary>
    void Revoke(Exception error);
}

/// <summary>A loop task waiting in <see cref="QueueCore{T}.GetAsync"/>.</summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class QueueGetWaiter<T>(QueueCore<T> core, EventLoop loop, CancellationToken cancellationToken)
    : LoopWaiter<T>(loop, cancellationToken), IQueueGetter<T>
{
    private T? _item;
    private long _sequence;

    public bool ResumesLater => true;

    protected override object? SyncRoot => core.SyncRoot;

    public void Grant(T item, long sequence)
    {
        _item = item;
        _sequence = sequence;
        Wake();
    }

    public void Fail(Exception error) => WakeWithError(error);

    public void Revoke(Exception error)
    {
        WithdrawGrant(error);
        _item = default;
    }

    protected override void PassOn()
    {
        core.ReturnItem(_item!, _sequence);
        _item = default;
    }

    protected override T Accept()
    {
        T item = _item!;
        _item = default;
        core.OnGetterResumed();
        return item;
    }

    protected override void OnSettleScheduled() => core.OnSettleScheduled();

    protected override void OnSettleRan() => core.OnSettleRan();
}

/// <summary>A loop task waiting in <see cref="QueueCore{T}.PutAsync"/>.</summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class QueuePutWaiter<T>(QueueCore<T> core, EventLoop loop, T item, CancellationToken cancellationToken)
    : LoopWaiter<bool>(loop, cancellationToken), IQueuePutter<T>
{
    public bool ResumesLater => true;

    public T Item { get; private set; } = item;

    protected override object? SyncRoot => core.SyncRoot;

    public void Grant() => Wake();

    public void Fail(Exception error)
    {
        Item = default!;
        WakeWithError(error);
    }

    public void Revoke(Exception error)
    {
        WithdrawGrant(error);
        Item = default!;
    }

    protected override void PassOn()
    {
        Item = default!;
        core.OnPutterCancelledAfterWake();
    }

    protected override bool Accept()
    {
        core.OnPutterResumed(Item);
        Item = default!;
        return true;
    }

    protected override void OnSettleScheduled() => core.OnSettleScheduled();

    protected override void OnSettleRan() => core.OnSettleRan();
}

/// <summary>A loop task waiting in <see cref="QueueCore{T}.JoinAsync"/>, or for the dual queue's closing.</summary>
/// <typeparam name="T">The item type.</typeparam>
internal sealed class QueueEventWaiter<T>(QueueCore<T> core, EventLoop loop, CancellationToken cancellationToken)
    : LoopWaiter<bool>(loop, cancellationToken)
{
    protected override object? SyncRoot => core.SyncRoot;

    protected override bool Accept() => true;

    protected override void OnSettleScheduled() => core.OnSettleScheduled();

    protected override void OnSettleRan() => core.OnSettleRan();
}
