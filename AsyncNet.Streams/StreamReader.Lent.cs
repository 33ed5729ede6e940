using System.Buffers;
using System.Diagnostics;

namespace AsyncNet.Streams;

/// <summary>
/// Lent reads: the buffered bytes handed to the caller where they lie, without a copy, until the caller says how many
/// it consumed (<c>PipeReader</c>'s <c>ReadAsync</c>/<c>AdvanceTo</c>).
/// </summary>
/// <remarks>
/// The loan is a read that ends late: <see cref="ReadBufferedAsync(long, CancellationToken)"/> runs as every read runs
/// (one at a time, cancellable, waiting without allocating, continuing inline on the loop thread), and when it finishes
/// the reader stays busy (ReadLent) instead of idle. <see cref="AdvanceTo(long)"/> consumes, returns the arrays whose
/// bytes are all consumed to the pool, re-checks flow control and ends the loan. The lent bytes count as unread until
/// then, so a caller that holds them long keeps the transport's reading paused: memory stays bounded.
/// </remarks>
public sealed partial class StreamReader
{
    private const int ReadIdle = 0;
    private const int ReadActive = 1;
    private const int ReadLent = 2;

    private static readonly PendingRead<ReadOnlySequence<byte>>.Attempt s_attemptLent = AttemptLent;

    private PendingRead<ReadOnlySequence<byte>>? _pendingLent;

    // Consumer-owned: set by the attempt that lends (so EndRead leaves the reader lent), cleared by AdvanceTo.
    private bool _lending;
    private ReadOnlySequence<byte> _lent;

    // _lent.Length, for ToString on any thread (the sequence itself could be read torn there).
    private long _lentLength;

    /// <summary>
    /// Reads the buffered bytes without copying them: at least one, or none at EOF. Give them back with
    /// <see cref="AdvanceTo(SequencePosition)"/> before the next read.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read lends nothing and consumes nothing.</param>
    /// <returns>Every unconsumed byte buffered when the read finishes; empty only at EOF.</returns>
    /// <remarks>As <see cref="ReadBufferedAsync(long, CancellationToken)"/> with a minimum of one byte.</remarks>
    /// <exception cref="InvalidOperationException">Another read is in progress, or bytes are still lent.</exception>
    public ValueTask<ReadOnlySequence<byte>> ReadBufferedAsync(CancellationToken cancellationToken = default) =>
        ReadBufferedAsync(1, cancellationToken);

