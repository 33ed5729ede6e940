// StreamWriter: the sending side of a connection (asyncio's StreamWriter).
//
// Maintainer's overview
// - On the loop thread every call goes straight to the transport (which sends at once or queues). From another thread
//   a write is copied into a pooled array and put in the outbox, with Close/WriteEof/drain requests in the same FIFO;
//   one CallSoonThreadSafe per batch hands the outbox to the loop (FlushOutbox), which replays it in order. A loop-thread
//   call first replays whatever the outbox holds, so bytes never overtake each other whatever thread wrote them.
// - Drain: complete when the transport's buffer is at or below its low mark. asyncio's rule reports "fell to the low
//   mark" (ResumeWriting) only after the buffer went above the high mark (PauseWriting), so a drain that finds the
//   buffer between the two marks asks the transport for the signal (IStreamTransport.PauseWritingUntilLowWater): the
//   transport pauses now and resumes exactly at the low mark. All drainers share one TaskCompletionSource per wait, so
//   any number of them wake together.
// - Loss: ConnectionLost wakes drainers (with the error, or ConnectionResetException: the buffered bytes were dropped)
//   and completes WaitClosedAsync (with the error, if any).

using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using AsyncNet.Buffers;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Streams.Diagnostics;
using AsyncNet.Transports;

namespace AsyncNet.Streams;

/// <summary>
/// Writes to a connection (asyncio's <c>StreamWriter</c>): <see cref="Write(ReadOnlySpan{byte})"/> never blocks, and
/// <see cref="DrainAsync"/> waits until the transport's buffer has room again.
/// </summary>
/// <remarks>
/// <para>
/// The usual pattern is <c>writer.Write(data); await writer.DrainAsync();</c>: drain completes synchronously while the
/// buffer is at or below the transport's low-water mark, so it costs nothing until the peer falls behind.
/// </para>
/// <para>
/// Every member may be called from any thread. On the loop thread calls go straight to the transport; from another
/// thread writes are copied and handed to the loop in order (one wake-up per batch), so bytes written from different
/// threads never overtake each other within one thread's sequence of calls.
/// </para>
/// </remarks>
public sealed partial class StreamWriter : IAsyncDisposable
{
    private static readonly Action<object?> s_flushOutbox = static state => ((StreamWriter)state!).FlushOutbox();

    private readonly EventLoop _loop;
    private readonly IStreamTransport _transport;

    private readonly StreamReader _reader;
    private readonly BufferPool _pool;

    // Guards _outbox, _closeRequested, _eofRequested, _lost, _lostError and _closedSource (other threads touch them).
    private readonly Lock _lock = new();
    private readonly Queue<OutboxEntry> _outbox = new();
    private readonly List<OutboxEntry> _replaying = [];
    private readonly List<ReadOnlyMemory<byte>> _gather = [];

    // Loop-owned: the segments of a multi-segment sequence being written, handed to the transport without allocating.
    private SequenceSegments? _segments;

    // Entries in _outbox; read without the lock on the loop thread's fast path.
    private volatile int _outboxCount;

    // Set by Close / WriteEof from any thread: from then on Write throws (as the transport does).
    private bool _closeRequested;
    private bool _eofRequested;

    private bool _lost;
    private Exception? _lostError;
    private TaskCompletionSource? _closedSource;

    // Loop-owned: write flow control as the transport reported it, and the drain state.
    private bool _writingPaused;
    private TaskCompletionSource? _drainWaiters;

    internal StreamWriter(EventLoop loop, IStreamTransport transport, StreamReader reader)
    {
        _loop = loop;
        _transport = transport;
        _reader = reader;
        _pool = loop.BufferPool;
    }

    /// <summary>The transport (asyncio's <c>writer.transport</c>). Call it on the loop thread.</summary>
    /// <remarks>The thread is checked in the loop's debug mode only (<see cref="EventLoopOptions.Debug"/>).</remarks>
    /// <exception cref="InvalidOperationException">In debug mode: called from another thread while the loop runs.</exception>
    public IStreamTransport Transport
    {
        get
        {
            if (_loop.IsDebugMode)
            {
                _loop.VerifyAccess();
            }

            return _transport;
        }
    }

    /// <summary>The loop the connection runs on.</summary>
    public EventLoop Loop => _loop;

    /// <summary>Whether <see cref="WriteEof"/> is supported.</summary>
    public bool CanWriteEof => _transport.CanWriteEof;

    /// <summary>Whether the writer is closing or closed: <see cref="Close"/> was called or the connection is lost.</summary>
    public bool IsClosing
    {
        get
        {
            lock (_lock)
            {
                return _closeRequested || _lost;
            }
        }
    }

