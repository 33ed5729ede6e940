using AsyncNet.Buffers;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Streams;

/// <summary>
/// The protocol behind a <see cref="StreamReader"/>/<see cref="StreamWriter"/> pair (asyncio's <c>StreamReaderProtocol</c>):
/// receives straight into pooled segments and publishes them to the reader; passes write flow control to the writer.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="StreamEndpoints"/> makes these for you. Use one directly to put streams on any <see cref="IStreamTransport"/>:
/// <c>loop.CreateConnectionAsync(() =&gt; new StreamProtocol(loop), host, port)</c>, then read <see cref="Reader"/> and
/// <see cref="Writer"/>. The reader exists from construction; the writer from <c>ConnectionMade</c>.
/// </para>
/// <para>
/// Receive buffers: <see cref="GetBuffer"/> lends a pooled array of the transport's read size, or the buffer of a read
/// waiting on the loop thread (see <see cref="GetBuffer"/>). When a read brings few
/// bytes while the reader is behind (so the segment will wait), they are copied into an array of their own size and
/// the large array goes back to the pool at once: queued segments hold little slack. The protocol owns a lent array
/// until <see cref="BufferUpdated"/> hands it to the reader's channel, and returns one that was never filled when the
/// connection is lost.
/// </para>
/// <para>
/// Half-close: <see cref="EofReceived"/> returns <see langword="true"/> (the connection stays open so the writer can
/// still write, as in asyncio); close the writer when done. Do not pause or resume the transport's reading yourself:
/// the reader's flow control owns it.
/// </para>
/// <para>
/// Idle reports (<see cref="StreamTransportOptions.Idle"/>) go to <see cref="StreamOptions.OnIdle"/> with the writer.
/// </para>
/// <para>
/// The transport calls every member on the loop thread. The thread is not checked, for speed, except in the loop's debug
/// mode (<see cref="EventLoopOptions.Debug"/>), where a call from another thread while the loop runs throws
/// <see cref="InvalidOperationException"/>.
/// </para>
/// </remarks>
public sealed class StreamProtocol : IBufferedProtocol, IIdleAwareProtocol
{
    /// <summary>The smallest receive buffer lent: 4 KiB.</summary>
    private const int MinReceiveLength = 4096;

    private readonly EventLoop _loop;
    private readonly BufferPool _pool;
    private readonly Action<StreamReader, StreamWriter>? _connected;
    private readonly Action<StreamWriter, IdleEvent>? _onIdle;
    private StreamWriter? _writer;

    // The array lent to the transport by GetBuffer and not yet handed over by BufferUpdated (or kept after a read that
    // found nothing, for the next GetBuffer).
    private byte[]? _receiving;

    // Whether the last GetBuffer lent the waiting read's own buffer instead of _receiving (StreamReader.Direct.cs).
    private bool _receivingDirect;