    /// <summary>
    /// Reads the buffered bytes without copying them, once at least <paramref name="minimumBytes"/> are buffered (fewer
    /// only at EOF). Give them back with <see cref="AdvanceTo(SequencePosition)"/> before the next read.
    /// </summary>
    /// <param name="minimumBytes">How many bytes must be buffered; may exceed <see cref="Limit"/> (reading resumes until they are).</param>
    /// <param name="cancellationToken">Cancels the wait; a cancelled read lends nothing and consumes nothing.</param>
    /// <returns>
    /// Every unconsumed byte buffered when the read finishes (often more than <paramref name="minimumBytes"/>): a view of
    /// the reader's receive buffers, in one segment or several. At EOF, whatever is left, possibly nothing.
    /// </returns>
    /// <remarks>
    /// <para>
    /// The returned bytes are lent: they stay valid, and unchanged, until <see cref="AdvanceTo(SequencePosition)"/> (or
    /// <see cref="AdvanceTo(long)"/>); do not touch them afterwards. Until then the reader is busy: any other read throws
    /// <see cref="InvalidOperationException"/>. Every successful call lends, also an empty result at EOF.
    /// </para>
    /// <para>
    /// To wait for more when the bytes are not enough (an incomplete message), give them back unconsumed
    /// (<c>AdvanceTo(buffer.Start)</c>) and ask again with a larger <paramref name="minimumBytes"/>.
    /// </para>
    /// <para>
    /// Lent bytes count as unread until they are consumed, so the transport's reading stays paused while they exceed
    /// <see cref="Limit"/>. Writing them with <see cref="StreamWriter.Write(in ReadOnlySequence{byte})"/> before
    /// advancing is safe: the writer has sent or copied every byte when it returns.
    /// </para>
    /// <para>
    /// Once the connection was lost with an error (<see cref="Exception"/>), the bytes received before it are still lent
    /// as usual; a read that would have to wait for more throws that error instead, as every read does.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minimumBytes"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException">Another read is in progress, or bytes are still lent.</exception>
    public ValueTask<ReadOnlySequence<byte>> ReadBufferedAsync(long minimumBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumBytes, 1);
        BeginRead();
        var request = new ReadRequest { Needed = minimumBytes };
        return Run(_pendingLent ??= new PendingRead<ReadOnlySequence<byte>>(this), s_attemptLent, ref request, cancellationToken);
    }

    /// <summary>Lends what is buffered without waiting: the synchronous twin of <see cref="ReadBufferedAsync(CancellationToken)"/>.</summary>
    /// <param name="buffer">The lent bytes when this returns <see langword="true"/>: at least one, or none at EOF.</param>
    /// <returns>
    /// <see langword="true"/> if bytes (or EOF) were there, and are now lent until <see cref="AdvanceTo(SequencePosition)"/>;
    /// <see langword="false"/>, lending nothing, if the read would have to wait.
    /// </returns>
    /// <remarks>
    /// Once the connection was lost with an error (<see cref="Exception"/>), the bytes received before it are still lent;
    /// when none are left this throws that error instead of returning <see langword="false"/>, as every read does.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Another read is in progress, or bytes are still lent.</exception>
    public bool TryReadBuffered(out ReadOnlySequence<byte> buffer)
    {
        BeginRead();
        var request = new ReadRequest { Needed = 1 };
        try
        {
            return AttemptLent(this, ref request, out buffer);
        }
        finally
        {
            SetNeed(0);
            EndRead();
        }
    }

    /// <summary>Gives back the bytes the last <see cref="ReadBufferedAsync(CancellationToken)"/> lent, consuming those before <paramref name="consumed"/>.</summary>
    /// <param name="consumed">
    /// A position in the lent sequence: the bytes before it are consumed, the rest are read again by the next read. The
    /// lent sequence's <c>End</c> consumes everything, its <c>Start</c> nothing.
    /// </param>
    /// <remarks>The lent sequence, and every slice of it, must not be touched after this call: its arrays may go back to the pool.</remarks>
    /// <exception cref="InvalidOperationException">Nothing is lent: no <c>ReadBufferedAsync</c> finished since the last <c>AdvanceTo</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="consumed"/> does not lie in the lent sequence.</exception>
    public void AdvanceTo(SequencePosition consumed)
    {
        ThrowIfNotLent();
        AdvanceTo(_lent.Slice(_lent.Start, consumed).Length);
    }

    /// <summary>Gives back the bytes the last <see cref="ReadBufferedAsync(CancellationToken)"/> lent, consuming the first <paramref name="consumedBytes"/>.</summary>
    /// <param name="consumedBytes">How many of the lent bytes were consumed: from 0 to the lent sequence's length.</param>
    /// <remarks>The lent sequence, and every slice of it, must not be touched after this call: its arrays may go back to the pool.</remarks>
    /// <exception cref="InvalidOperationException">Nothing is lent: no <c>ReadBufferedAsync</c> finished since the last <c>AdvanceTo</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="consumedBytes"/> is negative or more than was lent.</exception>
    public void AdvanceTo(long consumedBytes)
    {
        ThrowIfNotLent();
        ArgumentOutOfRangeException.ThrowIfNegative(consumedBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(consumedBytes, _lentLength);
        if (consumedBytes != 0)
        {
            Skip(consumedBytes);
        }

        _lent = default;
        _lentLength = 0;
        _lending = false;

        // Consuming may bring the unread bytes down to where paused reading resumes.
        SetNeed(0);
        EndRead();
    }

    private static bool AttemptLent(StreamReader reader, ref ReadRequest request, out ReadOnlySequence<byte> result)
    {
        result = default;
        if (!reader.Prepare(out bool eof))
        {
            return reader.Wait(request.Needed);
        }

        if (reader._queue.Bytes < request.Needed && !eof)
        {
            return reader.Wait(request.Needed);
        }

        result = reader._queue.Peek();
        reader._lent = result;
        Volatile.Write(ref reader._lentLength, result.Length);
        reader._lending = true;
        return true;
    }

    private void ThrowIfNotLent()
    {
        if (Volatile.Read(ref _readInProgress) != ReadLent)
        {
            throw new InvalidOperationException("Nothing is lent: AdvanceTo gives back what the last ReadBufferedAsync returned, once.");
        }

        Debug.Assert(_lending, "A lent reader knows what it lent");
    }
}
