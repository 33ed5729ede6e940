using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Transports;

namespace AsyncNet.Testing;

/// <summary>
/// An in-memory <see cref="IStreamTransport"/> whose inbound segments and outbound partial sends are scripted by a test:
/// the same contract as the socket transport, with every read and every send decided by the caller.
/// </summary>
/// <remarks>
/// <para>
/// Inbound: <see cref="Deliver"/> is one read: it asks the protocol for a buffer, fills it with up to its size, and
/// calls <c>BufferUpdated</c>; it refuses while reading is paused (the contract a real transport keeps).
/// <see cref="DeliverEof"/> is the peer's half-close; <see cref="Lose"/> a broken connection.
/// </para>
/// <para>
/// Outbound: a write with nothing queued is offered to the "kernel" at once, which takes the next amount of
/// <see cref="SendSchedule"/> (everything when the schedule is empty); the rest is queued, and each <see cref="Pump"/>
/// (the socket turning writable) offers the queue again. Everything taken lands in <see cref="Sent"/>. Write flow
/// control is the socket transport's own (<see cref="WriteFlowControl"/>): pause once strictly above high, resume once
/// at or below low, re-checked when the limits change.
/// </para>
/// <para>
/// Use it to test a protocol or a stream consumer without sockets: every partial read and partial write is the test's
/// choice, so a property can try them all. Loop thread only, like every transport.
/// </para>
/// </remarks>
public sealed class ScriptedTransport : IStreamTransport
{
    private readonly EventLoop _loop;
    private readonly IBufferedProtocol _protocol;
    private readonly int _readSize;
    private readonly List<byte> _queued = [];
    private readonly List<byte> _sent = [];
    private readonly WriteFlowControl _flow;
    private bool _reading = true;
    private bool _closing;
    private bool _closed;
    private bool _writeClosedByUser;
    private bool _eofRequested;

