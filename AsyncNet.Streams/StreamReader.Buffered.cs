using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace AsyncNet.Streams;

/// <summary>
/// Zero-copy reads for framing (internal): look at the buffered bytes where they lie, consume what was used, and wait
/// until enough bytes are buffered. <see cref="Framing.FrameReader"/> is built on these.
/// </summary>
/// <remarks>
/// <para>
/// A buffered read is a read like the others (one at a time, cancellable, allocation-free while waiting, continuing
/// inline on the loop thread), whose work is a <see cref="BufferedAttempt{T}"/>: given the reader, it calls
/// <see cref="PeekBuffered"/>, perhaps <see cref="Consume"/>, and either finishes with a result or says how many bytes
/// it needs. The reader then waits until that many bytes are buffered (or the stream ends) before trying it again;
/// a need above <see cref="Limit"/> resumes reading like any read's, so it cannot deadlock.
/// </para>
/// <para>
/// Lifetimes: a peeked sequence and every slice of it are valid until the next read of any kind on this reader starts
/// (the next try of the same read included). <see cref="Consume"/> does not end them: it takes the bytes out of
/// <see cref="BufferedBytes"/> at once, but their arrays go back to the pool only when the next read starts. So a
/// frame's payload handed out by a finished read stays readable until the caller's next read. Flow control counts
/// only unconsumed bytes, so memory may exceed its bound (unread ≤ max(limit, what a pending read needs) + one segment) by that one held payload.
/// </para>
/// </remarks>
public sealed partial class StreamReader
{
    private static readonly PendingRead<bool>.Attempt s_attemptBuffered = AttemptBuffered;

    private PendingRead<bool>? _pendingWait;

    // Immediate reads begun (TryBeginImmediateRead returned true), so tests can tell that framing's fast path is taken.
    private long _immediateReads;

    /// <summary>How many immediate reads began (tests).</summary>
    internal long ImmediateReads => _immediateReads;

    /// <summary>Tries to finish a buffered read from what <see cref="PeekBuffered"/> shows.</summary>
    /// <param name="reader">The reader; the read in progress is the caller's, so it may peek and consume.</param>
    /// <param name="state">The state given to <see cref="ReadBufferedAsync{T}(PendingRead{T}, BufferedAttempt{T}, object?, CancellationToken)"/>.</param>
    /// <param name="result">The result, when finished.</param>
    /// <param name="needed">
    /// When not finished: how many bytes, counted from the first unconsumed one, must be buffered for the next try to
    /// make progress; more than are buffered now. Ignored at EOF, where an attempt must finish or throw.
    /// </param>
    /// <returns>Whether the read finished. Failures are thrown, and fail the read.</returns>
    internal delegate bool BufferedAttempt<T>(StreamReader reader, object? state, out T result, out long needed);

    /// <summary>Runs a buffered read: <paramref name="attempt"/> now, and again whenever the bytes it needs are buffered.</summary>
    /// <param name="pending">The caller's reusable waiter for this read's result type (made by <see cref="CreatePendingRead{T}"/>).</param>
    /// <param name="attempt">The read's work; a static delegate, so running it allocates nothing.</param>
    /// <param name="state">Passed to <paramref name="attempt"/>.</param>
    /// <param name="cancellationToken">Cancels the wait; the bytes the attempt did not consume stay buffered.</param>
    /// <returns>The attempt's result.</returns>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    internal ValueTask<T> ReadBufferedAsync<T>(PendingRead<T> pending, BufferedAttempt<T> attempt, object? state, CancellationToken cancellationToken)
    {
        BeginRead();
        var request = new ReadRequest { Operation = attempt, State = state };
        return Run(pending, BufferedReads<T>.Attempt, ref request, cancellationToken);
    }

    /// <summary>Makes the reusable waiter a caller of <see cref="ReadBufferedAsync{T}(PendingRead{T}, BufferedAttempt{T}, object?, CancellationToken)"/> keeps for its result type.</summary>
    /// <returns>A waiter bound to this reader.</returns>
    internal PendingRead<T> CreatePendingRead<T>() => new(this);

