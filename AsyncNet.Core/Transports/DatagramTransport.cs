// DatagramTransport: a UDP or Unix datagram socket on the selector loop (asyncio's _SelectorDatagramTransport).
//
// Maintainer's overview
// - Receive: one ReceiveFrom per readiness, into one reused buffer and one reused SocketAddress. The sender's
//   EndPoint comes from a small cache keyed by SocketAddress, so steady-state receiving allocates nothing.
// - Send: with nothing queued, a datagram goes to the socket at once. If the socket would block, the datagram is
//   copied into a pooled buffer and queued, and a writer is registered; the queue drains in order when the
//   socket is writable. Unconnected sends reuse the serialized address of each destination (the same cache).
// - Flow control counts queued payload bytes: pause-writing strictly above high, resume-writing at or below low.
// - OS errors on send or receive (ICMP port unreachable, message too long) go to ErrorReceived and the endpoint
//   stays open, as in asyncio. Only an unexpected exception is fatal: it aborts with that error.
// - Close stops reading and, once the queue is empty, schedules ConnectionLost(null); the socket is disposed
//   right after ConnectionLost returns (asyncio closes it after connection_lost too). Abort drops the queue.
//   Every path to ConnectionLost goes through BeginConnectionLost, which runs once.

using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Interop;
using AsyncNet.Loop;

namespace AsyncNet.Transports;

/// <summary>A datagram transport over a non-blocking UDP or Unix datagram socket driven by the loop's selector.</summary>
/// <remarks>
/// Created by <see cref="DatagramTransportFactory.CreateDatagramEndpointAsync"/>. Every member must be called on the loop
/// thread. Order of protocol callbacks: <c>ConnectionMade</c>, then <c>DatagramReceived</c>/<c>ErrorReceived</c>
/// and <c>PauseWriting</c>/<c>ResumeWriting</c>, then <c>ConnectionLost</c> exactly once.
/// </remarks>
internal sealed class DatagramTransport : IDatagramTransport
{
    // Bounds each endpoint cache: a server talking to many peers keeps at most this many entries, and starts
    // over when it is full (a cache miss costs two small allocations, never correctness).
    private const int MaxCachedEndPoints = 256;

    private static readonly Action<object?> s_connectionMade = static state => ((DatagramTransport)state!).OnConnectionMade();
    private static readonly Action<object?> s_startReading = static state => ((DatagramTransport)state!).StartReading();
    private static readonly Action<object?> s_readable = static state => ((DatagramTransport)state!).OnReadable();
    private static readonly Action<object?> s_writable = static state => ((DatagramTransport)state!).OnWritable();
    private static readonly Action<object?> s_connectionLost = static state => ((DatagramTransport)state!).CallConnectionLost();

    private readonly EventLoop _loop;
    private readonly Socket _socket;
    private readonly IDatagramProtocol _protocol;
    private readonly int _fd;

    // The connected peer, or null for an endpoint that sends to any address; _remoteAddress is its serialized form.
    private readonly EndPoint? _remote;
    private readonly SocketAddress? _remoteAddress;

    private readonly EndPoint _endPointTemplate;
    private readonly SocketFlags _receiveFlags;
    private readonly Dictionary<SocketAddress, EndPoint> _endPointsByAddress = [];
    private readonly Dictionary<EndPoint, SocketAddress> _addressesByEndPoint = [];
    private readonly Queue<PendingDatagram> _queue = new();
    private readonly int _maxAddressSize;
    private readonly int _maxDatagramSize;
    private readonly SocketAddress _receiveAddress;

    // Pooled; returned when the socket is released, so null after that.
    private byte[]? _receiveBuffer;
    private EndPoint? _unnamedSender;
    private EndPoint? _localEndPoint;

    // Open: reading, sending. Closing: Close was called with datagrams queued; not reading, still flushing.
    // Closed: ConnectionLost is scheduled or done; nothing is registered and the queue is empty.
    private State _state;
    private bool _readerRegistered;
    private bool _writerRegistered;
    private bool _connectionLostCalled;
    private Exception? _lostException;
    private int _bufferSize;

