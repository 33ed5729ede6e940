// StreamReader: the consumer side of a connection's inbound bytes (asyncio's StreamReader).
//
// Maintainer's overview
// - Data path: the transport receives into a pooled array lent by StreamProtocol.GetBuffer; BufferUpdated publishes
//   it as a ReceivedSegment into a bounded Channel (Publish, loop thread). A read takes segments out of the channel
//   into its SegmentQueue (_queue) and consumes bytes from there; a fully consumed array goes back to the pool.
// - Ownership of a segment's array, exactly one owner at a time:
//     protocol (GetBuffer .. BufferUpdated) → channel (TryWrite .. TryRead) → _queue (until every byte is consumed) → pool.
//   Nobody keeps a reference across a hand-over: the producer forgets the array once published, the reader never
//   writes to the channel.
// - Threads: the producer half (Publish, FeedEof, Fail, UpdateFlowControl) runs on the loop thread. The consumer half
//   (every read) runs on whichever thread calls it, one read at a time (_readInProgress), and owns _queue,
//   _discardingLine and the pending read meanwhile. Shared state is _unread, _need, _paused, _eof and _exception.
// - Flow control: the loop pauses the transport's reading when unread bytes exceed
//   max(limit, what a waiting read needs) or the channel is full, and resumes when they fall to limit / 2 or below,
//   or below what a waiting read needs. So ReadExactlyAsync(n > limit) resumes reading instead of deadlocking, and
//   unread ≤ max(limit, need) + one segment holds: the check runs after every segment is published.
//   Consumers off the loop thread ask for a re-check with CallSoonThreadSafe (coalesced by _flowUpdateScheduled).
// - Waiting: a read that cannot finish from what is buffered waits on the channel (WaitToReadAsync) through a
//   PendingRead reused by every read of this reader, so waiting allocates nothing. The channel allows synchronous
//   continuations: a read waiting on the loop thread finishes inside BufferUpdated, and its awaiter continues there
//   too (the consumer "on the loop thread, synchronously as the segment is published" measured as the cheapest hand-over). An awaiter on
//   another thread always continues on the thread pool, never on the loop thread.
// - Zero-copy reads (StreamReader.Buffered.cs, internal, for framing): a read operation peeks at the queue as a
//   ReadOnlySequence over its arrays and consumes what it used; consumed bytes leave _unread at once but their arrays
//   stay (_held) until the next read prepares, so the views it handed out stay valid until then.
// - Direct receives (StreamReader.Direct.cs): a large ReadAsync(Memory) waiting on the loop thread lends its own buffer to
//   the transport's receive; a marker segment carries the count through the channel in place of an array.
// - Lent reads (StreamReader.Lent.cs, public): ReadBufferedAsync hands the caller the same kind of view and keeps the
//   reader busy (ReadLent) until the caller's AdvanceTo says how much it consumed; those arrays go back at once.

using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using AsyncNet.Buffers;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Streams;

/// <summary>
/// Reads a connection's bytes as they arrive (asyncio's <c>StreamReader</c>): a number of bytes, exactly some bytes,
/// a line, or up to a separator. Made by <see cref="StreamProtocol"/>, usually through
/// <see cref="StreamEndpoints.OpenConnectionAsync"/> or a <see cref="StreamServer"/>.
/// </summary>
/// <remarks>
/// <para>
/// One read at a time: a read started while another has not finished (its result not yet observed) throws
/// <see cref="InvalidOperationException"/> at once. Every read takes a <see cref="CancellationToken"/>; a cancelled read
/// consumes nothing, so the bytes it was waiting for stay readable by the next call.
/// </para>
/// <para>
/// Reads may be called on the loop thread or on any other thread. On the loop thread a read that completes when data
/// arrives continues synchronously inside the transport's read callback (no thread hop, no extra loop iteration);
/// elsewhere its continuation runs on the thread pool.
/// </para>
/// <para>
/// Memory stays bounded whatever the peer sends: reading pauses while more than <see cref="Limit"/> unread bytes are
/// buffered (or what a waiting read needs, if more) and resumes at half the limit.
/// </para>
/// <para>
/// Once the connection is lost with an error (a reset, an idle timeout), no byte received before it is lost: reads go on
/// returning what is buffered, and the first read that would have to wait for more throws that error instead (so does
/// every later one, and a read of nothing). asyncio throws at once and drops the buffered bytes; AsyncNet delivers them
/// first, so every frame completed before a reset reaches a reader that lags behind.
/// </para>
/// </remarks>
public sealed partial class StreamReader
{
    /// <summary>
    /// How many segments may wait in the channel: when it is full, reading pauses as if over the limit. A reader
    /// moves segments into its own queue (compacting small ones) whenever it reads, so this bounds only the segments
    /// of a reader that is not reading.
    /// </summary>
    internal const int ChannelCapacity = 256;

