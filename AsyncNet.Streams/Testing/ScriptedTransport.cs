using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Testing;

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
/// control is asyncio's rule, as the socket transport implements it: pause once strictly above high, resume once at or
/// below low, re-checked when the limits change.
/// </para>
/// <para>Loop thread only. Internal: the C# tests and the F# properties drive it.</para>
/// </remarks>
internal sealed class ScriptedTransport : IStreamTransport
{
    private readonly EventLoop _loop;
    private readonly IBufferedProtocol _protocol;
    private readonly int _readSize;
    private readonly List<byte> _queued = [];
    private readonly List<byte> _sent = [];
    private bool _reading = true;
    private bool _writingPaused;
    private bool _closing;
    private bool _closed;
    private bool _writeClosedByUser;
    private bool _eofRequested;
    private int _high = 64 * 1024;
    private int _low = 16 * 1024;

    public ScriptedTransport(EventLoop loop, IBufferedProtocol protocol, int readSize = 64 * 1024)
    {
        _loop = loop;
        _protocol = protocol;
        _readSize = readSize;
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
    public int WriteBufferHighWaterMark => _high;

    /// <inheritdoc/>
    public int WriteBufferLowWaterMark => _low;

    /// <inheritdoc/>
    public bool CanWriteEof => true;

    /// <summary>Calls the protocol's <c>ConnectionMade</c>.</summary>
    public void Start() => _protocol.ConnectionMade(this);

    /// <summary>One read: puts up to one receive buffer's worth of <paramref name="data"/> into the protocol.</summary>
    /// <returns>How many bytes were delivered; 0 when reading is paused or the transport is closing.</returns>
    public int Deliver(ReadOnlySpan<byte> data)
    {
        _loop.CheckThread();
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
        _loop.CheckThread();
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
        _loop.CheckThread();
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
        _loop.CheckThread();
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
        MaybeResumeWriting();
        FinishIfDrained();
        return taken;
    }

    /// <inheritdoc/>
    public void PauseReading()
    {
        _loop.CheckThread();
        if (_reading && !IsClosing)
        {
            _reading = false;
            ReadingEvents.Add(("pause", Unread()));
        }
    }

    /// <inheritdoc/>
    public void ResumeReading()
    {
        _loop.CheckThread();
        if (!_reading && !IsClosing)
        {
            _reading = true;
            ReadingEvents.Add(("resume", Unread()));
        }
    }

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<byte> data)
    {
        _loop.CheckThread();
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
        MaybePauseWriting();
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
        _loop.CheckThread();
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
        _loop.CheckThread();
        _writeClosedByUser = true;
        BeginClose();
    }

    /// <inheritdoc/>
    public void Abort()
    {
        _loop.CheckThread();
        _writeClosedByUser = true;
        if (!_closed)
        {
            ScheduleLost(null);
        }
    }

    /// <inheritdoc/>
    public void SetWriteBufferLimits(int? high = null, int? low = null)
    {
        _loop.CheckThread();
        int h = high ?? (low is int l ? 4 * l : 64 * 1024);
        int lo = low ?? h / 4;
        if (h < 0 || lo < 0 || h < lo)
        {
            throw new ArgumentOutOfRangeException(nameof(high), $"Invalid marks: high {h}, low {lo}.");
        }

        (_high, _low) = (h, lo);
        MaybePauseWriting();
        MaybeResumeWriting();
    }

    /// <inheritdoc/>
    public object? GetExtraInfo(string name, object? defaultValue = null) => name == "peername" ? "scripted" : defaultValue;

    /// <inheritdoc/>
    public override string ToString() =>
        $"ScriptedTransport({(IsReading ? "Reading" : "ReadPaused")}, Buffered={_queued.Count}, Sent={_sent.Count}{(_writingPaused ? ", WritePaused" : string.Empty)}{(IsClosing ? ", Closing" : string.Empty)})";

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
        _queued.Clear();
        _loop.CallSoon(() =>
        {
            IsLost = true;
            _protocol.ConnectionLost(error);
        });
    }

    private void MaybePauseWriting()
    {
        if (!_writingPaused && _queued.Count > _high && !_closed)
        {
            _writingPaused = true;
            _protocol.PauseWriting();
        }
    }

    private void MaybeResumeWriting()
    {
        if (_writingPaused && _queued.Count <= _low && !_closed)
        {
            _writingPaused = false;
            _protocol.ResumeWriting();
        }
    }
}
