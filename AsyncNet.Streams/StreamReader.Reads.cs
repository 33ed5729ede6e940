namespace AsyncNet.Streams;

/// <summary>The read operations proper: each tries to finish from what is buffered, or says what it is waiting for.</summary>
/// <remarks>
/// An attempt returns <see langword="true"/> with its result, throws the read's failure, or records what it needs with
/// <c>Wait</c> and returns <see langword="false"/>. It consumes bytes only when it finishes (or fails with an
/// exception that says it consumed them), so a read cancelled while waiting has consumed nothing. asyncio's edge
/// rules are followed exactly (each method's remarks state them).
/// </remarks>
public sealed partial class StreamReader
{
    private static readonly PendingRead<int>.Attempt s_attemptInto = AttemptInto;
    private static readonly PendingRead<byte[]>.Attempt s_attemptRead = AttemptRead;
    private static readonly PendingRead<byte[]>.Attempt s_attemptExactly = AttemptExactly;
    private static readonly PendingRead<byte[]>.Attempt s_attemptUntil = AttemptUntil;
    private static readonly PendingRead<byte[]>.Attempt s_attemptLine = AttemptLine;
    private static readonly PendingRead<byte[]>.Attempt s_attemptToEnd = AttemptToEnd;

    private static bool AttemptInto(StreamReader reader, ref ReadRequest request, out int result)
    {
        result = 0;
        if (request.Buffer.IsEmpty)
        {
            reader.ThrowIfFailed();
            return true;
        }

        if (!reader.Prepare(out bool eof))
        {
            return reader.Wait(1);
        }

        if (reader.TakeReceivedDirect(out result))
        {
            return true;
        }

        if (reader._queue.Bytes > 0)
        {
            result = reader.ReadInto(request.Buffer.Span);
            return true;
        }

        return eof || reader.Wait(1);
    }

    private static bool AttemptRead(StreamReader reader, ref ReadRequest request, out byte[] result)
    {
        result = [];
        if (request.Count == 0)
        {
            reader.ThrowIfFailed();
            return true;
        }

        if (!reader.Prepare(out bool eof))
        {
            return reader.Wait(1);
        }

        long buffered = reader._queue.Bytes;
        if (buffered > 0)
        {
            result = reader.Take(Math.Min(request.Count, buffered));
            return true;
        }

        return eof || reader.Wait(1);
    }

    private static bool AttemptExactly(StreamReader reader, ref ReadRequest request, out byte[] result)
    {
        result = [];
        if (request.Count == 0)
        {
            reader.ThrowIfFailed();
            return true;
        }

        if (!reader.Prepare(out bool eof))
        {
            return reader.Wait(request.Count);
        }

        long buffered = reader._queue.Bytes;
        if (buffered >= request.Count)
        {
            result = reader.Take(request.Count);
            return true;
        }

        if (eof)
        {
            throw new IncompleteReadException(reader.Take(buffered), request.Count);
        }

        return reader.Wait(request.Count);
    }

    private static bool AttemptUntil(StreamReader reader, ref ReadRequest request, out byte[] result)
    {
        result = [];
        ReadOnlySpan<byte> separator = request.Separator.Span;
        long need = (long)reader._limit + separator.Length;
        if (!reader.Prepare(out bool eof))
        {
            return reader.Wait(need);
        }

        if (reader.TryFindSeparator(ref request, separator) is long found)
        {
            if (found > reader._limit)
            {
                throw new LimitOverrunException(
                    $"The separator was found, but the chunk before it ({found} bytes) is longer than the limit ({reader._limit}).", found);
            }

            result = reader.Take(found + separator.Length);
            return true;
        }

        // Not found: the first ScanFrom bytes cannot begin a separator (asyncio's offset = buflen + 1 - seplen).
        if (request.ScanFrom > reader._limit)
        {
            throw new LimitOverrunException(
                $"The separator was not found within the limit ({reader._limit} bytes); the bytes are kept.", request.ScanFrom);
        }

        if (eof)
        {
            throw new IncompleteReadException(reader.Take(reader._queue.Bytes), null);
        }

        return reader.Wait(need);
    }

    private static bool AttemptLine(StreamReader reader, ref ReadRequest request, out byte[] result)
    {
        result = [];
        long need = (long)reader._limit + 1;
        if (!reader.Prepare(out bool eof))
        {
            return reader.Wait(need);
        }

        if (reader.TryFindSeparator(ref request, s_newline) is long found)
        {
            if (found > reader._limit)
            {
                reader.Skip(found + 1);
                throw new LimitOverrunException(
                    $"A line of {found} bytes (before its newline) is longer than the limit ({reader._limit}); it was discarded.", found + 1);
            }

            result = reader.Take(found + 1);
            return true;
        }

        long buffered = reader._queue.Bytes;
        if (buffered > reader._limit)
        {
            // Drop what is here and, through _discardingLine, the rest of the line when it comes.
            reader.Skip(buffered);
            reader._discardingLine = true;
            throw new LimitOverrunException(
                $"A line is longer than the limit ({reader._limit} bytes); it is discarded up to its newline.", buffered);
        }

        if (eof)
        {
            result = reader.Take(buffered);
            return true;
        }

        return reader.Wait(need);
    }

    private static bool AttemptToEnd(StreamReader reader, ref ReadRequest request, out byte[] result)
    {
        result = [];
        if (!reader.Prepare(out bool eof))
        {
            return reader.Wait(long.MaxValue);
        }

        if (eof)
        {
            result = reader.Take(reader._queue.Bytes);
            return true;
        }

        return reader.Wait(long.MaxValue);
    }

    /// <summary>Looks for <paramref name="separator"/> from where the last look ended; returns its offset, or null and advances <see cref="ReadRequest.ScanFrom"/>.</summary>
    private long? TryFindSeparator(ref ReadRequest request, ReadOnlySpan<byte> separator)
    {
        long found = _queue.IndexOf(separator, request.ScanFrom);
        if (found >= 0)
        {
            return found;
        }

        // A separator that ends in bytes not yet received starts in the last separator.Length - 1 buffered bytes at the earliest.
        request.ScanFrom = Math.Max(0, _queue.Bytes + 1 - separator.Length);
        return null;
    }
}

/// <summary>The arguments of one read, kept by a <see cref="PendingRead{T}"/> while it waits.</summary>
internal struct ReadRequest
{
    /// <summary>The destination of <see cref="StreamReader.ReadAsync(Memory{byte}, CancellationToken)"/>.</summary>
    public Memory<byte> Buffer;

    /// <summary>The byte count of <c>ReadAsync(int)</c> and <c>ReadExactlyAsync</c>.</summary>
    public int Count;

    /// <summary>The separator of <c>ReadUntilAsync</c> and <c>ReadLineAsync</c>.</summary>
    public ReadOnlyMemory<byte> Separator;

    /// <summary>How far a separator search has looked without finding one; the next look starts there.</summary>
    public long ScanFrom;

    /// <summary>How many bytes a buffered read needs before it is worth another try (see StreamReader.Buffered.cs).</summary>
    public long Needed;

    /// <summary>A buffered read's operation: a <c>StreamReader.BufferedAttempt&lt;T&gt;</c> for the read's result type.</summary>
    public object? Operation;

    /// <summary>The state a buffered read's operation is given (its framing reader, say).</summary>
    public object? State;
}