    private static readonly Action<object?> s_updateFlowControl = static state =>
    {
        var reader = (StreamReader)state!;
        Volatile.Write(ref reader._flowUpdateScheduled, 0);
        reader.UpdateFlowControl();
    };

    private static readonly byte[] s_newline = "\n"u8.ToArray();

    private readonly EventLoop _loop;
    private readonly int _limit;
    private readonly BufferPool _pool;
    private readonly Channel<ReceivedSegment> _channel;

    // Consumer-owned: touched only by the read in progress.
    private readonly SegmentQueue _queue;
    private bool _discardingLine;

    // Segments taken out of the channel, against _announced: while the two are equal the channel is empty, and a read
    // skips the channel (whose TryRead takes its lock even when empty: a framed reader reads many times per segment).
    private long _taken;

    // Segments announced by the producer, counted *before* each is written to the channel (and uncounted if the write
    // fails), so _announced == _taken proves that no written segment is left untaken. Written only on the loop thread.
    private long _announced;

    // Bytes at the front of _queue that Consume took but whose arrays stay until the next read prepares (see
    // StreamReader.Buffered.cs): a zero-copy view handed out stays valid until then. Already subtracted from _unread.
    private long _held;

    // Bytes published and not yet consumed (in the channel or in _queue). Interlocked: the producer adds before it
    // publishes, so the consumer's subtraction never takes it below zero.
    private long _unread;

    // What the waiting read needs buffered in all before it can finish; 0 while no read waits. Written with a full
    // fence by the consumer; read by the loop's flow control.
    private long _need;

    // Whether flow control paused the transport's reading. Written only on the loop thread; read by consumers to
    // decide whether to ask the loop for a resume.
    private volatile bool _paused;

    // 1 while a flow-control re-check is queued on the loop for a consumer on another thread.
    private int _flowUpdateScheduled;

    // ReadIdle, ReadActive from the start of a read until its result is observed (GetResult of a pending read), or
    // ReadLent from then on after a ReadBufferedAsync until its AdvanceTo (StreamReader.Lent.cs): no read may start.
    private int _readInProgress;

    // Set on the loop thread before the channel is completed; a consumer reads them *before* draining the channel,
    // so every segment published before the end is seen first.
    private volatile bool _eof;
    private volatile Exception? _exception;

    // Whether the read in progress saw _exception set when it prepared (owned by that read, like _queue).
    private bool _failureSeen;

    // Loop-owned.
    private IStreamTransport? _transport;

    // While Publish hands a segment to the channel, where a read waiting on the loop thread continues inline.
    private bool _publishing;

    private PendingRead<int>? _pendingInto;
    private PendingRead<byte[]>? _pendingBytes;

