// DataflowConnection: a connection's two directions as TPL Dataflow blocks.
//
// Maintainer's overview
// - Receiving (DataflowConnection.Receiving.cs): a pump, run as a loop task, reads up to MaxSegmentLength bytes at a
//   time from the StreamReader into a fresh array and sends it to a bounded BufferBlock, which is what Source offers
//   from. On the loop a read finishes inside the transport's callback, so the pump costs no thread hop. When the
//   buffer is full the pump waits in SendAsync and stops reading: the reader's own flow control then pauses the
//   transport. Memory: ReceiveCapacity × MaxSegmentLength + the reader's limit + the one segment in SendAsync.
// - Sending (DataflowConnection.Sending.cs): an ActionBlock on the loop's TaskScheduler writes each segment and
//   awaits DrainAsync. Its BoundedCapacity (SendCapacity) counts the segment whose drain is pending, so with the
//   default of 1 every offer is postponed until the transport's buffer is back at its low mark.
// - Lifecycle, one rule per event (all transport calls run on the loop thread, through RunOnLoop):
//     receiving ends (EOF, Source.Complete)     → if sending has ended too, close; else keep writing (half-open)
//     sending ends (Target.Complete, all sent)  → write EOF (or close, if receiving has ended or EOF is unsupported)
//     any fault (Source/Target.Fault, a read
//       error, a linked target faulting)        → Fail: both blocks fault, buffered segments are dropped, the
//                                                 transport is aborted; the first error is the connection's
//     the connection closes cleanly             → the target declines from then on; a segment still queued faults it
// - Completion waits for both blocks and for the connection to be closed, and reports the first error.

using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Dataflow;
using AsyncNet.Loop;

namespace AsyncNet.Streams.Dataflow;

/// <summary>
/// A connection as two Dataflow blocks: <see cref="Source"/> offers the bytes received, in order, as segments;
/// <see cref="Target"/> sends the segments it is given, honouring <see cref="StreamWriter.DrainAsync"/>.
/// </summary>
/// <remarks>
/// <para>
/// Messages are <see cref="ReadOnlyMemory{T}"/> segments. A received segment is a fresh array of its own, never reused
/// by the connection: the message owns it and may be kept as long as wanted. A segment given to the target is read when
/// it is written (on the loop thread, possibly after the offer returned), so its memory must not change once offered.
/// </para>
/// <para>
/// Both blocks are bounded (see <see cref="DataflowConnectionOptions"/>), so a slow consumer pauses reading from the peer
/// and a slow peer postpones the offers made to the target. They may be linked with ordinary blocks running on the thread
/// pool: the connection does its reading and writing on the loop's thread itself, so the loop must keep running.
/// </para>
/// <para>
/// Lifecycle. When the peer finishes sending, the source completes once its segments are taken. Completing the target
/// writes EOF after the segments already offered are sent (a half-close: the source goes on receiving); the connection
/// closes when both directions have ended. Faulting either block, a connection error, or a fault of a target linked to
/// the source with <see cref="DataflowLinkOptions.PropagateCompletion"/> aborts the connection: both blocks fault with
/// that error and drop what they hold.
/// </para>
/// <para>
/// The connection owns the reader from construction on: do not read from it yourself (the pump reads all the time, and a
/// second concurrent read throws). Writing to the writer directly is allowed, but its bytes interleave with the target's
/// at segment boundaries.
/// </para>
/// </remarks>
public sealed partial class DataflowConnection
{
    private static readonly Action<object?> s_finishOnLoop = static state => ((DataflowConnection)state!).FinishOnLoop();
    private static readonly Action<object?> s_abortOnLoop = static state => ((DataflowConnection)state!).AbortOnLoop();

    private readonly EventLoop _loop;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly Task _completion;

    // Guards _error, _receiveEnded and _sendEnded, which every thread touches.
    private readonly Lock _lock = new();

    // The first fault; once set the connection is aborted and both blocks are faulted with it.
    private Exception? _error;

    // Whether the receive pump has stopped (EOF, Source.Complete or a fault): nothing more will be read.
    private bool _receiveEnded;

