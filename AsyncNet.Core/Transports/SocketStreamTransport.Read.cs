using System.Net.Sockets;
using System.Runtime.InteropServices;
using AsyncNet.Interop;

namespace AsyncNet.Transports;

internal sealed partial class SocketStreamTransport
{
    /// <summary>The socket is readable: one receive, then the protocol's callback (level-triggered, so no second try).</summary>
    private void ReadReady()
    {
        if (!_readerRegistered)
        {
            // Readiness queued in the same pass that stopped reading.
            return;
        }

        if (_bufferedProtocol is null)
        {
            ReadIntoLoopBuffer();
        }
        else
        {
            ReadIntoProtocolBuffer(_bufferedProtocol);
        }

        AssertInvariants();
    }

    private void ReadIntoLoopBuffer()
    {
        byte[] buffer = _pool.Rent(_readBufferSize);
        int received = Kernel.Receive(_socket, buffer.AsSpan(0, Math.Min(buffer.Length, _readBufferSize)), out SocketError error);
        if (error != SocketError.Success || received == 0)
        {
            _pool.Return(buffer);
            ReadEnded(error);
            return;
        }

        _metrics.Received(received);
        _idle?.OnRead();
        _currentReadBuffer = buffer;
        try
        {
            CallProtocol(static (transport, data) => transport._streamProtocol!.DataReceived(data), (ReadOnlySpan<byte>)buffer.AsSpan(0, received), "DataReceived");
        }
        finally
        {
            _idle?.OnReadCallbackDone();

            // Whatever the flush left unsent must stop pointing into the buffer before it goes back to the pool.
            _queue.DetachBorrowed();
            _currentReadBuffer = null;
            _pool.Return(buffer);
        }
    }

    private void ReadIntoProtocolBuffer(IBufferedProtocol protocol)
    {
        Memory<byte> memory;
        try
        {
            memory = protocol.GetBuffer(_readBufferSize);
            if (memory.IsEmpty)
            {
                throw new InvalidOperationException("IBufferedProtocol.GetBuffer returned an empty buffer.");
            }
        }
        catch (Exception ex)
        {
            ProtocolFailed(ex, "GetBuffer");
            return;
        }

        int received = Kernel.Receive(_socket, memory.Span, out SocketError error);
        if (error != SocketError.Success || received == 0)
        {
            ReadEnded(error);
            return;
        }

        _metrics.Received(received);
        _idle?.OnRead();
        byte[]? pooled = PooledArrayOf(protocol, memory);
        if (pooled is null || !_pool.TryPin(pooled))
        {
            CallProtocol(static (transport, received) => transport._bufferedProtocol!.BufferUpdated(received), received, "BufferUpdated");
            _idle?.OnReadCallbackDone();
            return;
        }

        // Writes of received bytes send from the array, as DataReceived's do from the loop's buffer; the pin keeps the
        // array from being lent again (and written over) before the callback's send, if the protocol gives it back first.
        _currentReadBuffer = pooled;
        try
        {
            CallProtocol(static (transport, received) => transport._bufferedProtocol!.BufferUpdated(received), received, "BufferUpdated");
        }
        finally
        {
            _idle?.OnReadCallbackDone();
            _queue.DetachBorrowed();
            _currentReadBuffer = null;
            _pool.Unpin();
        }
    }

    /// <summary>The array behind <paramref name="memory"/> if the protocol says it is a whole pooled array that stays unchanged (<see cref="IBufferedProtocol.BufferIsPooled"/>); else null.</summary>
    private static byte[]? PooledArrayOf(IBufferedProtocol protocol, Memory<byte> memory) =>
        protocol.BufferIsPooled
        && MemoryMarshal.TryGetArray((ReadOnlyMemory<byte>)memory, out ArraySegment<byte> segment)
        && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : null;

    /// <summary>A receive returned nothing: would-block (spurious readiness) or EINTR (retried on the next readiness), EOF, or an error.</summary>
    private void ReadEnded(SocketError error)
    {
        switch (error)
        {
            case SocketError.WouldBlock or SocketError.Interrupted:
                return;
            case SocketError.Success:
                PeerSentEof();
                return;
            default:
                SocketFailed(error, "read");
                return;
        }
    }

    private void PeerSentEof()
    {
        _eofReceived = true;
        StopReading();
        AdvanceProtocol(ProtocolState.EofReceived);
        _idle?.OnRead();
        CallProtocol(static (transport, _) => transport._keepOpenAfterEof = transport._bufferedProtocol?.EofReceived() ?? transport._streamProtocol!.EofReceived(), 0, "EofReceived");
        _idle?.OnReadCallbackDone();
        if (!_keepOpenAfterEof)
        {
            // The transport closes itself: this is not the user's Close, so later writes are dropped, not refused.
            BeginClose();
        }
    }
}
