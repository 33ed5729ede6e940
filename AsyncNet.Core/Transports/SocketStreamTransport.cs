// SocketStreamTransport: the stream transport over a non-blocking Socket (TCP over IPv4/IPv6, or a Unix socket).
//
// Maintainer's overview
// - Reading: one reader callback, registered with the loop while the transport reads (level-triggered). Each
//   readiness makes exactly one Receive: into the loop's shared read buffer for an IProtocol (DataReceived sees a
//   span of it, valid during the call), or into the protocol's own buffer for an IBufferedProtocol.
//   Receive returns 0 both for EOF and for WouldBlock; the SocketError tells them apart.
// - Writing (SocketStreamTransport.Write.cs): a write with nothing queued goes to the socket at once; what the
//   kernel does not take is copied into the WriteQueue and the writer callback is registered, only then. When
//   writable, the whole queue goes out in one gathered send (sendmsg). Writes made while a protocol callback runs
//   (ConnectionMade, DataReceived/BufferUpdated, EofReceived) are queued, not sent, and the queue is flushed once
//   when the callback returns: a protocol that answers one read with many writes makes one system call. A
//   deferred write of bytes that lie in the read buffer DataReceived was given is queued without a copy (a
//   borrowed segment), and copied only if the flush leaves it unsent. A large write (GatherLimit, 16 KiB, or more)
//   with nothing queued before it is not deferred: it goes to the socket at once, as outside a callback, so its bytes
//   are copied only if the kernel leaves some (gathering it would copy them all to save at most one send).
// - Closing: ConnectionLost always runs from its own loop callback (never inside Close/Abort or a read), exactly
//   once; the socket is unregistered first and disposed right after ConnectionLost returns.
// - State: _state is Open → Closing (Close called, flushing; with a CloseTimeout a timer aborts a flush that outlasts
//   it) → Closed (ConnectionLost scheduled). Write throws once
//   the *user* closed the sending side (WriteEof, Close, Abort); writes after the transport closed itself (an I/O
//   error, a reset, an EOF the protocol did not keep open) are dropped silently.
// - Idle detection (Idle/IdleTracker.cs), when StreamTransportOptions.Idle is set: reads that bring bytes and sends the
//   kernel takes bytes from stamp the loop's time on the tracker; its one timer does the rest. It starts after
//   ConnectionMade and stops when the transport starts closing.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Buffers;
using AsyncNet.Diagnostics;
using AsyncNet.Errors;
using AsyncNet.Loop;

namespace AsyncNet.Transports;

/// <summary>
/// The stream transport over a non-blocking <see cref="Socket"/>: TCP over IPv4 or IPv6, or a Unix socket.
/// Users see it as <see cref="IStreamTransport"/>.
/// </summary>
/// <remarks>
/// <para>
/// Protocol order, enforced: <c>ConnectionMade</c> → (<c>DataReceived</c> | <c>GetBuffer</c>/<c>BufferUpdated</c>)* →
/// <c>EofReceived</c>? → <c>ConnectionLost</c>, the last exactly once and from its own loop callback.
/// <c>PauseWriting</c>/<c>ResumeWriting</c> alternate between made and lost.
/// </para>
/// <para>
/// Writes made inside <c>ConnectionMade</c>, <c>DataReceived</c>, <c>BufferUpdated</c> or <c>EofReceived</c> are
/// gathered and handed to the OS in one send when that callback returns (or earlier, as soon as they exceed the
/// high-water mark); a write of 16 KiB or more with nothing gathered before it is sent at once instead. Elsewhere a
/// write with nothing queued is sent at once.
/// </para>
/// <para>All members must be called on the loop's thread.</para>
/// </remarks>
internal sealed partial class SocketStreamTransport : IStreamTransport
{
    /// <summary>
    /// The most segments one gathered send carries: .NET pins up to 8 buffers on the stack (Linux's UIO_FASTIOV);
    /// more would allocate per send.
    /// </summary>
    internal const int MaxGatherSegments = 8;