    // The write buffer's marks and the protocol's pause/resume state.
    private readonly WriteFlowControl _flow;

    /// <summary>Wraps <paramref name="socket"/>; call <see cref="StartAsync"/> next.</summary>
    /// <param name="loop">The loop that drives the socket.</param>
    /// <param name="socket">A bound and/or connected, non-blocking datagram socket; the transport owns it from now on.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="remote">The connected peer, or null.</param>
    /// <param name="options">The settings; <see cref="WriteFlowControl.ResolveLimits"/> must accept their marks.</param>
    public DatagramTransport(EventLoop loop, Socket socket, IDatagramProtocol protocol, EndPoint? remote, DatagramEndpointOptions options)
    {
        _loop = loop;
        _socket = socket;
        _protocol = protocol;
        _fd = (int)socket.Handle;
        _remote = remote;
        _remoteAddress = remote?.Serialize();
        _flow = new WriteFlowControl(loop, protocol, this, options.WriteBufferHighWaterMark, options.WriteBufferLowWaterMark);

        AddressFamily family = socket.AddressFamily;
        _endPointTemplate = family switch
        {
            AddressFamily.InterNetwork => new IPEndPoint(IPAddress.Any, 0),
            AddressFamily.InterNetworkV6 => new IPEndPoint(IPAddress.IPv6Any, 0),
            AddressFamily.Unix => new UnixDomainSocketEndPoint("_"),
            _ => throw new ArgumentException($"Datagram transports support IPv4, IPv6 and Unix sockets, not {family}.", nameof(socket)),
        };
        _maxAddressSize = SocketAddress.GetMaximumAddressSize(family);
        _receiveAddress = new SocketAddress(family, _maxAddressSize);
        _maxDatagramSize = options.MaxDatagramSize;
        _receiveBuffer = ArrayPool<byte>.Shared.Rent(_maxDatagramSize);

        // With MSG_TRUNC, Linux returns a datagram's real length even when it did not fit, so an overlong datagram
        // is reported instead of silently cut; elsewhere the flag is not a receive input, and it is cut.
        _receiveFlags = OperatingSystem.IsLinux() ? SocketFlags.Truncated : SocketFlags.None;
        try
        {
            _localEndPoint = socket.LocalEndPoint;
        }
        catch (SocketException)
        {
            _localEndPoint = null;
        }
    }

    private enum State
    {
        Open,
        Closing,
        Closed,
    }

    /// <inheritdoc/>
    public bool IsClosing => _state != State.Open;

    /// <inheritdoc/>
    public int WriteBufferSize => _bufferSize;

    /// <summary>The high-water mark of the write buffer.</summary>
    public int WriteBufferHighWaterMark => _flow.HighWaterMark;

    /// <summary>The low-water mark of the write buffer.</summary>
    public int WriteBufferLowWaterMark => _flow.LowWaterMark;

    /// <summary>Whether the protocol was told to pause writing and not yet told to resume.</summary>
    public bool IsWritingPaused => _flow.IsWritingPaused;