    /// <summary>Creates the protocol and its reader.</summary>
    /// <param name="loop">The loop the transport runs on.</param>
    /// <param name="options">The reader's settings; <see langword="null"/> for <see cref="StreamOptions.Default"/>.</param>
    /// <param name="connected">Called inside <c>ConnectionMade</c> with the reader and the new writer, on the loop thread.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public StreamProtocol(EventLoop loop, StreamOptions? options = null, Action<StreamReader, StreamWriter>? connected = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        options ??= StreamOptions.Default;
        options.Validate(nameof(options));
        _loop = loop;
        _pool = loop.BufferPool;
        _connected = connected;
        _onIdle = options.OnIdle;
        Reader = new StreamReader(loop, options.Limit, options.CompactSegments);
    }

    /// <summary>The reader of this connection's bytes.</summary>
    public StreamReader Reader { get; }

    /// <summary>The writer of this connection.</summary>
    /// <exception cref="InvalidOperationException">The connection is not made yet.</exception>
    public StreamWriter Writer => _writer ?? throw new InvalidOperationException("The connection is not made yet: the writer exists from ConnectionMade on.");

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="transport"/> is not an <see cref="IStreamTransport"/>.</exception>
    public void ConnectionMade(ITransport transport)
    {
        VerifyAccessInDebugMode();
        if (transport is not IStreamTransport stream)
        {
            throw new ArgumentException("A StreamProtocol needs a stream transport.", nameof(transport));
        }

        Reader.Attach(stream);
        _writer = new StreamWriter(_loop, stream, Reader);
        _connected?.Invoke(Reader, _writer);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// When a <see cref="StreamReader.ReadAsync(Memory{byte}, CancellationToken)"/> without a cancellation token waits on
    /// the loop thread with nothing buffered, and its buffer is at least <paramref name="sizeHint"/> long, this lends that
    /// buffer itself, so the bytes are received straight into it and never copied (asyncio's <c>sock_recv_into</c>).
    /// Otherwise a pooled array.
    /// </remarks>
    public Memory<byte> GetBuffer(int sizeHint)
    {
        VerifyAccessInDebugMode();
        _receivingDirect = Reader.TryLendWaitingDestination(sizeHint, out Memory<byte> destination);
        return _receivingDirect
            ? destination
            : _receiving ??= _pool.Rent(Math.Clamp(sizeHint, MinReceiveLength, BufferPool.MaximumLength));
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <see langword="true"/> unless the last <see cref="GetBuffer"/> lent a waiting read's own buffer: the reader never
    /// changes received bytes (its reads copy out of them or lend read-only views), so a handler that writes back what it
    /// read inside the read callback (an echo, a relay, a frame forwarded by <see cref="Framing.FrameWriter.Write(Framing.Codec.Frame)"/>)
    /// has it sent from the receive buffer without a copy.
    /// </remarks>
    public bool BufferIsPooled => !_receivingDirect;

    /// <inheritdoc/>
    public void BufferUpdated(int bytesWritten)
    {
        VerifyAccessInDebugMode();
        if (_receivingDirect)
        {
            _receivingDirect = false;
            Reader.PublishDirect(bytesWritten);
            return;
        }

        byte[] array = _receiving ?? throw new InvalidOperationException("BufferUpdated without GetBuffer.");
        _receiving = null;
        if (bytesWritten <= array.Length / 4 && Reader.BufferedBytes > 0)
        {
            // The reader is behind, so this segment will wait: do not let a few bytes pin a large array meanwhile.
            byte[] small = _pool.Rent(bytesWritten);
            array.AsSpan(0, bytesWritten).CopyTo(small);
            _pool.Return(array);
            array = small;
        }

        Reader.Publish(new ReceivedSegment(array, bytesWritten));
    }

    /// <inheritdoc/>
    /// <returns><see langword="true"/>: the connection stays half-open so the writer can still write.</returns>
    public bool EofReceived()
    {
        VerifyAccessInDebugMode();
        Reader.FeedEof();
        return true;
    }

    /// <inheritdoc/>
    public void ConnectionLost(Exception? exception)
    {
        VerifyAccessInDebugMode();
        _receivingDirect = false;
        if (_receiving is { } array)
        {
            _receiving = null;
            _pool.Return(array);
        }

        if (exception is null)
        {
            Reader.FeedEof();
        }
        else
        {
            Reader.Fail(exception);
        }

        _writer?.ConnectionLost(exception);
    }

    /// <inheritdoc/>
    /// <remarks>Passes the report to <see cref="StreamOptions.OnIdle"/>, if set.</remarks>
    public void IdleDetected(IdleEvent idle)
    {
        VerifyAccessInDebugMode();
        if (_onIdle is not null && _writer is not null)
        {
            _onIdle(_writer, idle);
        }
    }

    /// <inheritdoc/>
    public void PauseWriting()
    {
        VerifyAccessInDebugMode();
        _writer?.PauseWriting();
    }

    /// <inheritdoc/>
    public void ResumeWriting()
    {
        VerifyAccessInDebugMode();
        _writer?.ResumeWriting();
    }

    /// <inheritdoc/>
    public override string ToString() => $"StreamProtocol({Reader}, {(_writer is null ? "not connected" : _writer.ToString())})";

    /// <summary>The loop thread is checked in debug mode only: these callbacks run once per read, so speed wins otherwise.</summary>
    /// <exception cref="InvalidOperationException">Debug mode is on and the loop runs on another thread.</exception>
    private void VerifyAccessInDebugMode()
    {
        if (_loop.IsDebugMode)
        {
            _loop.VerifyAccess();
        }
    }
}