    internal StreamReader(EventLoop loop, int limit, bool compactSegments = true)
    {
        _loop = loop;
        _limit = limit;
        _pool = loop.BufferPool;
        _queue = new SegmentQueue(_pool, compactSegments);
        _channel = Channel.CreateBounded<ReceivedSegment>(new BoundedChannelOptions(ChannelCapacity)
        {
            SingleReader = true,
            SingleWriter = true,

            // A read waiting on the loop thread finishes inside TryWrite; PendingRead keeps other awaiters off the loop.
            AllowSynchronousContinuations = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The loop whose transport feeds this reader.</summary>
    public EventLoop Loop => _loop;

    /// <summary>The limit: the longest line or separated chunk accepted, and the flow-control mark (see <see cref="StreamOptions.Limit"/>).</summary>
    public int Limit => _limit;

    /// <summary>How many received bytes are not yet consumed; safe to read from any thread.</summary>
    public long BufferedBytes => Volatile.Read(ref _unread);

    /// <summary>Whether the peer finished sending and every byte has been consumed (asyncio's <c>at_eof</c>).</summary>
    public bool AtEof => _eof && Volatile.Read(ref _unread) == 0;

    /// <summary>The error the connection was lost with, or <see langword="null"/>; once set, every read throws it.</summary>
    public Exception? Exception => _exception;

    /// <summary>The channel the producer publishes into (tests, adapters).</summary>
    internal Channel<ReceivedSegment> Inbound => _channel;

    /// <summary>What the waiting read needs buffered in all, or 0 (tests).</summary>
    internal long Need => Volatile.Read(ref _need);

    /// <summary>Whether flow control has paused the transport's reading.</summary>
    internal bool IsPaused => _paused;

    /// <summary>How many arrays the reader's own queue holds (tests).</summary>
    internal int QueuedSegments => _queue.SegmentCount;

    /// <summary>Reads up to <paramref name="buffer"/>'s length of bytes: at least one, or none at EOF.</summary>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read consumes nothing.</param>
    /// <returns>How many bytes were read; 0 only at EOF or for an empty <paramref name="buffer"/>.</returns>
    /// <remarks>
    /// <para>The <see cref="System.IO.Stream"/>-shaped read: completes synchronously, allocating nothing, when bytes are buffered.</para>
    /// <para>
    /// Awaited on the loop thread without a cancellation token, with nothing buffered and a buffer at least the
    /// transport's read size (<see cref="AsyncNet.Transports.StreamTransportOptions.ReadBufferSize"/>, 256 KiB by
    /// default), the read has the socket receive straight into <paramref name="buffer"/>: no copy. As with any stream,
    /// do not touch the buffer until the read completes.
    /// </para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        BeginRead();
        var request = new ReadRequest { Buffer = buffer };
        return Run(_pendingInto ??= new PendingRead<int>(this), s_attemptInto, ref request, cancellationToken);
    }

    /// <summary>Reads at most <paramref name="maxBytes"/> bytes: at least one, or none at EOF (asyncio's <c>read(n)</c>).</summary>
    /// <param name="maxBytes">The most bytes to return; 0 returns an empty array at once.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read consumes nothing.</param>
    /// <returns>The bytes; empty at EOF.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public ValueTask<byte[]> ReadAsync(int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        BeginRead();
        var request = new ReadRequest { Count = maxBytes };
        return Run(_pendingBytes ??= new PendingRead<byte[]>(this), s_attemptRead, ref request, cancellationToken);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (asyncio's <c>readexactly</c>).</summary>
    /// <param name="count">How many bytes; may exceed <see cref="Limit"/> (reading resumes until they are buffered).</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read consumes nothing.</param>
    /// <returns>The bytes.</returns>
    /// <remarks>
    /// If the stream ends first the task fails with <see cref="IncompleteReadException"/> carrying every byte that was
    /// left (<see cref="IncompleteReadException.Partial"/>), and the buffer is empty afterwards.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public ValueTask<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        BeginRead();
        var request = new ReadRequest { Count = count };
        return Run(_pendingBytes ??= new PendingRead<byte[]>(this), s_attemptExactly, ref request, cancellationToken);
    }

    /// <summary>Reads up to and including <paramref name="separator"/> (asyncio's <c>readuntil</c>).</summary>
    /// <param name="separator">One or more bytes; an occurrence split across received segments is found.</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read consumes nothing.</param>
    /// <returns>The bytes, ending with the separator.</returns>
    /// <remarks>
    /// <para>
    /// The data before the separator may be at most <see cref="Limit"/> bytes long. Otherwise the task fails with
    /// <see cref="LimitOverrunException"/> and the bytes are <em>kept</em>: <see cref="LimitOverrunException.Consumed"/>
    /// says how many of them can be skipped.
    /// </para>
    /// <para>
    /// If the stream ends before a separator, the task fails with <see cref="IncompleteReadException"/> whose
    /// <see cref="IncompleteReadException.Partial"/> is the whole buffer, and the buffer is empty afterwards.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="separator"/> is empty.</exception>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public ValueTask<byte[]> ReadUntilAsync(ReadOnlyMemory<byte> separator, CancellationToken cancellationToken = default)
    {
        if (separator.IsEmpty)
        {
            throw new ArgumentException("The separator must contain at least one byte.", nameof(separator));
        }

        BeginRead();
        var request = new ReadRequest { Separator = separator };
        return Run(_pendingBytes ??= new PendingRead<byte[]>(this), s_attemptUntil, ref request, cancellationToken);
    }

    /// <summary>Reads one line, up to and including <c>\n</c> (asyncio's <c>readline</c>).</summary>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read consumes nothing.</param>
    /// <returns>The line with its <c>\n</c>; at EOF, the partial last line without one, or an empty array.</returns>
    /// <remarks>
    /// A line longer than <see cref="Limit"/> (before its <c>\n</c>) fails the task with
    /// <see cref="LimitOverrunException"/> and is <em>discarded</em>, including the part that has not arrived yet: the
    /// next read of any kind starts after that line's <c>\n</c>.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public ValueTask<byte[]> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        BeginRead();
        var request = new ReadRequest { Separator = s_newline };
        return Run(_pendingBytes ??= new PendingRead<byte[]>(this), s_attemptLine, ref request, cancellationToken);
    }

    /// <summary>Reads every byte until EOF (asyncio's <c>read()</c>).</summary>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read consumes nothing.</param>
    /// <returns>The rest of the stream.</returns>
    /// <remarks>Buffers the whole rest of the stream: reading does not pause at the limit while this waits.</remarks>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public ValueTask<byte[]> ReadToEndAsync(CancellationToken cancellationToken = default)
    {
        BeginRead();
        var request = default(ReadRequest);
        return Run(_pendingBytes ??= new PendingRead<byte[]>(this), s_attemptToEnd, ref request, cancellationToken);
    }

    /// <summary>Reads what is buffered without waiting: the synchronous twin of <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>.</summary>
    /// <param name="destination">Where to put the bytes.</param>
    /// <param name="bytesRead">How many bytes were read: at least one, or 0 at EOF or for an empty destination.</param>
    /// <returns><see langword="true"/> if the read finished (bytes or EOF); <see langword="false"/> if it would have to wait.</returns>
    /// <remarks>Once the connection was lost with an error (<see cref="Exception"/>), this rethrows that error, as every read does.</remarks>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    public bool TryRead(Span<byte> destination, out int bytesRead)
    {
        BeginRead();
        try
        {
            bytesRead = 0;
            if (destination.IsEmpty)
            {
                ThrowIfFailed();
                return true;
            }

            if (!Prepare(out bool eof))
            {
                return false;
            }

            if (_queue.Bytes > 0)
            {
                bytesRead = ReadInto(destination);
                return true;
            }

            return eof;
        }
        finally
        {
            SetNeed(0);
            EndRead();
        }
    }

    /// <inheritdoc/>
    /// <returns>For example "StreamReader(Buffered=12, Limit=65536, Paused, Eof)"; "Lent=N" while <see cref="ReadBufferedAsync(CancellationToken)"/> lends N bytes.</returns>
    public override string ToString()
    {
        string paused = _paused ? ", Paused" : string.Empty;
        string eof = _eof ? ", Eof" : string.Empty;
        string failed = _exception is { } error ? $", Exception={error.GetType().Name}" : string.Empty;
        string waiting = Volatile.Read(ref _need) is > 0 and var need ? $", Waiting={(need == long.MaxValue ? "Eof" : need)}" : string.Empty;
        string lent = Volatile.Read(ref _readInProgress) == ReadLent ? $", Lent={Volatile.Read(ref _lentLength)}" : string.Empty;
        return $"StreamReader(Buffered={BufferedBytes}, Limit={_limit}{paused}{eof}{failed}{waiting}{lent})";
    }

    // ---- Producer half: loop thread only. ----

    /// <summary>Binds the transport whose reading flow control pauses and resumes.</summary>
    internal void Attach(IStreamTransport transport) => _transport = transport;

    /// <summary>Hands <paramref name="segment"/> to the reader (the channel owns it from here), then applies flow control.</summary>
    /// <exception cref="InvalidOperationException">The channel is full: the transport delivered data while reading was paused.</exception>
    internal void Publish(ReceivedSegment segment)
    {
        Interlocked.Add(ref _unread, segment.Length);
        Volatile.Write(ref _announced, _announced + 1);

        // A read waiting on the loop thread finishes inside this call (synchronous continuation), and its handler may go
        // on reading what this segment brought; the flow-control check below sees where it stopped.
        bool written;
        _publishing = true;
        try
        {
            written = _channel.Writer.TryWrite(segment);
        }
        finally
        {
            _publishing = false;
        }

        if (!written)
        {
            Volatile.Write(ref _announced, _announced - 1);
            Interlocked.Add(ref _unread, -segment.Length);
            _pool.Return(segment.Array);
            throw new InvalidOperationException(
                $"The transport delivered data while its reading was paused and {ChannelCapacity} segments were waiting unread.");
        }

        UpdateFlowControl();
        AssertInvariants();
    }

    /// <summary>The peer finished sending.</summary>
    internal void FeedEof()
    {
        _eof = true;
        _channel.Writer.TryComplete();
    }

    /// <summary>The connection was lost with <paramref name="exception"/>: every read throws it from now on.</summary>
    internal void Fail(Exception exception)
    {
        _exception ??= exception;
        _channel.Writer.TryComplete();
    }

    /// <summary>Pauses or resumes the transport's reading per the flow-control rule in the file overview.</summary>
    internal void UpdateFlowControl()
    {
        IStreamTransport? transport = _transport;
        if (transport is null || transport.IsClosing)
        {
            return;
        }

        long unread = Volatile.Read(ref _unread);
        long need = Volatile.Read(ref _need);
        if (!_paused)
        {
            if (unread <= Math.Max(_limit, need) && _channel.Reader.Count < ChannelCapacity)
            {
                return;
            }

            _paused = true;
            transport.PauseReading();

            // Pairs with SetNeed's fenced write: a consumer that raised its need, or consumed, while _paused was still
            // false sent no request, so look again now that the pause is visible.
            Interlocked.MemoryBarrier();
            unread = Volatile.Read(ref _unread);
            need = Volatile.Read(ref _need);
        }

        if (ShouldResume(unread, need) && _channel.Reader.Count <= ChannelCapacity / 2)
        {
            _paused = false;
            transport.ResumeReading();
        }
    }

    // ---- Consumer half: the thread of the read in progress. ----

    /// <summary>Whether reading should resume: at or below half the limit, or short of what a waiting read needs.</summary>
    private bool ShouldResume(long unread, long need) => unread <= _limit / 2 || unread < need;

    /// <summary>Records what the waiting read needs (0: none) and asks the loop to re-check flow control if that may change its mind.</summary>
    private void SetNeed(long need)
    {
        // Full fence: pairs with UpdateFlowControl's barrier after it sets _paused (see there). An unchanged need
        // writes nothing: the consumer's other shared write, to _unread, is interlocked and so already fenced.
        if (need != _need)
        {
            Interlocked.Exchange(ref _need, need);
        }

        long unread = Volatile.Read(ref _unread);
        if (_paused ? ShouldResume(unread, need) : unread > Math.Max(_limit, need))
        {
            RequestFlowUpdate();
        }
    }

    private void RequestFlowUpdate()
    {
        if (_loop.IsOnLoopThread)
        {
            // A consumer running inside Publish: Publish checks once it returns. Checking now would pause reading at the
            // first read of a large segment and resume it at the last, two system calls for a segment the consumer
            // finishes before the transport could read again anyway.
            if (!_publishing)
            {
                UpdateFlowControl();
            }

            return;
        }

        if (Interlocked.Exchange(ref _flowUpdateScheduled, 1) == 0)
        {
            try
            {
                _loop.CallSoonThreadSafe(s_updateFlowControl, this);
            }
            catch (ObjectDisposedException)
            {
                // The loop is closed: no transport is left to pause or resume.
            }
        }
    }

    private void BeginRead()
    {
        int state = Interlocked.CompareExchange(ref _readInProgress, ReadActive, ReadIdle);
        if (state != ReadIdle)
        {
            throw new InvalidOperationException(state == ReadLent
                ? "The bytes ReadBufferedAsync lent are not given back yet: call AdvanceTo before the next read."
                : "Another read is already in progress on this StreamReader: it supports one read at a time.");
        }
    }

    /// <summary>Ends the read in progress; the next read may start, unless it lent bytes (then AdvanceTo ends the loan).</summary>
    internal void EndRead() => Volatile.Write(ref _readInProgress, _lending ? ReadLent : ReadIdle);

    /// <summary>A read stopped waiting (finished, failed or was cancelled): it needs nothing any more.</summary>
    internal void EndWait() => SetNeed(0);

    /// <summary>Runs <paramref name="attempt"/> now, and if it must wait, through <paramref name="pending"/>.</summary>
    private ValueTask<T> Run<T>(PendingRead<T> pending, PendingRead<T>.Attempt attempt, ref ReadRequest request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            EndRead();
            return ValueTask.FromCanceled<T>(cancellationToken);
        }

        try
        {
            if (attempt(this, ref request, out T result))
            {
                SetNeed(0);
                EndRead();
                return new ValueTask<T>(result);
            }
        }
        catch (Exception ex)
        {
            SetNeed(0);
            EndRead();
            return ValueTask.FromException<T>(ex);
        }

        return pending.Start(attempt, ref request, cancellationToken);
    }