    // The scratch list of one gathered send, filled and cleared within one Flush on the loop thread: one list serves
    // every transport that flushes on this thread.
    #pragma warning disable IDE1006 // [ThreadStatic] fields are t_camelCase, which the s_ rule cannot tell apart
    [ThreadStatic]
    private static List<ArraySegment<byte>>? t_gather;
    #pragma warning restore IDE1006

    private static readonly Action<object?> s_readReady = static state => ((SocketStreamTransport)state!).ReadReady();
    private static readonly Action<object?> s_writeReady = static state => ((SocketStreamTransport)state!).WriteReady();
    private static readonly Action<object?> s_callConnectionLost = static state => ((SocketStreamTransport)state!).CallConnectionLost();
    private static readonly Action<object?> s_closeTimedOut = static state => ((SocketStreamTransport)state!).CloseTimedOut();

    private readonly EventLoop _loop;
    private readonly Socket _socket;
    private readonly int _fd;
    private readonly IBaseProtocol _protocol;

    // Exactly one of these is set: the protocol's data interface.
    private readonly IProtocol? _streamProtocol;
    private readonly IBufferedProtocol? _bufferedProtocol;

    private readonly BufferPool _pool;
    private readonly WriteQueue _queue;
    private readonly int _readBufferSize;
    private readonly Server? _server;

    // Null unless StreamTransportOptions.Idle watches something someone acts on; _idleProtocol is the listener, if any.
    private readonly IdleTracker? _idle;
    private readonly IIdleAwareProtocol? _idleProtocol;

    private EndPoint? _peer;
    private string? _peerText;

    private TransportState _state;
    private ProtocolState _protocolState;

    // Whether the user wants to read (PauseReading/ResumeReading); reading also needs _state == Open and no EOF yet.
    private bool _reading = true;
    private bool _readerRegistered;
    private bool _writerRegistered;

    // Set by WriteEof, Close and Abort: from then on Write throws.
    private bool _writeClosedByUser;

    // WriteEof was called: shut the sending side down once the queue is empty (then _eofSent).
    private bool _eofRequested;
    private bool _eofSent;
    private bool _eofReceived;

    // What the protocol's EofReceived answered: true keeps the connection half-open.
    private bool _keepOpenAfterEof;

    // > 0 while a protocol callback runs: writes are queued and flushed when it returns.
    private int _callbackDepth;

    // While WriteLines (or the two-buffer Write) hands its buffers to Write: all of them are gathered, whatever their size.
    private bool _writingLines;

    // The pool array that the span DataReceived is looking at points into, while that call runs.
    private byte[]? _currentReadBuffer;

    private Exception? _lostException;

    // How long a graceful close may flush (null: no limit), and its timer while it does.
    private readonly TimeSpan? _closeTimeout;
    private TimerHandle? _closeTimer;

    // The write buffer's marks and the protocol's pause/resume state.
    private readonly WriteFlowControl _flow;

    // What this connection records ("AsyncNet" meter), and whether its open was counted as active (then its close is).
    private readonly ConnectionMetrics _metrics;
    private bool _countedActive;

    private SocketStreamTransport(EventLoop loop, Socket socket, IBaseProtocol protocol, StreamTransportOptions options, Server? server, EndPoint? peer)
    {
        _loop = loop;
        _socket = socket;
        _fd = (int)socket.Handle;
        _protocol = protocol;
        _bufferedProtocol = protocol as IBufferedProtocol;
        _streamProtocol = _bufferedProtocol is null ? (IProtocol)protocol : null;
        _pool = loop.BufferPool;
        _queue = new WriteQueue(_pool);
        _readBufferSize = options.ReadBufferSize;
        _server = server;
        _peer = peer;
        _metrics = ConnectionMetrics.For(socket, accepted: server is not null);
        _flow = new WriteFlowControl(loop, protocol, this, options.WriteBufferHighWaterMark, options.WriteBufferLowWaterMark) { Metrics = _metrics };
        _idleProtocol = protocol as IIdleAwareProtocol;
        _idle = IdleTracker.Create(this, loop, options.Idle, _idleProtocol is not null);
        _closeTimeout = options.CloseTimeout;
    }

    /// <summary>The transport's life: open, flushing before a close, closed (connection-lost scheduled or done).</summary>
    private enum TransportState
    {
        Open,
        Closing,
        Closed,
    }