    // Whether the target has sent everything it will (it completed, or faulted).
    private bool _sendEnded;

    // Loop-owned: whether this connection has asked the transport for EOF already.
    private bool _eofWritten;

    // Set once the connection is closed, before the target is told; read by the send path off the lock.
    private volatile bool _closed;

    /// <summary>Creates the blocks over a connection's reader and writer and starts receiving.</summary>
    /// <param name="reader">The connection's reader; the connection reads from it from now on.</param>
    /// <param name="writer">The connection's writer.</param>
    /// <param name="options">The bounds; <see langword="null"/> for <see cref="DataflowConnectionOptions.Default"/>.</param>
    /// <remarks>May be called on any thread. Receiving starts on the loop's next iteration.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> or <paramref name="writer"/> is null.</exception>
    /// <exception cref="ArgumentException">The reader and the writer run on different loops.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ObjectDisposedException">The loop is closed.</exception>
    public DataflowConnection(StreamReader reader, StreamWriter writer, DataflowConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        if (reader.Loop != writer.Loop)
        {
            throw new ArgumentException("The reader and the writer must belong to the same connection, on one loop.", nameof(writer));
        }

        options ??= DataflowConnectionOptions.Default;
        options.Validate(nameof(options));
        _loop = reader.Loop;
        _reader = reader;
        _writer = writer;
        _maxSegmentLength = options.MaxSegmentLength;
        _received = new BufferBlock<ReadOnlyMemory<byte>>(new DataflowBlockOptions { BoundedCapacity = options.ReceiveCapacity });
        _source = new ConnectionSource(this);
        _sending = CreateSending(options.SendCapacity);
        _target = new ConnectionTarget(this);

        // Throws ObjectDisposedException if the loop is closed. The pump starts on the loop's next iteration.
        _ = _loop.CreateTask(ReceiveAsync);
        _ = _writer.WaitClosedAsync().ContinueWith(
            static (closed, state) => ((DataflowConnection)state!).Closed(closed),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        _completion = CompleteAsync();
    }

    /// <summary>The segments received, in order; each is a fresh array the message owns.</summary>
    /// <remarks>
    /// Completes when the peer has finished sending (or <see cref="IDataflowBlock.Complete"/> stopped receiving) and every
    /// segment was taken. Faults with the connection's error (a reset, or whatever aborted it). <c>Complete</c> stops
    /// reading and leaves the connection open for the target; <c>Fault</c> aborts the connection.
    /// </remarks>
    public IReceivableSourceBlock<ReadOnlyMemory<byte>> Source => _source;

    /// <summary>The segments to send; each is written and drained in the order accepted.</summary>
    /// <remarks>
    /// Completes after <see cref="IDataflowBlock.Complete"/> once every accepted segment was written, drained and EOF (or
    /// the close) was requested. <c>Fault</c> aborts the connection, dropping the segments not yet written.
    /// </remarks>
    public ITargetBlock<ReadOnlyMemory<byte>> Target => _target;

    /// <summary>
    /// Completes when both blocks have completed and the connection is closed; faults with the first error (the one that
    /// aborted the connection, else a block's fault, else the error the connection was lost with).
    /// </summary>
    /// <remarks>
    /// As for any Dataflow source, the source completes only once every segment it holds was taken: a source nobody
    /// takes from keeps this task waiting (until a fault drops the segments).
    /// </remarks>
    public Task Completion => _completion;

    /// <summary>The connection's reader, which the source reads from.</summary>
    public StreamReader Reader => _reader;

    /// <summary>The connection's writer, which the target writes to.</summary>
    public StreamWriter Writer => _writer;

    /// <summary>How many received segments wait in the source (tests).</summary>
    internal int ReceivedCount => _received.Count;

    /// <summary>How many accepted segments wait for the target to write them, not counting one being written or drained (tests).</summary>
    internal int QueuedCount => _sending.InputCount;

    /// <inheritdoc/>
    /// <returns>For example "DataflowConnection(Receiving, Received=2, Sending, Queued=1)".</returns>
    public override string ToString()
    {
        bool receiveEnded, sendEnded;
        Exception? error;
        lock (_lock)
        {
            receiveEnded = _receiveEnded;
            sendEnded = _sendEnded;
            error = _error;
        }

        string receiving = receiveEnded ? "ReceiveEnded" : "Receiving";
        string sending = sendEnded ? "SendEnded" : "Sending";
        string failed = error is null ? string.Empty : $", Error={error.GetType().Name}";
        string closed = _closed ? ", Closed" : string.Empty;
        return $"DataflowConnection({receiving}, Received={_received.Count}, {sending}, Queued={_sending.InputCount}{failed}{closed})";
    }

    /// <summary>Turns a Dataflow fault (an <see cref="AggregateException"/>, often nested by propagation) into its one cause.</summary>
    internal static Exception Unwrap(Exception error)
    {
        if (error is AggregateException aggregate)
        {
            AggregateException flat = aggregate.Flatten();
            return flat.InnerExceptions.Count == 1 ? flat.InnerExceptions[0] : flat;
        }

        return error;
    }

    /// <summary>
    /// Aborts the connection with <paramref name="error"/> unless it already failed: both blocks fault (dropping what
    /// they hold), reading and sending stop, and the transport is aborted.
    /// </summary>
    private void Fail(Exception error)
    {
        error = Unwrap(error);
        lock (_lock)
        {
            if (_error is not null)
            {
                return;
            }

            _error = error;
        }

        // Blocks first, tokens after: cancelling may run the pump inline (on the loop thread), and it must then find its
        // buffer already faulted rather than complete it normally.
        ((IDataflowBlock)_received).Fault(error);
        ((IDataflowBlock)_sending).Fault(error);
        _stopReceiving.Cancel();
        _abortReceiving.Cancel();
        RunOnLoop(s_abortOnLoop);
    }

    /// <summary>Applies the lifecycle rule after a direction ended (see the overview). Loop thread.</summary>
    private void FinishOnLoop()
    {
        bool receiveEnded, sendEnded, failed;
        lock (_lock)
        {
            receiveEnded = _receiveEnded;
            sendEnded = _sendEnded;
            failed = _error is not null;
        }

        if (failed || !sendEnded || _writer.Transport.IsClosing)
        {
            // Failing aborts on its own; while sending goes on, a finished receive leaves the connection half-open.
            return;
        }

        if (receiveEnded || !_writer.CanWriteEof)
        {
            _writer.Close();
        }
        else if (!_eofWritten)
        {
            _eofWritten = true;
            _writer.WriteEof();
        }
    }

    private void AbortOnLoop() => _writer.Transport.Abort();

    /// <summary>Runs <paramref name="action"/> on the loop thread: now if this is it, else on its next iteration.</summary>
    /// <returns><see langword="false"/> if the loop is closed, so the action will never run.</returns>
    private bool RunOnLoop(Action<object?> action)
    {
        if (_loop.IsOnLoopThread)
        {
            action(this);
            return true;
        }

        try
        {
            _loop.CallSoonThreadSafe(action, this);
            return true;
        }
        catch (ObjectDisposedException)
        {
            // The loop is closed, and its transports with it: there is nothing left to close or abort.
            return false;
        }
    }

    /// <summary>The connection is closed: stop both directions, with its error if it had one.</summary>
    private void Closed(Task closed)
    {
        _closed = true;
        if (closed.Exception is { } error)
        {
            Fail(error);
            return;
        }

        // Closed cleanly (by us, or by someone holding the writer): accept nothing more. Segments still queued cannot be
        // sent, and WriteSegmentAsync fails the target on the first of them.
        _sending.Complete();
    }

    private async Task CompleteAsync()
    {
        Task closed = _writer.WaitClosedAsync();
        await _received.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _target.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await closed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        Exception? error;
        lock (_lock)
        {
            error = _error;
        }

        error ??= _received.Completion.Exception ?? _target.Completion.Exception ?? closed.Exception;
        if (error is not null)
        {
            ExceptionDispatchInfo.Throw(Unwrap(error));
        }
    }
}
