namespace AsyncNet.Transports;

/// <summary>A bidirectional stream transport: TCP or a Unix socket (asyncio's <c>Transport</c>).</summary>
/// <remarks>
/// Write flow control (asyncio's rule): <c>PauseWriting</c> is called once when the buffered bytes go
/// strictly above the high-water mark, <c>ResumeWriting</c> once when they fall to or below the low mark.
/// Defaults: high 64 KiB, low = high / 4.
/// </remarks>
public interface IStreamTransport : ITransport
{
    /// <summary>Whether the transport is reading (not paused).</summary>
    bool IsReading { get; }

    /// <summary>Bytes accepted by <see cref="Write(ReadOnlySpan{byte})"/> and not yet handed to the OS.</summary>
    int WriteBufferSize { get; }

    /// <summary>The high-water mark of the write buffer.</summary>
    int WriteBufferHighWaterMark { get; }

    /// <summary>The low-water mark of the write buffer.</summary>
    int WriteBufferLowWaterMark { get; }

    /// <summary>Stops delivering received data until <see cref="ResumeReading"/>. Idempotent.</summary>
    void PauseReading();

    /// <summary>Resumes delivering received data. Idempotent.</summary>
    void ResumeReading();

    /// <summary>Queues bytes for sending; never blocks. An empty write does nothing.</summary>
    /// <param name="data">The bytes; copied if they cannot be sent at once.</param>
    /// <remarks>
    /// <para>
    /// With nothing queued, the bytes go to the socket at once, and only what the kernel does not take is queued.
    /// Inside a protocol callback (<c>ConnectionMade</c>, <c>DataReceived</c>, <c>BufferUpdated</c>,
    /// <c>EofReceived</c>) writes are gathered instead and sent together, in one system call, when the callback
    /// returns (or as soon as they exceed the high-water mark): a protocol that answers one read with many small
    /// writes costs one send. A transport may send a large write at once even there (AsyncNet's socket transport does,
    /// for 16 KiB or more with nothing gathered before it), since gathering it would copy it to save little. Bytes are
    /// never reordered or lost by partial sends.
    /// </para>
    /// <para>
    /// After the peer broke the connection, or after the transport closed itself (an I/O error, or an EOF the
    /// protocol did not keep open), a write is dropped silently: the loss surfaces through <c>ConnectionLost</c>.
    /// </para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">After <see cref="WriteEof"/>, <see cref="ITransport.Close"/> or <see cref="Abort"/>.</exception>
    void Write(ReadOnlySpan<byte> data);

    /// <summary>Queues several buffers for sending, as one gathered write where possible.</summary>
    /// <param name="buffers">The buffers, in order.</param>
    /// <exception cref="InvalidOperationException">After <see cref="WriteEof"/>, <see cref="ITransport.Close"/> or <see cref="Abort"/>.</exception>
    void WriteLines(IEnumerable<ReadOnlyMemory<byte>> buffers);

    /// <summary>Queues two buffers for sending, one after the other, as one write: a frame's header and its payload, say.</summary>
    /// <param name="first">The bytes to send first.</param>
    /// <param name="second">The bytes to send after them.</param>
    /// <remarks>
    /// Spares the caller laying the two out in one buffer first. AsyncNet's socket transport queues them together and sends
    /// them in one send, as <see cref="WriteLines"/> does. The default writes them one after the other with
    /// <see cref="Write(ReadOnlySpan{byte})"/>: the same bytes in the same order, but perhaps in two sends.
    /// </remarks>
    /// <exception cref="InvalidOperationException">After <see cref="WriteEof"/>, <see cref="ITransport.Close"/> or <see cref="Abort"/>.</exception>
    void Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        Write(first);
        Write(second);
    }

    /// <summary>Closes the sending side once the buffer is flushed (half-close); reading goes on.</summary>
    /// <exception cref="NotSupportedException">The transport cannot half-close (<see cref="CanWriteEof"/> is false).</exception>
    void WriteEof();

    /// <summary>Whether <see cref="WriteEof"/> is supported.</summary>
    bool CanWriteEof { get; }

    /// <summary>Closes now, dropping buffered data; the protocol's <c>ConnectionLost</c>(null) follows.</summary>
    void Abort();

    /// <summary>Sets the write buffer's flow-control marks, and re-checks them at once.</summary>
    /// <param name="high">The high-water mark; null for the default (64 KiB, or 4 × <paramref name="low"/> when only low is given).</param>
    /// <param name="low">The low-water mark; null for high / 4.</param>
    /// <exception cref="ArgumentOutOfRangeException">A mark is negative, or high &lt; low.</exception>
    void SetWriteBufferLimits(int? high = null, int? low = null);

    /// <summary>
    /// Makes sure the protocol hears <c>ResumeWriting</c> when the write buffer next falls to or below the low-water
    /// mark: pauses writing now (<c>PauseWriting</c>) if the buffer is above the low mark, even when it is not above the
    /// high mark.
    /// </summary>
    /// <returns>
    /// <see langword="true"/> if writing is paused (now or already) and <c>ResumeWriting</c> follows at the low mark, or
    /// connection-lost ends the wait; <see langword="false"/> if the buffer is at or below the low mark already (nothing
    /// to wait for), or the transport is closed.
    /// </returns>
    /// <remarks>
    /// This is the signal a writer's "drain" needs: asyncio's rule alone never calls back while the buffer lies between
    /// the two marks. <c>PauseWriting</c> and <c>ResumeWriting</c> still alternate.
    /// </remarks>
    bool PauseWritingUntilLowWater();

    /// <summary>
    /// Sends now the writes the transport gathered during the protocol callback in progress (see
    /// <see cref="Write(ReadOnlySpan{byte})"/>), as the callback's return would.
    /// </summary>
    /// <remarks>
    /// A drain made inside a callback needs it: gathered bytes count in <see cref="WriteBufferSize"/> but are not even
    /// offered to the kernel yet. Does nothing outside a callback, with nothing gathered, or while the transport already
    /// waits for the socket to become writable. A transport that gathers nothing needs nothing here: the default does nothing.
    /// </remarks>
    void FlushDeferredWrites()
    {
    }
}
