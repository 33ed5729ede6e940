using System.Diagnostics;
using System.Net.Sockets;
using AsyncNet.Interop;
using AsyncNet.Loop;

namespace AsyncNet.Transports;

internal sealed partial class SocketStreamTransport
{
    /// <summary>
    /// The smallest write a protocol callback sends at once rather than gathers, when nothing is gathered before it:
    /// 16 KiB. Gathering exists for small writes, whose system calls cost more than copying them into the queue (one send
    /// per small frame was ruinous); a write this large is worth a send of its own, and gathering it would copy every
    /// byte (a 64 KiB stream echo copied each message into the queue only to send it at once, as its drain asked).
    /// </summary>
    internal const int GatherLimit = 16 * 1024;

    /// <inheritdoc/>
    /// <remarks>
    /// <para>
    /// Outside a protocol callback, a write with nothing queued is sent at once and only what the kernel does not
    /// take is copied and queued. Inside <c>ConnectionMade</c>, <c>DataReceived</c>, <c>BufferUpdated</c> or
    /// <c>EofReceived</c> the bytes are queued and sent, together with the others, when the callback returns; except a
    /// write of <see cref="GatherLimit"/> bytes or more with nothing queued before it, which is sent at once as outside.
    /// </para>
    /// <para>
    /// After the peer broke the connection, or after the transport closed itself, a write is dropped silently: the loss
    /// has been, or will be, reported through <c>ConnectionLost</c>.
    /// </para>
    /// </remarks>
    public void Write(ReadOnlySpan<byte> data)
    {
        _loop.VerifyAccess();
        if (_writeClosedByUser)
        {
            ThrowWriteClosed();
        }

        if (data.IsEmpty || _state != TransportState.Open)
        {
            return;
        }

        if (_callbackDepth > 0 && (data.Length < GatherLimit || !_queue.IsEmpty || _writingLines))
        {
            Defer(data);
            return;
        }

        if (_queue.IsEmpty)
        {
            int sent = Kernel.Send(_socket, data, out SocketError error);
            if (error is not (SocketError.Success or SocketError.WouldBlock or SocketError.Interrupted))
            {
                SocketFailed(error, "write");
                return;
            }

            if (sent > 0)
            {
                _metrics.Sent(sent);
                _idle?.OnWrite();
            }

            if (sent == data.Length)
            {
                return;
            }

            _queue.Append(data[sent..]);
            StartWriting();
        }
        else
        {
            _queue.Append(data);
        }

        _flow.OnBufferGrew(_queue.Bytes);
        AssertInvariants();
    }