    /// <summary>Writes <paramref name="data"/>; never blocks. An empty write does nothing.</summary>
    /// <param name="data">The bytes; copied if they cannot be sent (or handed to the loop) at once.</param>
    /// <remarks>
    /// After the peer broke the connection the bytes are dropped silently; the loss surfaces on the next
    /// <see cref="DrainAsync"/>. Follow a burst of writes with <see cref="DrainAsync"/> to respect the peer's pace.
    /// </remarks>
    /// <exception cref="InvalidOperationException">After <see cref="WriteEof"/> or <see cref="Close"/>.</exception>
    [OverloadResolutionPriority(1)]
    public void Write(ReadOnlySpan<byte> data)
    {
        if (OnLoopThreadAfterOutbox())
        {
            _transport.Write(data);
            return;
        }

        EnqueueCopy(data, default);
    }

    /// <summary>Writes <paramref name="data"/>, in one or several segments, as one write; never blocks. An empty sequence does nothing.</summary>
    /// <param name="data">
    /// The bytes, for example what <see cref="StreamReader.ReadBufferedAsync(CancellationToken)"/> lent: every byte has been
    /// sent or copied when this returns, so the caller may give them back (or reuse them) at once.
    /// </param>
    /// <remarks>
    /// On the loop thread the segments go to the transport as one gathered write (a single segment as
    /// <see cref="Write(ReadOnlySpan{byte})"/> does), sent from where they lie unless the transport has to keep them.
    /// From another thread the sequence is copied into one outbox entry, so writes from other threads never split it.
    /// </remarks>
    /// <exception cref="InvalidOperationException">After <see cref="WriteEof"/> or <see cref="Close"/>.</exception>
    public void Write(in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
        {
            Write(data.FirstSpan);
            return;
        }

        if (OnLoopThreadAfterOutbox())
        {
            _transport.WriteLines((_segments ??= new SequenceSegments()).Over(data));
            return;
        }

        lock (_lock)
        {
            ThrowIfWriteClosed();
            int length = checked((int)data.Length);
            byte[] copy = RentCopy(length);
            data.CopyTo(copy);
            EnqueueLocked(new OutboxEntry(OutboxCommand.Write, copy, length, null));
        }
    }

    /// <summary>Writes <paramref name="data"/>; never blocks (see <see cref="Write(ReadOnlySpan{byte})"/>).</summary>
    /// <param name="data">The bytes; copied if they cannot be sent at once.</param>
    /// <exception cref="InvalidOperationException">After <see cref="WriteEof"/> or <see cref="Close"/>.</exception>
    public void Write(ReadOnlyMemory<byte> data) => Write(data.Span);

    /// <summary>Writes two buffers, in order, as one write: a frame's header and payload, without laying them out together.</summary>
    /// <param name="first">The bytes to write first.</param>
    /// <param name="second">The bytes to write after them.</param>
    /// <remarks>
    /// On the loop thread the transport queues or sends both before this returns (<see cref="IStreamTransport.Write(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>);
    /// from another thread both are copied into one outbox entry, so other threads' writes never come between them.
    /// </remarks>
    /// <exception cref="InvalidOperationException">After <see cref="WriteEof"/> or <see cref="Close"/>.</exception>
    internal void Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        if (OnLoopThreadAfterOutbox())
        {
            _transport.Write(first, second);
            return;
        }