    /// <summary>Schedules <c>ConnectionMade</c> and the start of reading, in that order, on the next iterations.</summary>
    /// <returns>A task that completes once both have run.</returns>
    public Task StartAsync()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.CallSoon(s_connectionMade, this);
        _loop.CallSoon(s_startReading, this);
        _loop.CallSoon(static state => ((TaskCompletionSource)state!).TrySetResult(), started);
        return started.Task;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A datagram is attempted on the socket at once when nothing is queued; it is copied and queued only if
    /// the socket would block. An OS error on the send (for example, message too long) goes to the protocol's
    /// <see cref="IDatagramProtocol.ErrorReceived"/>, called inline, and the endpoint stays open. An empty
    /// datagram is sent as such.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The transport is closing or closed, or the call is not on the loop thread.</exception>
    /// <exception cref="ArgumentException">
    /// No destination on an unconnected endpoint; a destination other than the connected one; or a destination
    /// of another address family (a <see cref="DnsEndPoint"/> must be resolved first).
    /// </exception>
    public void SendTo(ReadOnlySpan<byte> data, EndPoint? to = null)
    {
        _loop.VerifyAccess();
        if (_state != State.Open)
        {
            throw new InvalidOperationException($"Cannot send: the datagram transport is {(_state == State.Closing ? "closing" : "closed")}.");
        }

        SocketAddress? address = null;
        if (_remote is not null)
        {
            if (to is not null && !IsConnectedPeer(to))
            {
                throw new ArgumentException($"This endpoint is connected to {SocketErrors.Describe(_remote)}; the destination must be null or that address, not {SocketErrors.Describe(to)}.", nameof(to));
            }
        }
        else
        {
            if (to is null)
            {
                throw new ArgumentException("This endpoint is not connected: give a destination.", nameof(to));
            }

            address = GetSocketAddress(to);
        }

        if (_queue.Count == 0)
        {
            SocketError error = TrySend(data, address);
            if (error == SocketError.Success)
            {
                return;
            }

            if (error != SocketError.WouldBlock)
            {
                ReportError(error, "send", to ?? _remote);
                return;
            }

            RegisterWriter();
        }

        byte[] copy = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(copy);
        _queue.Enqueue(new PendingDatagram(copy, data.Length, address, to));
        _bufferSize += data.Length;
        AssertInvariants();
        _flow.OnBufferGrew(_bufferSize);
    }