    /// <inheritdoc/>
    /// <remarks>The buffers are queued together and leave in one gathered send.</remarks>
    public void WriteLines(IEnumerable<ReadOnlyMemory<byte>> buffers)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        bool writingLines = BeginGather();
        try
        {
            foreach (ReadOnlyMemory<byte> buffer in buffers)
            {
                Write(buffer.Span);
            }
        }
        finally
        {
            EndGather(writingLines);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Both are queued together and leave in one send, as <see cref="WriteLines"/>' buffers do.</remarks>
    public void Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        bool writingLines = BeginGather();
        try
        {
            Write(first);
            Write(second);
        }
        finally
        {
            EndGather(writingLines);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Idempotent, and does nothing once the transport is closing. Queued bytes are sent first; then the sending
    /// side is shut down (the peer sees EOF) while reading goes on. Writing afterwards throws
    /// <see cref="InvalidOperationException"/>.
    /// </remarks>
    public void WriteEof()
    {
        _loop.VerifyAccess();
        if (_state != TransportState.Open || _eofRequested)
        {
            return;
        }

        _eofRequested = true;
        _writeClosedByUser = true;
        if (_queue.IsEmpty)
        {
            ShutdownSend();
        }
    }

    /// <inheritdoc/>
    public bool PauseWritingUntilLowWater()
    {
        _loop.VerifyAccess();
        return _state != TransportState.Closed && _flow.PauseUntilLowWater(_queue.Bytes);
    }

    /// <inheritdoc/>
    public void SetWriteBufferLimits(int? high = null, int? low = null)
    {
        _loop.VerifyAccess();
        _flow.SetLimits(high, low, _queue.Bytes);
    }

    /// <summary>
    /// Opens a window in which every write is gathered, large ones too (the caller asked for one send), as inside a
    /// protocol callback; <see cref="EndGather"/> closes it and, outermost, flushes.
    /// </summary>
    /// <returns>Whether a window was open already, for <see cref="EndGather"/>.</returns>
    private bool BeginGather()
    {
        _loop.VerifyAccess();
        if (_writeClosedByUser)
        {
            ThrowWriteClosed();
        }

        bool writingLines = _writingLines;
        _writingLines = true;
        _callbackDepth++;
        return writingLines;
    }

    private void EndGather(bool writingLines)
    {
        _writingLines = writingLines;
        EndCallback();
    }

    private static void ThrowWriteClosed() =>
        throw new InvalidOperationException("Cannot write: the transport's sending side was closed by WriteEof, Close or Abort.");

    /// <summary>Queues a write made inside a protocol callback; sends early only once the queue exceeds the high mark.</summary>
    private void Defer(ReadOnlySpan<byte> data)
    {
        if (_currentReadBuffer is { } readBuffer
            && readBuffer.AsSpan().Overlaps(data, out int offset)
            && offset >= 0 && offset + data.Length <= readBuffer.Length)
        {
            _queue.AppendBorrowed(readBuffer, offset, data.Length);
        }
        else
        {
            _queue.Append(data);
        }

        if (_queue.Bytes > _flow.HighWaterMark)
        {
            if (!_writerRegistered)
            {
                Flush();
            }

            _flow.OnBufferGrew(_queue.Bytes);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Sends what the protocol callback in progress has gathered, as the callback's return would. Does nothing outside a
    /// callback, with nothing gathered, or while the transport waits for the socket to become writable (the writer
    /// callback sends everything then).
    /// </remarks>
    public void FlushDeferredWrites()
    {
        _loop.VerifyAccess();
        if (_callbackDepth > 0 && !_queue.IsEmpty && !_writerRegistered && _state != TransportState.Closed)
        {
            Flush();
        }
    }

    /// <summary>A protocol callback returned: flush what it wrote, unless the writer callback will.</summary>
    private void EndCallback()
    {
        Debug.Assert(_callbackDepth > 0, "EndCallback pairs with a callback's start");
        if (--_callbackDepth > 0 || _state == TransportState.Closed)
        {
            return;
        }

        if (!_queue.IsEmpty && !_writerRegistered)
        {
            Flush();
        }

        _flow.OnBufferGrew(_queue.Bytes);
        AssertInvariants();
    }

    /// <summary>The socket is writable: send the queue.</summary>
    private void WriteReady()
    {
        if (!_writerRegistered)
        {
            return;
        }

        if (_queue.IsEmpty)
        {
            StopWriting();
            return;
        }

        Flush();
        AssertInvariants();
    }

    /// <summary>
    /// Sends the queue, gathered, until it is empty or the kernel is full; keeps the writer registered exactly while
    /// bytes remain, resumes the protocol at the low mark, and completes a pending close or EOF once empty.
    /// </summary>
    private void Flush()
    {
        // Whether any send took bytes: the idle tracker's write activity, stamped once per flush, not per send.
        bool sentAny = false;
        while (!_queue.IsEmpty)
        {
            int attempted;
            int sent;
            SocketError error;
            if (_queue.SegmentCount == 1)
            {
                ReadOnlySpan<byte> first = _queue.First;
                attempted = first.Length;
                sent = Kernel.Send(_socket, first, out error);
            }
            else
            {
                List<ArraySegment<byte>> gather = t_gather ??= new List<ArraySegment<byte>>(MaxGatherSegments);
                attempted = _queue.FillGather(gather, MaxGatherSegments);
                try
                {
                    sent = Kernel.Send(_socket, gather, out error);
                }
                finally
                {
                    gather.Clear();
                }
            }

            // EINTR as EAGAIN: nothing was sent; the writer callback tries again on the next readiness.
            if (error is SocketError.WouldBlock or SocketError.Interrupted)
            {
                break;
            }

            if (error != SocketError.Success)
            {
                SocketFailed(error, "write");
                return;
            }

            _queue.Consume(sent);
            _metrics.Sent(sent);
            sentAny |= sent > 0;
            if (sent < attempted)
            {
                // .NET retries a partial send until the kernel says would-block: it is full now.
                break;
            }
        }

        if (sentAny)
        {
            _idle?.OnWrite();
        }

        if (_queue.IsEmpty)
        {
            StopWriting();
        }
        else
        {
            StartWriting();
        }

        _flow.OnBufferShrank(_queue.Bytes);
        FinishIfDrained();
    }

    /// <summary>With nothing left to send, completes a graceful close or a pending WriteEof.</summary>
    private void FinishIfDrained()
    {
        if (!_queue.IsEmpty)
        {
            return;
        }

        if (_state == TransportState.Closing)
        {
            ScheduleConnectionLost(null);
        }
        else if (_state == TransportState.Open && _eofRequested && !_eofSent)
        {
            ShutdownSend();
        }
    }

    private void ShutdownSend()
    {
        _eofSent = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException ex)
        {
            SocketFailed(ex.SocketErrorCode, "shutdown");
        }
    }
}