        EnqueueCopy(first, second);
    }

    /// <summary>
    /// Whether the caller is on the loop thread, where it may hand bytes to the transport directly: then the writes other
    /// threads queued before it are replayed first, so they keep their place in the stream.
    /// </summary>
    private bool OnLoopThreadAfterOutbox()
    {
        if (!_loop.IsOnLoopThread)
        {
            return false;
        }

        if (_outboxCount != 0)
        {
            FlushOutbox();
        }

        return true;
    }

    /// <summary>
    /// Off the loop thread: copies <paramref name="first"/> then <paramref name="second"/> into one outbox entry, so no
    /// other thread's write comes between them. Nothing is queued for no bytes, but a closed writer still throws.
    /// </summary>
    private void EnqueueCopy(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        lock (_lock)
        {
            ThrowIfWriteClosed();
            int length = checked(first.Length + second.Length);
            if (length == 0)
            {
                return;
            }

            byte[] copy = RentCopy(length);
            first.CopyTo(copy);
            second.CopyTo(copy.AsSpan(first.Length));
            EnqueueLocked(new OutboxEntry(OutboxCommand.Write, copy, length, null));
        }
    }

    /// <summary>Writes several buffers, in order, as one gathered send where possible (asyncio's <c>writelines</c>).</summary>
    /// <param name="buffers">The buffers.</param>
    /// <exception cref="ArgumentNullException"><paramref name="buffers"/> is null.</exception>
    /// <exception cref="InvalidOperationException">After <see cref="WriteEof"/> or <see cref="Close"/>.</exception>
    public void WriteLines(IEnumerable<ReadOnlyMemory<byte>> buffers)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        if (OnLoopThreadAfterOutbox())
        {
            _transport.WriteLines(buffers);
            return;
        }

        foreach (ReadOnlyMemory<byte> buffer in buffers)
        {
            Write(buffer.Span);
        }
    }

    /// <summary>
    /// Completes when the transport's write buffer is at or below its low-water mark: at once (synchronously) if it
    /// already is, else when it next falls to it.
    /// </summary>
    /// <param name="cancellationToken">Stops this caller's wait (others are unaffected).</param>
    /// <returns>A task that completes as described.</returns>
    /// <remarks>
    /// <para>
    /// Any number of callers may wait at once; they all wake together. Failures come through the task, in this order:
    /// the error the reader stored (the connection was lost with it); <see cref="ConnectionResetException"/> once the
    /// connection is lost (also for a waiter whose buffered bytes were dropped by an abort).
    /// </para>
    /// <para>
    /// While a drain waits with the buffer between the marks, the transport's <see cref="IStreamTransport.WriteBufferHighWaterMark"/>
    /// reads as the low mark (see the type's source overview); it is restored when the drain completes. From another
    /// thread the check runs on the loop after the writes made before it, so it completes one loop iteration later at
    /// the earliest.
    /// </para>
    /// <para>
    /// Inside the transport's read callback (a handler on the loop thread continuing after a read), writes are held
    /// back to leave in one send when the callback returns. A drain there that finds the buffer above the low mark
    /// sends them first, and completes at once if that is enough: it never waits for bytes that only wait for the
    /// callback to end.
    /// </para>
    /// </remarks>
    public ValueTask DrainAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (!_loop.IsOnLoopThread)
        {
            return DrainFromOtherThread(cancellationToken);
        }

        if (_outboxCount != 0)
        {
            FlushOutbox();
        }

        return DrainOnLoop(cancellationToken, yielded: false);
    }

    /// <summary>Closes the sending side once the buffer is flushed (half-close); reading goes on.</summary>
    /// <remarks>Idempotent. Writing afterwards throws <see cref="InvalidOperationException"/>.</remarks>
    /// <exception cref="NotSupportedException">The transport cannot half-close (<see cref="CanWriteEof"/> is false).</exception>
    public void WriteEof()
    {
        if (!_transport.CanWriteEof)
        {
            throw new NotSupportedException("This transport cannot half-close.");
        }

        if (_loop.IsOnLoopThread)
        {
            lock (_lock)
            {
                _eofRequested = true;
            }

            if (_outboxCount != 0)
            {
                FlushOutbox();
            }

            _transport.WriteEof();
            return;
        }

        lock (_lock)
        {
            _eofRequested = true;
            EnqueueLocked(new OutboxEntry(OutboxCommand.WriteEof, null, 0, null));
        }
    }

    /// <summary>Closes the connection: buffered bytes are flushed first, then it closes (asyncio's <c>close</c>). Idempotent.</summary>
    /// <remarks>Use <see cref="WaitClosedAsync"/> to wait until it is closed. Writing afterwards throws <see cref="InvalidOperationException"/>.</remarks>
    public void Close()
    {
        if (_loop.IsOnLoopThread)
        {
            lock (_lock)
            {
                _closeRequested = true;
            }

            if (_outboxCount != 0)
            {
                FlushOutbox();
            }

            _transport.Close();
            return;
        }

        lock (_lock)
        {
            if (_closeRequested)
            {
                return;
            }

            _closeRequested = true;
            EnqueueLocked(new OutboxEntry(OutboxCommand.Close, null, 0, null));
        }
    }

    /// <summary>Completes when the connection is closed (asyncio's <c>wait_closed</c>).</summary>
    /// <param name="cancellationToken">Stops waiting (the connection is unaffected).</param>
    /// <returns>A task that completes when the connection is lost, and fails with the error it was lost with, if any.</returns>
    public Task WaitClosedAsync(CancellationToken cancellationToken = default)
    {
        Task closed;
        lock (_lock)
        {
            closed = _lost
                ? _lostError is null ? Task.CompletedTask : Task.FromException(_lostError)
                : (_closedSource ??= new TaskCompletionSource()).Task;
        }

        return cancellationToken.CanBeCanceled && !closed.IsCompleted ? closed.WaitAsync(cancellationToken) : closed;
    }

    /// <summary>Extra information about the connection (asyncio's <c>get_extra_info</c>): "peername", "sockname", "socket".</summary>
    /// <param name="name">The name.</param>
    /// <param name="defaultValue">What to return for an unknown name.</param>
    /// <returns>The value, or <paramref name="defaultValue"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public object? GetExtraInfo(string name, object? defaultValue = null) => _transport.GetExtraInfo(name, defaultValue);

    /// <summary>Closes the connection and waits until it is closed; errors it was lost with are not thrown here.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    /// <remarks>The error, if any, stays observable through <see cref="WaitClosedAsync"/>.</remarks>
    public async ValueTask DisposeAsync()
    {
        Close();
        try
        {
            await WaitClosedAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Disposal closes; how the connection ended is WaitClosedAsync's to report.
        }
    }

    /// <inheritdoc/>
    /// <returns>For example "StreamWriter(Buffered=2048, Paused, Closing)".</returns>
    public override string ToString()
    {
        int outbox = _outboxCount;
        string pending = outbox > 0 ? $", Outbox={outbox}" : string.Empty;
        string paused = _writingPaused ? ", Paused" : string.Empty;
        string draining = _drainWaiters is not null ? ", Draining" : string.Empty;
        string state;
        lock (_lock)
        {
            state = _lost ? ", Lost" : _closeRequested ? ", Closing" : _eofRequested ? ", EofWritten" : string.Empty;
        }

        return $"StreamWriter(Buffered={_transport.WriteBufferSize}{pending}{paused}{draining}{state})";
    }

    /// <summary>The transport went above its high-water mark.</summary>
    internal void PauseWriting() => _writingPaused = true;

    /// <summary>The transport fell to or below its low-water mark: wake every drainer.</summary>
    internal void ResumeWriting()
    {
        _writingPaused = false;
        if (_drainWaiters is { } waiters)
        {
            _drainWaiters = null;
            waiters.TrySetResult();
        }

        AssertInvariants();
    }

    /// <summary>The connection is lost (loop thread only): wake drainers with the error and complete <see cref="WaitClosedAsync"/>.</summary>
    internal void ConnectionLost(Exception? exception)
    {
        TaskCompletionSource? closed;
        lock (_lock)
        {
            _lost = true;
            _lostError = exception;
            closed = _closedSource;
            _closedSource = null;
        }

        if (_drainWaiters is { } waiters)
        {
            _drainWaiters = null;
            waiters.TrySetException(exception ?? LostException());
        }

        if (closed is not null)
        {
            if (exception is null)
            {
                closed.TrySetResult();
            }
            else
            {
                closed.TrySetException(exception);
            }
        }

        ReleaseOutbox();
    }

    private static ConnectionResetException LostException(Exception? cause = null) =>
        new("Connection lost: the stream's connection is closed.", innerException: cause);

    /// <summary>An array for an outbox copy of <paramref name="length"/> bytes: pooled unless too large for the pool.</summary>
    private byte[] RentCopy(int length) => length <= BufferPool.MaximumLength ? _pool.Rent(length) : new byte[length];

    private void ThrowIfWriteClosed()
    {
        if (_closeRequested || _eofRequested)
        {
            throw new InvalidOperationException("Cannot write: the stream's sending side was closed by WriteEof or Close.");
        }
    }

    private ValueTask DrainOnLoop(CancellationToken cancellationToken, bool yielded)
    {
        if (_reader.Exception is { } readError)
        {
            return ValueTask.FromException(readError);
        }

        // No lock: _lost and _lostError are written only by ConnectionLost, which runs on this (the loop) thread; the
        // lock is for readers on other threads. The echo benchmark found the lock on every drain in its profile.
        if (_lost)
        {
            return ValueTask.FromException(LostException(_lostError));
        }

        if (_transport.IsClosing && !yielded)
        {
            // As asyncio does: let a connection-lost that is already scheduled run first, so it is reported.
            return YieldThenDrainAsync(cancellationToken);
        }

        if (_transport.WriteBufferSize <= _transport.WriteBufferLowWaterMark)
        {
            return default;
        }

        // Inside a read callback part of the buffer may be writes the transport has only deferred: send them, then
        // look again (a handler echoing many messages per read would otherwise wait once per read).
        _transport.FlushDeferredWrites();
        if (_transport.WriteBufferSize <= _transport.WriteBufferLowWaterMark || !_transport.PauseWritingUntilLowWater())
        {
            return default;
        }

        Task waiters = (_drainWaiters ??= new TaskCompletionSource()).Task;
        StreamsMeter.DrainWaited();
        AssertInvariants();
        return new ValueTask(cancellationToken.CanBeCanceled ? waiters.WaitAsync(cancellationToken) : waiters);
    }

    private async ValueTask YieldThenDrainAsync(CancellationToken cancellationToken)
    {
        // Task.Yield posts to the loop's context: this resumes on the loop thread, one iteration later.
        await Task.Yield();
        await DrainOnLoop(cancellationToken, yielded: true);
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_drainWaiters is null || _writingPaused || _transport.IsClosing, "Drainers wait only while the transport will report the low mark");
    }
}