    /// <summary>
    /// Gets ready to serve a read: throws a stored error, moves published segments into the queue, and skips the rest
    /// of a discarded overlong line.
    /// </summary>
    /// <param name="eof">Whether the stream has ended: then everything it will ever hold is in the queue.</param>
    /// <returns><see langword="false"/> if a discarded line has not ended yet, so the read must wait (never at EOF).</returns>
    private bool Prepare(out bool eof)
    {
        // Views handed out by an earlier read end here: their consumed bytes go, and their arrays back to the pool.
        ReleaseHeld();

        // The failure and EOF first, then the channel: everything published before either is in the channel by the time
        // it is visible, and counted in _announced before that. A failed stream never ends cleanly: a read that cannot
        // finish from what is buffered throws the failure (Wait), so the bytes before it are delivered, none invented.
        _failureSeen = _exception is not null;
        eof = _eof && !_failureSeen;
        TakeInbound();

        if (_discardingLine)
        {
            long end = _queue.IndexOf(s_newline, 0);
            if (end >= 0)
            {
                Skip(end + 1);
                _discardingLine = false;
            }
            else
            {
                Skip(_queue.Bytes);
                if (!eof)
                {
                    return false;
                }

                _discardingLine = false;
            }
        }

        return true;
    }

    /// <summary>Moves the segments published so far from the channel into the queue.</summary>
    private void TakeInbound()
    {
        if (Volatile.Read(ref _announced) != _taken)
        {
            while (_channel.Reader.TryRead(out ReceivedSegment segment))
            {
                TakeSegment(segment);
                _taken++;
            }
        }
    }