    /// <summary>Creates the transport; call <see cref="Start"/> to make the connection.</summary>
    /// <param name="loop">The loop whose thread drives it.</param>
    /// <param name="protocol">The protocol, which receives through its own buffer (a <see cref="StreamProtocol"/>, say).</param>
    /// <param name="readSize">The size hint each read gives <see cref="IBufferedProtocol.GetBuffer"/>. The default is 64 KiB.</param>
    /// <exception cref="ArgumentNullException"><paramref name="loop"/> or <paramref name="protocol"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="readSize"/> is not positive.</exception>
    public ScriptedTransport(EventLoop loop, IBufferedProtocol protocol, int readSize = 64 * 1024)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(readSize);
        _loop = loop;
        _protocol = protocol;
        _readSize = readSize;
        _flow = new WriteFlowControl(loop, protocol, this);
    }

    /// <summary>Amounts the kernel takes on successive send attempts; when empty it takes everything.</summary>
    public Queue<int> SendSchedule { get; } = new();

    /// <summary>Whether <see cref="Sent"/> keeps what the kernel took (the default); off for allocation measurements.</summary>
    public bool RecordSent { get; set; } = true;

    /// <summary>Every byte the kernel took, in order.</summary>
    public byte[] Sent => [.. _sent];

    /// <summary>How many times reading was paused and resumed, in order ("pause", "resume"), with the protocol's unread bytes then.</summary>
    public List<(string Event, long Unread)> ReadingEvents { get; } = [];

    /// <summary>Called after every delivered segment with its size.</summary>
    public Action<int>? Delivered { get; set; }

    /// <summary>Whether the sending side was shut down after a <see cref="WriteEof"/>.</summary>
    public bool EofSent { get; private set; }

    /// <summary>Whether the protocol's <c>ConnectionLost</c> has run.</summary>
    public bool IsLost { get; private set; }

    /// <inheritdoc/>
    public bool IsClosing => _closing || _closed;

    /// <inheritdoc/>
    public bool IsReading => _reading && !IsClosing;

    /// <inheritdoc/>
    public int WriteBufferSize => _queued.Count;

    /// <inheritdoc/>
    public int WriteBufferHighWaterMark => _flow.HighWaterMark;

    /// <inheritdoc/>
    public int WriteBufferLowWaterMark => _flow.LowWaterMark;

    /// <inheritdoc/>
    public bool CanWriteEof => true;

    /// <summary>Calls the protocol's <c>ConnectionMade</c>.</summary>
    public void Start()
    {
        _loop.VerifyAccess();
        _protocol.ConnectionMade(this);
    }

    /// <summary>One read: puts up to one receive buffer's worth of <paramref name="data"/> into the protocol.</summary>
    /// <returns>How many bytes were delivered; 0 when reading is paused or the transport is closing.</returns>
    public int Deliver(ReadOnlySpan<byte> data)
    {
        _loop.VerifyAccess();
        if (!IsReading || data.IsEmpty)
        {
            return 0;
        }

        Memory<byte> buffer = _protocol.GetBuffer(_readSize);
        int n = Math.Min(buffer.Length, data.Length);
        data[..n].CopyTo(buffer.Span);
        _protocol.BufferUpdated(n);
        Delivered?.Invoke(n);
        return n;
    }

    /// <summary>The peer half-closes; if the protocol does not keep the connection open it closes.</summary>
    public void DeliverEof()
    {
        _loop.VerifyAccess();
        if (IsClosing)
        {
            return;
        }

        if (!_protocol.EofReceived())
        {
            BeginClose();
        }
    }

    /// <summary>The connection breaks: queued bytes are dropped and <c>ConnectionLost</c>(<paramref name="error"/>) follows.</summary>
    public void Lose(Exception? error)
    {
        _loop.VerifyAccess();
        if (_closed)
        {
            return;
        }

        ScheduleLost(error);
    }

    /// <summary>The socket turned writable: offers the queue to the kernel once.</summary>
    /// <returns>How many bytes the kernel took.</returns>
    public int Pump()
    {
        _loop.VerifyAccess();
        if (_closed || _queued.Count == 0)
        {
            return 0;
        }

        int taken = Offer(_queued.Count);
        if (RecordSent)
        {
            _sent.AddRange(_queued.GetRange(0, taken));
        }

        _queued.RemoveRange(0, taken);
        _flow.OnBufferShrank(_queued.Count);
        FinishIfDrained();
        return taken;
    }

    /// <inheritdoc/>
    public void PauseReading()
    {
        _loop.VerifyAccess();
        if (_reading && !IsClosing)
        {
            _reading = false;
            ReadingEvents.Add(("pause", Unread()));
        }
    }

    /// <inheritdoc/>
    public void ResumeReading()
    {
        _loop.VerifyAccess();
        if (!_reading && !IsClosing)
        {
            _reading = true;
            ReadingEvents.Add(("resume", Unread()));
        }
    }

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<byte> data)
    {
        _loop.VerifyAccess();
        if (_writeClosedByUser)
        {
            throw new InvalidOperationException("Cannot write after WriteEof, Close or Abort.");
        }

        if (data.IsEmpty || IsClosing)
        {
            return;
        }

        int taken = 0;
        if (_queued.Count == 0)
        {
            taken = Offer(data.Length);
            if (RecordSent)
            {
                _sent.AddRange(data[..taken]);
            }
        }

        _queued.AddRange(data[taken..]);
        _flow.OnBufferGrew(_queued.Count);
    }

    /// <inheritdoc/>
    public void WriteLines(IEnumerable<ReadOnlyMemory<byte>> buffers)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        foreach (ReadOnlyMemory<byte> buffer in buffers)
        {
            Write(buffer.Span);
        }
    }

    /// <inheritdoc/>
    public void WriteEof()
    {
        _loop.VerifyAccess();
        if (IsClosing || _eofRequested)
        {
            return;
        }

        _eofRequested = true;
        _writeClosedByUser = true;
        FinishIfDrained();
    }

    /// <inheritdoc/>
    public void Close()
    {
        _loop.VerifyAccess();
        _writeClosedByUser = true;
        BeginClose();
    }

    /// <inheritdoc/>
    public void Abort()
    {
        _loop.VerifyAccess();
        _writeClosedByUser = true;
        if (!_closed)
        {
            ScheduleLost(null);
        }
    }

    /// <inheritdoc/>
    public void SetWriteBufferLimits(int? high = null, int? low = null)
    {
        _loop.VerifyAccess();
        _flow.SetLimits(high, low, _queued.Count);
    }

    /// <inheritdoc/>
    public bool PauseWritingUntilLowWater()
    {
        _loop.VerifyAccess();
        return !_closed && _flow.PauseUntilLowWater(_queued.Count);
    }

    /// <inheritdoc/>
    public object? GetExtraInfo(string name, object? defaultValue = null) => name == "peername" ? "scripted" : defaultValue;

    /// <inheritdoc/>
    public override string ToString() =>
        $"ScriptedTransport({(IsReading ? "Reading" : "ReadPaused")}, Buffered={_queued.Count}, Sent={_sent.Count}{(_flow.IsWritingPaused ? ", WritePaused" : string.Empty)}{(IsClosing ? ", Closing" : string.Empty)})";

    private long Unread() => (_protocol as StreamProtocol)?.Reader.BufferedBytes ?? -1;

    private int Offer(int available) => SendSchedule.TryDequeue(out int amount) ? Math.Clamp(amount, 0, available) : available;

    private void BeginClose()
    {
        if (IsClosing)
        {
            return;
        }

        _closing = true;
        FinishIfDrained();
    }

    private void FinishIfDrained()
    {
        if (_queued.Count != 0 || _closed)
        {
            return;
        }

        if (_closing)
        {
            ScheduleLost(null);
        }
        else if (_eofRequested)
        {
            EofSent = true;
        }
    }

    private void ScheduleLost(Exception? error)
    {
        _closed = true;
        _flow.Stop();
        _queued.Clear();
        _loop.CallSoon(() =>
        {
            IsLost = true;
            _protocol.ConnectionLost(error);
        });
    }
}