    /// <inheritdoc/>
    /// <remarks>Idempotent. Queued datagrams are still sent; <c>ConnectionLost</c>(null) follows on a later iteration.</remarks>
    public void Close()
    {
        _loop.VerifyAccess();
        if (_state != State.Open)
        {
            return;
        }

        UnregisterReader();
        if (_queue.Count == 0)
        {
            BeginConnectionLost(null);
        }
        else
        {
            _state = State.Closing;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Idempotent; after <see cref="Close"/> it drops what is still queued. <c>ConnectionLost</c>(null) follows once.</remarks>
    public void Abort()
    {
        _loop.VerifyAccess();
        if (_state == State.Closed)
        {
            return;
        }

        DropQueue();
        BeginConnectionLost(null);
    }

    /// <summary>Sets the write buffer's flow-control marks, and re-checks them at once.</summary>
    /// <param name="high">The high mark; null for the default (64 KiB, or 4 × <paramref name="low"/>).</param>
    /// <param name="low">The low mark; null for high / 4.</param>
    /// <exception cref="ArgumentOutOfRangeException">A mark is negative, or high &lt; low.</exception>
    public void SetWriteBufferLimits(int? high = null, int? low = null)
    {
        _loop.VerifyAccess();
        _flow.SetLimits(high, low, _bufferSize);
    }

    /// <inheritdoc/>
    /// <remarks>Names: <c>"peername"</c> (the connected peer, or null), <c>"sockname"</c> (the bound address), <c>"socket"</c>.</remarks>
    public object? GetExtraInfo(string name, object? defaultValue = null) => name switch
    {
        "peername" => _remote,
        "sockname" => LocalEndPoint,
        "socket" => _socket,
        _ => defaultValue,
    };

    /// <inheritdoc/>
    public override string ToString() =>
        $"DatagramTransport({_state}, Local={SocketErrors.Describe(LocalEndPoint) ?? "unbound"}, Remote={SocketErrors.Describe(_remote) ?? "none"}, " +
        $"Queued={_queue.Count} ({_bufferSize} bytes){(_flow.IsWritingPaused ? ", WritingPaused" : string.Empty)})";

    private EndPoint? LocalEndPoint
    {
        get
        {
            // An unbound socket gets its address at its first send; ask again until it has one.
            if (_localEndPoint is null && _state != State.Closed)
            {
                try
                {
                    _localEndPoint = _socket.LocalEndPoint;
                }
                catch (SocketException)
                {
                }
            }

            return _localEndPoint;
        }
    }

    private void OnConnectionMade()
    {
        _protocol.ConnectionMade(this);
    }

    private void StartReading()
    {
        // ConnectionMade may have closed the transport already.
        if (_state == State.Open && !_readerRegistered)
        {
            _loop.AddReader(_socket, s_readable, this);
            _readerRegistered = true;
        }
    }

    private void OnReadable()
    {
        if (_state != State.Open || _receiveBuffer is not { } buffer)
        {
            return;
        }

        int received;
        _receiveAddress.Size = _maxAddressSize;
        try
        {
            received = Kernel.ReceiveFrom(_socket, buffer.AsSpan(0, _maxDatagramSize), _receiveFlags, _receiveAddress);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.Interrupted)
        {
            // Readiness without a datagram (another reader got it, or a spurious wake-up): wait for the next.
            return;
        }
        catch (SocketException ex)
        {
            // Typically a pending ICMP error for an earlier send on a connected socket.
            _protocol.ErrorReceived(SocketErrors.Classify(ex, "receive", SocketErrors.Describe(_remote ?? LocalEndPoint)));
            return;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
            FatalError(ex, "Fatal read error on a datagram transport");
            return;
        }

        EndPoint from = LookUpSender();
        if (received > _maxDatagramSize)
        {
            _protocol.ErrorReceived(new NetworkException(
                $"A datagram of {received} bytes from {SocketErrors.Describe(from)} was dropped: it exceeds MaxDatagramSize ({_maxDatagramSize}).",
                SocketError.MessageSize,
                SocketErrors.Describe(from)));
            return;
        }

        _protocol.DatagramReceived(buffer.AsSpan(0, received), from);
    }

    private void OnWritable()
    {
        while (_queue.TryPeek(out PendingDatagram datagram))
        {
            SocketError error = TrySend(datagram.Buffer.AsSpan(0, datagram.Length), datagram.Address);
            if (error == SocketError.WouldBlock)
            {
                break;
            }

            _queue.Dequeue();
            _bufferSize -= datagram.Length;
            ArrayPool<byte>.Shared.Return(datagram.Buffer);
            if (error != SocketError.Success)
            {
                // The datagram is dropped (UDP gives no delivery promise); the rest still go, in order.
                ReportError(error, "send", datagram.To ?? _remote);
                if (_state == State.Closed)
                {
                    return;
                }
            }
        }

        AssertInvariants();
        _flow.OnBufferShrank(_bufferSize);
        if (_queue.Count == 0 && _state != State.Closed)
        {
            UnregisterWriter();
            if (_state == State.Closing)
            {
                BeginConnectionLost(null);
            }
        }
    }

    private SocketError TrySend(ReadOnlySpan<byte> data, SocketAddress? address)
    {
        if (address is null)
        {
            Kernel.Send(_socket, data, out SocketError error);
            return error is SocketError.Interrupted ? SocketError.WouldBlock : error;
        }

        try
        {
            Kernel.SendTo(_socket, data, address);
            return SocketError.Success;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode is SocketError.Interrupted ? SocketError.WouldBlock : ex.SocketErrorCode;
        }
    }

    private void ReportError(SocketError error, string operation, EndPoint? address) =>
        _protocol.ErrorReceived(SocketErrors.Classify(error, operation, SocketErrors.Describe(address)));

    private bool IsConnectedPeer(EndPoint to) =>
        ReferenceEquals(to, _remote) || to.Equals(_remote) ||
        (to.AddressFamily == _remote!.AddressFamily && to is not DnsEndPoint && to.Serialize().Equals(_remoteAddress));

    /// <summary>The serialized form of a destination, cached so sending to a known peer allocates nothing.</summary>
    private SocketAddress GetSocketAddress(EndPoint to)
    {
        if (_addressesByEndPoint.TryGetValue(to, out SocketAddress? address))
        {
            return address;
        }

        if (to is DnsEndPoint)
        {
            throw new ArgumentException($"Resolve {to} first (EventLoop.GetAddrInfoAsync): a datagram needs an address.", nameof(to));
        }

        if (to.AddressFamily != _socket.AddressFamily)
        {
            throw new ArgumentException($"The destination {SocketErrors.Describe(to)} is {to.AddressFamily}; this endpoint's socket is {_socket.AddressFamily}.", nameof(to));
        }

        address = to.Serialize();
        Remember(address, to);
        return address;
    }

    /// <summary>The sender of the datagram just received, as an <see cref="EndPoint"/> from the cache when possible.</summary>
    private EndPoint LookUpSender()
    {
        SocketAddress received = _receiveAddress;
        if (received.Size < 2)
        {
            // An unbound Unix datagram socket sends from no address at all.
            return _unnamedSender ??= _endPointTemplate.Create(received);
        }

        if (_endPointsByAddress.TryGetValue(received, out EndPoint? endPoint))
        {
            return endPoint;
        }

        var key = new SocketAddress(received.Family, received.Size);
        received.Buffer.Span[..received.Size].CopyTo(key.Buffer.Span);
        endPoint = _endPointTemplate.Create(key);
        Remember(key, endPoint);
        return endPoint;
    }

    private void Remember(SocketAddress address, EndPoint endPoint)
    {
        if (_endPointsByAddress.Count >= MaxCachedEndPoints || _addressesByEndPoint.Count >= MaxCachedEndPoints)
        {
            _endPointsByAddress.Clear();
            _addressesByEndPoint.Clear();
        }

        _endPointsByAddress.TryAdd(address, endPoint);
        _addressesByEndPoint.TryAdd(endPoint, address);
    }

    private void FatalError(Exception exception, string message)
    {
        _loop.CallExceptionHandler(new LoopExceptionContext(message, exception) { Source = this });
        DropQueue();
        BeginConnectionLost(exception);
    }

    private void DropQueue()
    {
        while (_queue.TryDequeue(out PendingDatagram datagram))
        {
            ArrayPool<byte>.Shared.Return(datagram.Buffer);
        }

        _bufferSize = 0;
    }

    /// <summary>Moves to Closed and schedules <c>ConnectionLost</c>; the queue must be empty.</summary>
    private void BeginConnectionLost(Exception? exception)
    {
        Debug.Assert(_queue.Count == 0, "The queue is flushed or dropped before the connection is lost");
        _state = State.Closed;
        _lostException = exception;
        _flow.Stop();
        UnregisterReader();
        UnregisterWriter();
        if (_loop.IsClosed)
        {
            // Nothing will run the callback: release the socket now.
            ReleaseSocket();
            return;
        }

        _loop.CallSoon(s_connectionLost, this);
    }

    private void CallConnectionLost()
    {
        if (_connectionLostCalled)
        {
            return;
        }

        _connectionLostCalled = true;
        try
        {
            _protocol.ConnectionLost(_lostException);
        }
        finally
        {
            ReleaseSocket();
        }
    }

    private void ReleaseSocket()
    {
        // Unregistered already (BeginConnectionLost). Disposing also deletes the file of a Unix path this socket
        // bound: .NET tracks the path it bound and unlinks it on dispose.
        _socket.Dispose();
        if (_receiveBuffer is { } buffer)
        {
            _receiveBuffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _endPointsByAddress.Clear();
        _addressesByEndPoint.Clear();
    }

    private void RegisterWriter()
    {
        if (!_writerRegistered)
        {
            _loop.AddWriter(_socket, s_writable, this);
            _writerRegistered = true;
        }
    }

    private void UnregisterReader()
    {
        if (_readerRegistered)
        {
            _readerRegistered = false;
            _loop.RemoveReader(_fd);
        }
    }

    private void UnregisterWriter()
    {
        if (_writerRegistered)
        {
            _writerRegistered = false;
            _loop.RemoveWriter(_fd);
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        int queued = 0;
        foreach (PendingDatagram datagram in _queue)
        {
            queued += datagram.Length;
        }

        Debug.Assert(queued == _bufferSize, "The buffer size is the sum of the queued datagrams' lengths");
        Debug.Assert(_queue.Count == 0 || _writerRegistered, "Datagrams are queued, so a writer must be waiting for the socket");
        Debug.Assert(_state != State.Closed || _queue.Count == 0, "A closed transport holds no datagrams");
    }

    /// <summary>A datagram waiting for the socket: a pooled copy of its bytes, and where it goes.</summary>
    private readonly record struct PendingDatagram(byte[] Buffer, int Length, SocketAddress? Address, EndPoint? To);
}