    /// <summary>How far the protocol's callbacks have gone; each step may only move forward.</summary>
    private enum ProtocolState
    {
        Created,
        Made,
        EofReceived,
        Lost,
    }

    /// <inheritdoc/>
    public bool IsClosing => _state != TransportState.Open;

    /// <inheritdoc/>
    public bool IsReading => _reading && _state == TransportState.Open;

    /// <inheritdoc/>
    public int WriteBufferSize => _queue.Bytes;

    /// <inheritdoc/>
    public int WriteBufferHighWaterMark => _flow.HighWaterMark;

    /// <inheritdoc/>
    public int WriteBufferLowWaterMark => _flow.LowWaterMark;

    /// <inheritdoc/>
    /// <remarks>True for TCP and for Unix sockets: both can shut down their sending side.</remarks>
    public bool CanWriteEof => true;

    /// <summary>The socket (also extra info "socket").</summary>
    internal Socket Socket => _socket;

    /// <summary>The loop the transport runs on.</summary>
    internal EventLoop Loop => _loop;

    /// <summary>Whether the user (or a stream reader's flow control) paused reading; the idle tracker then counts the read side as active.</summary>
    internal bool IsReadingPaused => !_reading;

    /// <summary>Whether WriteEof, Close or Abort closed the sending side; write-idle is then no longer reported.</summary>
    internal bool IsWriteClosedByUser => _writeClosedByUser;

    /// <summary>The idle tracker, if idle detection is on (tests).</summary>
    internal IdleTracker? IdleTracker => _idle;

    /// <summary>
    /// The peer, for error messages: "127.0.0.1:80", "[::1]:80" or a Unix socket path. An accepted Unix connection's
    /// peer is unnamed, so the server's path stands in for it.
    /// </summary>
    private string PeerText => _peerText ??= NonEmpty(SocketErrors.Describe(Peer)) ?? NonEmpty(SocketErrors.Describe(LocalEndPoint)) ?? $"fd {_fd}";

    private EndPoint? LocalEndPoint
    {
        get
        {
            try
            {
                return _socket.LocalEndPoint;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return null;
            }
        }
    }

    private EndPoint? Peer
    {
        get
        {
            if (_peer is null)
            {
                try
                {
                    _peer = _socket.RemoteEndPoint;
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    // An unconnected or closed socket has no peer to report.
                }
            }

            return _peer;
        }
    }

    /// <summary>
    /// Wraps a connected non-blocking socket: calls the protocol's <c>ConnectionMade</c> and starts reading.
    /// On failure the socket is disposed.
    /// </summary>
    /// <exception cref="ArgumentException">The protocol is neither an <see cref="IProtocol"/> nor an <see cref="IBufferedProtocol"/>.</exception>
    internal static SocketStreamTransport Start(EventLoop loop, Socket socket, IBaseProtocol protocol, StreamTransportOptions options, Server? server, EndPoint? peer)
    {
        if (protocol is not (IProtocol or IBufferedProtocol))
        {
            socket.Dispose();
            throw new ArgumentException(
                $"A stream protocol must implement IProtocol or IBufferedProtocol; {protocol?.GetType().Name ?? "null"} does neither.", nameof(protocol));
        }

        var transport = new SocketStreamTransport(loop, socket, protocol, options, server, peer);
        server?.Attach(transport);
        transport.MakeConnection();
        return transport;
    }

    /// <inheritdoc/>
    public void PauseReading()
    {
        _loop.VerifyAccess();
        if (_state != TransportState.Open || !_reading)
        {
            return;
        }

        _reading = false;
        _metrics.ReadPaused();
        StopReading();
    }