    /// <summary>Throws the error the connection was lost with, if any.</summary>
    private void ThrowIfFailed()
    {
        if (_exception is { } error)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    /// <summary>Records that the read must wait until <paramref name="need"/> bytes are buffered in all.</summary>
    /// <remarks>
    /// On a stream whose failure this read's <see cref="Prepare"/> saw, nothing more will come: the read throws the
    /// failure instead of waiting. A failure that came after <see cref="Prepare"/> may have published bytes just before
    /// it, so that read waits once more (it is woken at once) and takes them first.
    /// </remarks>
    private bool Wait(long need)
    {
        if (_failureSeen)
        {
            ThrowIfFailed();
        }

        SetNeed(need);
        return false;
    }

    private byte[] Take(long count)
    {
        byte[] bytes = _queue.Take(checked((int)count));
        Interlocked.Add(ref _unread, -count);
        return bytes;
    }

    private int ReadInto(Span<byte> destination)
    {
        int read = _queue.Read(destination);
        Interlocked.Add(ref _unread, -read);
        return read;
    }

    private void Skip(long count)
    {
        _queue.Skip(count);
        Interlocked.Add(ref _unread, -count);
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        // Only facts that a consumer on another thread cannot falsify meanwhile: it only lowers _unread and the count.
        Debug.Assert(Volatile.Read(ref _unread) >= 0, "Unread bytes are never negative");
        Debug.Assert(_paused || _transport is null || _transport.IsClosing || _channel.Reader.Count < ChannelCapacity, "A full channel always pauses reading");
    }
}