    /// <summary>Waits until at least <paramref name="count"/> bytes are buffered, or the stream ends; consumes nothing.</summary>
    /// <param name="count">How many bytes; may exceed <see cref="Limit"/> (reading resumes until they are buffered).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> when <paramref name="count"/> bytes are buffered; <see langword="false"/> when the stream ended with fewer.</returns>
    /// <remarks>A read like the others: one at a time; once the connection failed, it throws that error.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    internal ValueTask<bool> WaitBufferedAsync(long count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        BeginRead();
        var request = new ReadRequest { Needed = count };
        return Run(_pendingWait ??= new PendingRead<bool>(this), s_attemptBuffered, ref request, cancellationToken);
    }

    /// <summary>The unconsumed buffered bytes, in place: a sequence over the received arrays, without a copy.</summary>
    /// <param name="eof">Whether the stream has ended, so that nothing will ever follow these bytes.</param>
    /// <returns>The bytes; valid until the next read of any kind starts (see the type's remarks).</returns>
    /// <remarks>
    /// Only inside a <see cref="BufferedAttempt{T}"/>, whose read is in progress. Releases what earlier reads consumed,
    /// so views from earlier peeks end here. Throws the error the connection was lost with, as every read does.
    /// </remarks>
    internal ReadOnlySequence<byte> PeekBuffered(out bool eof)
    {
        Debug.Assert(Volatile.Read(ref _readInProgress) == 1, "Only a read in progress peeks");
        return Prepare(out eof) ? _queue.Peek() : ReadOnlySequence<byte>.Empty;
    }

    /// <summary>Consumes the first <paramref name="count"/> bytes of what <see cref="PeekBuffered"/> showed.</summary>
    /// <param name="count">How many; at most what the last peek showed.</param>
    /// <remarks>
    /// Only inside a <see cref="BufferedAttempt{T}"/>. The bytes leave <see cref="BufferedBytes"/> (and flow control's
    /// count) at once; their arrays stay, and the views over them valid, until the next read starts.
    /// </remarks>
    internal void Consume(long count)
    {
        Debug.Assert(Volatile.Read(ref _readInProgress) == 1, "Only a read in progress consumes");
        Debug.Assert(count >= 0 && _held + count <= _queue.Bytes, "Only bytes peeked at can be consumed");
        _held += count;
        Interlocked.Add(ref _unread, -count);
    }

    /// <summary>
    /// Starts a read that may finish at once from the first buffered array alone: the fast path of a buffered read,
    /// without the waiting machinery (a framed echo reads once per message, so that machinery shows).
    /// </summary>
    /// <param name="array">The first buffered array.</param>
    /// <param name="start">Where its unconsumed bytes start.</param>
    /// <param name="length">How many unconsumed bytes it holds.</param>
    /// <returns>
    /// <see langword="true"/> when a read has started and bytes are buffered: finish it with
    /// <see cref="EndImmediateRead"/>. <see langword="false"/>, with no read started, when nothing is buffered, or the
    /// reader has failed, is skipping a line, or is in another read: the regular read decides those.
    /// </returns>
    /// <remarks>The views from the previous read end here, as at the start of every read.</remarks>
    internal bool TryBeginImmediateRead([NotNullWhen(true)] out byte[]? array, out int start, out int length)
    {
        array = null;
        start = length = 0;
        if (Interlocked.CompareExchange(ref _readInProgress, 1, 0) != 0)
        {
            return false;
        }

        if (_exception is null && !_discardingLine)
        {
            ReleaseHeld();
            TakeInbound();
            if (_queue.TryPeekFirst(out array, out start, out length))
            {
                _immediateReads++;
                return true;
            }
        }

        EndRead();
        return false;
    }

    /// <summary>
    /// Starts a read that will not wait, when bytes are buffered: <see cref="TryBeginImmediateRead"/> for a caller that
    /// looks at all of them (<see cref="PeekBuffered"/>), and that must not be called during another read.
    /// </summary>
    /// <returns>
    /// <see langword="true"/> when a read has started and bytes are buffered: finish it with <see cref="EndImmediateRead"/>.
    /// <see langword="false"/>, with no read started, when nothing is buffered, or the reader has failed or is skipping
    /// a line.
    /// </returns>
    /// <exception cref="InvalidOperationException">Another read is in progress.</exception>
    internal bool TryBeginRead()
    {
        BeginRead();
        if (_exception is null && !_discardingLine)
        {
            ReleaseHeld();
            TakeInbound();
            if (_queue.Bytes != 0)
            {
                return true;
            }
        }

        EndRead();
        return false;
    }

    /// <summary>Finishes a read begun by <see cref="TryBeginImmediateRead"/>, consuming what it used.</summary>
    /// <param name="consumed">
    /// How many of the first array's bytes it used; they stay in memory, as <see cref="Consume"/>'s do, until the next read.
    /// </param>
    internal void EndImmediateRead(int consumed)
    {
        if (consumed != 0)
        {
            Consume(consumed);
        }

        SetNeed(0);
        EndRead();
    }

    /// <summary>Closes the connection (flushing what was written first), from any thread: a framing fault ends it.</summary>
    internal void CloseConnection()
    {
        if (_loop.IsOnLoopThread)
        {
            _transport?.Close();
            return;
        }

        try
        {
            _loop.CallSoonThreadSafe(static state => ((StreamReader)state!)._transport?.Close(), this);
        }
        catch (ObjectDisposedException)
        {
            // The loop is closed: so is every transport on it.
        }
    }

    /// <summary>Drops the bytes consumed by an earlier buffered read, returning their arrays to the pool.</summary>
    private void ReleaseHeld()
    {
        if (_held != 0)
        {
            _queue.Skip(_held);
            _held = 0;
        }
    }

    private static bool AttemptBuffered(StreamReader reader, ref ReadRequest request, out bool result)
    {
        result = false;
        if (!reader.Prepare(out bool eof))
        {
            return reader.Wait(request.Needed);
        }

        if (reader._queue.Bytes >= request.Needed)
        {
            result = true;
            return true;
        }

        return eof || reader.Wait(request.Needed);
    }

    private static bool AttemptOperation<T>(StreamReader reader, ref ReadRequest request, out T result)
    {
        if (request.Needed > 0)
        {
            // A try that asked for more: skip the operation until that much is here (it would only ask again).
            if (!reader.Prepare(out bool eof))
            {
                result = default!;
                return reader.Wait(request.Needed);
            }

            if (!eof && reader._queue.Bytes < request.Needed)
            {
                result = default!;
                return reader.Wait(request.Needed);
            }
        }

        if (((BufferedAttempt<T>)request.Operation!)(reader, request.State, out result, out long needed))
        {
            return true;
        }

        Debug.Assert(needed > reader._queue.Bytes - reader._held, "A buffered attempt that waits needs more than is buffered");
        request.Needed = needed;
        return reader.Wait(needed);
    }

    /// <summary>The cached attempt delegate per result type, so a buffered read allocates no delegate.</summary>
    private static class BufferedReads<T>
    {
        public static readonly PendingRead<T>.Attempt Attempt = AttemptOperation;
    }
}