    /// <inheritdoc/>
    public void ResumeReading()
    {
        _loop.VerifyAccess();
        if (_state != TransportState.Open || _reading)
        {
            return;
        }

        _reading = true;
        _idle?.OnReadingResumed();
        StartReading();
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Idempotent. Reading stops at once; queued bytes are still sent, then <c>ConnectionLost</c>(null) runs from a
    /// later loop callback. Writing afterwards throws <see cref="InvalidOperationException"/>.
    /// </remarks>
    public void Close()
    {
        _loop.VerifyAccess();
        _writeClosedByUser = true;
        BeginClose();
    }

    /// <inheritdoc/>
    /// <remarks>Idempotent; also cuts short a <see cref="Close"/> that is still flushing.</remarks>
    public void Abort()
    {
        _loop.VerifyAccess();
        _writeClosedByUser = true;
        ForceClose(null);
    }

    /// <inheritdoc/>
    public object? GetExtraInfo(string name, object? defaultValue = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        switch (name)
        {
            case "peername":
                return Peer ?? defaultValue;
            case "sockname":
                return LocalEndPoint ?? defaultValue;
            case "socket":
                return _socket;
            default:
                return defaultValue;
        }
    }

    /// <inheritdoc/>
    /// <returns>For example "SocketStreamTransport(fd=12, Reading, Buffered=0, Closing)".</returns>
    public override string ToString()
    {
        string reading = _state != TransportState.Open ? string.Empty
            : _eofReceived ? ", Eof"
            : _reading ? ", Reading" : ", ReadPaused";
        string writePaused = _flow.IsWritingPaused ? ", WritePaused" : string.Empty;
        string eof = _eofSent ? ", EofSent" : _eofRequested ? ", EofPending" : string.Empty;
        string state = _state switch
        {
            TransportState.Closing => ", Closing",
            TransportState.Closed => ", Closed",
            _ => string.Empty,
        };
        return $"SocketStreamTransport(fd={_fd}{reading}, Buffered={_queue.Bytes}{writePaused}{eof}{state})";
    }

    private void MakeConnection()
    {
        _countedActive = _metrics.Opened();
        AdvanceProtocol(ProtocolState.Made);
        CallProtocol(static (transport, _) => transport._protocol.ConnectionMade(transport), 0, "ConnectionMade");

        if (_reading)
        {
            StartReading();
        }

        if (_state == TransportState.Open)
        {
            _idle?.Start();
        }
    }

    /// <summary>Starts the graceful close: stop reading, flush, then lose the connection. Does nothing if already closing.</summary>
    private void BeginClose()
    {
        if (_state != TransportState.Open)
        {
            return;
        }

        _state = TransportState.Closing;
        _idle?.Stop();
        StopReading();
        if (_queue.IsEmpty)
        {
            ScheduleConnectionLost(null);
            return;
        }

        // Otherwise the flush that empties the queue schedules it (FinishIfDrained), or the close timer gives up first.
        if (_closeTimeout is { } timeout)
        {
            _closeTimer = _loop.CallLater(timeout, s_closeTimedOut, this);
        }
    }

    /// <summary>The close timer fired while the close was still flushing: drop the rest and end the connection.</summary>
    private void CloseTimedOut()
    {
        _closeTimer = null;
        if (_state == TransportState.Closing)
        {
            ForceClose(new CloseTimeoutException(_closeTimeout!.Value, _queue.Bytes, PeerText));
        }
    }

    /// <summary>Closes now, dropping queued bytes; the protocol gets <c>ConnectionLost</c>(<paramref name="exception"/>).</summary>
    private void ForceClose(Exception? exception)
    {
        if (_state == TransportState.Closed)
        {
            return;
        }

        ScheduleConnectionLost(exception);
    }

    private void ScheduleConnectionLost(Exception? exception)
    {
        Debug.Assert(_state != TransportState.Closed, "Connection-lost is scheduled once");
        _state = TransportState.Closed;
        _lostException = exception;
        _flow.Stop();
        _idle?.Stop();
        _closeTimer?.Cancel();
        _closeTimer = null;

        // Unregister now: the descriptor stays open until ConnectionLost returns, so its number cannot be reused meanwhile.
        StopReading();
        StopWriting();
        _queue.Clear();
        _loop.CallSoon(s_callConnectionLost, this);
    }

    private void CallConnectionLost()
    {
        AdvanceProtocol(ProtocolState.Lost);
        _metrics.Closed(_countedActive, _lostException);
        try
        {
            _protocol.ConnectionLost(_lostException);
        }
        catch (Exception ex)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("Exception in protocol.ConnectionLost()", ex) { Source = this });
        }
        finally
        {
            _socket.Dispose();
            _server?.Detach(this);
        }
    }

    /// <summary>The idle tracker found a quiet stretch to report: tell the protocol, gathering what it writes.</summary>
    internal void ReportIdle(IdleEvent idle)
    {
        if (_idleProtocol is null || _state != TransportState.Open)
        {
            return;
        }

        CallProtocol(static (transport, idle) => transport._idleProtocol!.IdleDetected(idle), idle, "IdleDetected");

        AssertInvariants();
    }

    /// <summary>
    /// The idle tracker found a quiet stretch with close-on-idle set: abort with the timeout. The peer is presumed gone,
    /// so queued bytes are dropped rather than flushed (a flush to a dead peer could wait forever).
    /// </summary>
    internal void CloseForIdle(IdleKind kind, TimeSpan timeout) => ForceClose(new IdleTimeoutException(kind, timeout, PeerText));

    /// <summary>
    /// Runs one protocol callback as every callback runs: writes made inside it are gathered and flushed when it returns
    /// (<see cref="EndCallback"/>), and an exception from it is reported and closes the transport.
    /// </summary>
    /// <typeparam name="TArg">What the callback needs besides the transport; a span may be passed (no closure, no allocation).</typeparam>
    /// <returns>Whether the callback returned normally.</returns>
    private bool CallProtocol<TArg>(Action<SocketStreamTransport, TArg> callback, TArg arg, string name)
        where TArg : allows ref struct
    {
        _callbackDepth++;
        try
        {
            callback(this, arg);
            return true;
        }
        catch (Exception ex)
        {
            ProtocolFailed(ex, name);
            return false;
        }
        finally
        {
            EndCallback();
        }
    }

    /// <summary>A protocol callback threw: report it (it is a bug, not a network condition) and close with it.</summary>
    private void ProtocolFailed(Exception exception, string callback)
    {
        _loop.CallExceptionHandler(new LoopExceptionContext($"Fatal error: protocol.{callback}() failed", exception) { Source = this });
        ForceClose(exception);
    }

    /// <summary>A socket call failed: classify the error and close with it.</summary>
    private void SocketFailed(SocketError error, string operation)
    {
        NetworkException exception = SocketErrors.Classify(error, operation, PeerText);
        if (exception is not (ConnectionResetException or ConnectionAbortedException or BrokenPipeException or ConnectionTimedOutException))
        {
            // Resets and broken pipes are how connections end; anything else is worth a line in the log.
            _loop.CallExceptionHandler(new LoopExceptionContext($"Fatal {operation} error on a stream transport", exception) { Source = this });
        }

        ForceClose(exception);
    }

    private void AdvanceProtocol(ProtocolState next)
    {
        if (next <= _protocolState)
        {
            throw new InvalidOperationException($"Protocol callbacks out of order: {next} after {_protocolState} on {this}.");
        }

        _protocolState = next;
    }

    private void StartReading()
    {
        if (!_readerRegistered && _reading && !_eofReceived && _state == TransportState.Open)
        {
            _loop.AddReader(_socket, s_readReady, this);
            _readerRegistered = true;
        }
    }

    private void StopReading()
    {
        if (_readerRegistered)
        {
            _readerRegistered = false;
            _loop.RemoveReader(_socket);
        }
    }

    private void StartWriting()
    {
        if (!_writerRegistered)
        {
            _loop.AddWriter(_socket, s_writeReady, this);
            _writerRegistered = true;
        }
    }

    private void StopWriting()
    {
        if (_writerRegistered)
        {
            _writerRegistered = false;
            _loop.RemoveWriter(_socket);
        }
    }

    private static string? NonEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(!_writerRegistered || !_queue.IsEmpty, "The writer is registered only while bytes are queued");
        Debug.Assert(_state != TransportState.Closed || (_queue.IsEmpty && !_readerRegistered && !_writerRegistered), "A closed transport holds nothing and watches nothing");
        Debug.Assert(!_readerRegistered || (_reading && _state == TransportState.Open && !_eofReceived), "The reader is registered only while reading");
        Debug.Assert(_currentReadBuffer is not null || !_queue.HasBorrowed, "Borrowed bytes exist only while DataReceived runs");
    }
}
