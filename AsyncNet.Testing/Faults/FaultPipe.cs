// FaultPipe: one direction of a proxied connection (client → upstream, or upstream → client), with its faults.
//
// Maintainer's overview
// - Bytes arrive in the source transport's DataReceived. With no fault that delays them and nothing held, they are
//   written to the destination at once (no copy beyond the transport's own). Otherwise they are copied into HeldChunks
//   with the time they may leave, and Release sends what is due: slice by slice, within the bandwidth, arming one loop
//   timer (CallAt, so a manual clock drives it) for the next due time.
// - Flow control, asyncio-proxy style, with no unbounded buffer: the source's reading is paused while the destination's
//   write buffer is above its high mark (its PauseWriting), while more than MaxHeldBytes are held (resumed at half),
//   and while the direction is blackholed. So a direction holds at most MaxHeldBytes plus one read, and the destination
//   transport's buffer at most its high mark plus one read.
// - End faults (reset/close/half-close after N bytes) cut the forwarded stream at exactly N bytes. A reset first waits
//   until the destination has handed every forwarded byte to its socket (low mark 0, PauseWritingUntilLowWater), then
//   the connection resets both sockets.
// - States: Forwarding → Resetting (a reset waits for the destination to drain) → Ended; or Forwarding → Ended (EOF
//   forwarded by a half-close, the connection closed, reset or lost). An ended pipe drops what it reads.

using System.Diagnostics;
using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Testing.Faults;

/// <summary>One direction of a <see cref="ProxyConnection"/>: reads from a source transport, writes to a destination, with faults.</summary>
/// <remarks>Loop thread only.</remarks>
internal sealed class FaultPipe
{
    private static readonly Action<object?> s_timerFired = static state => ((FaultPipe)state!).TimerFired();

    private readonly ProxyConnection _connection;
    private readonly FaultProxy _proxy;
    private readonly EventLoop _loop;
    private readonly HeldChunks _held;

    private IStreamTransport? _source;
    private IStreamTransport? _destination;
    private PipeState _state;

    // Set when the source sent EOF: it is forwarded once nothing is held any more.
    private bool _sourceEof;

    // The destination's write buffer went above its high mark (PauseWriting) and has not fallen to its low mark yet.
    private bool _destinationPaused;

    // Whether this pipe paused the source's reading, and whether the held bytes passed MaxHeldBytes (until they fall to half).
    private bool _sourcePaused;
    private bool _heldOverLimit;

    private long _forwarded;

    // The latest due time given to held bytes (nothing overtakes it), and when the bandwidth lets the next piece leave.
    private TimeSpan _lastDue;
    private TimeSpan _bandwidthFreeAt;

    private TimerHandle? _timer;
    private TimeSpan _timerDue;

    public FaultPipe(ProxyConnection connection, FaultProxy proxy, FaultDirection direction)
    {
        _connection = connection;
        _proxy = proxy;
        _loop = proxy.Loop;
        _held = new HeldChunks(_loop.BufferPool);
        Direction = direction;
    }

    private enum PipeState
    {
        Forwarding,
        Resetting,
        Ended,
    }

    public FaultDirection Direction { get; }

    /// <summary>Whether this direction is finished: EOF forwarded, or ended by a fault or the connection's end.</summary>
    public bool IsDone => _state == PipeState.Ended;

    private FaultSpec Faults => _proxy.GetFaults(Direction);

    /// <summary>Both transports are connected: start forwarding (the source may have been paused until now).</summary>
    public void Start(IStreamTransport source, IStreamTransport destination)
    {
        _source = source;
        _destination = destination;
        _sourcePaused = !source.IsReading;
        if (!ActIfLimitReached(Faults))
        {
            UpdateSourceReading();
        }
    }

    /// <summary>The source's bytes arrived (its DataReceived): forward, hold or drop them.</summary>
    public void OnData(ReadOnlySpan<byte> data)
    {
        if (_state != PipeState.Forwarding)
        {
            _proxy.CountDropped(Direction, data.Length);
            return;
        }

        FaultSpec faults = Faults;
        if (ActIfLimitReached(faults))
        {
            _proxy.CountDropped(Direction, data.Length);
            return;
        }

        if (_held.IsEmpty && !faults.DelaysBytes && !faults.Blackhole)
        {
            Forward(data, faults);
            return;
        }

        _held.Add(data, DueTime(faults), faults);
        _proxy.CountHeld(Direction, data.Length);
        if (_held.Bytes > _proxy.MaxHeldBytes)
        {
            _heldOverLimit = true;
        }

        Release();
    }

    /// <summary>The source sent EOF: forward it after what is held.</summary>
    public void OnSourceEof()
    {
        _sourceEof = true;
        if (_state == PipeState.Forwarding && _held.IsEmpty)
        {
            ForwardEof();
        }
    }

    /// <summary>The destination's write buffer went above its high mark.</summary>
    public void OnDestinationPaused()
    {
        _destinationPaused = true;
        UpdateSourceReading();
    }

    /// <summary>The destination's write buffer fell to its low mark (to zero while a reset waits).</summary>
    public void OnDestinationResumed()
    {
        _destinationPaused = false;
        if (_state == PipeState.Resetting)
        {
            _connection.Reset();
            return;
        }

        Release();
    }

    /// <summary>The proxy's faults changed: apply the current limits and blackhole to what is held and to reading.</summary>
    public void OnFaultsChanged()
    {
        if (_state == PipeState.Forwarding && _destination is not null && !ActIfLimitReached(Faults))
        {
            Release();
        }
    }

    /// <summary>The connection ends (closed, reset or lost): drop what is held, stop the timer, forward nothing more.</summary>
    public void End()
    {
        _state = PipeState.Ended;
        _timer?.Cancel();
        _timer = null;
        DropHeld();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"FaultPipe({Direction}, {_state}, Forwarded={_forwarded}, Held={_held.Bytes}{(_sourcePaused ? ", SourcePaused" : string.Empty)}{(_destinationPaused ? ", DestinationPaused" : string.Empty)}{(_sourceEof ? ", SourceEof" : string.Empty)})";

    /// <summary>Drops every held byte (the direction ended, or a limit cut it).</summary>
    private void DropHeld()
    {
        long dropped = _held.Clear();
        _proxy.CountHeld(Direction, -dropped);
        _proxy.CountDropped(Direction, dropped);
    }

    /// <summary>When bytes read now may leave: after the latency ± jitter, and not before those read earlier.</summary>
    private TimeSpan DueTime(FaultSpec faults)
    {
        TimeSpan delay = faults.Latency;
        if (faults.Jitter > TimeSpan.Zero)
        {
            long jitter = faults.Jitter.Ticks;
            delay += TimeSpan.FromTicks(_proxy.Random.NextInt64(-jitter, jitter + 1));
        }

        TimeSpan due = _loop.Time + (delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
        if (due < _lastDue)
        {
            due = _lastDue;
        }

        _lastDue = due;
        return due;
    }

    /// <summary>Sends what is due, slice by slice within the bandwidth; arms the timer for what is not due yet.</summary>
    private void Release()
    {
        if (_state != PipeState.Forwarding)
        {
            return;
        }

        FaultSpec current = Faults;
        TimeSpan now = _loop.Time;
        while (!_held.IsEmpty && !_destinationPaused && _state == PipeState.Forwarding)
        {
            ref HeldChunk chunk = ref _held.Head;
            FaultSpec faults = chunk.Faults;
            if (faults.Blackhole && current.Blackhole)
            {
                // Read under a blackhole that still lasts: held until it is cleared (OnFaultsChanged releases it then).
                break;
            }

            if (chunk.Due > now)
            {
                Arm(chunk.Due);
                break;
            }

            if (faults.BandwidthBytesPerSecond is not null && _bandwidthFreeAt > now)
            {
                Arm(_bandwidthFreeAt);
                break;
            }

            int piece = chunk.Length;
            if (faults.SliceSize is int slice)
            {
                int variation = faults.SliceVariation;
                piece = Math.Min(piece, variation == 0 ? slice : slice + _proxy.Random.Next(-variation, variation + 1));
            }

            if (faults.BandwidthBytesPerSecond is long bandwidth)
            {
                // At most 20 ms worth per piece, so a limited stream moves smoothly rather than in one-second bursts.
                piece = (int)Math.Min(piece, Math.Max(1, bandwidth / 50));
                TimeSpan from = _bandwidthFreeAt > now ? _bandwidthFreeAt : now;
                _bandwidthFreeAt = from + TimeSpan.FromTicks(piece * TimeSpan.TicksPerSecond / bandwidth);
            }

            if (faults.SliceDelay > TimeSpan.Zero && piece < chunk.Length)
            {
                chunk.Due = now + faults.SliceDelay;
            }

            // Consumed after the write: the array goes back to the pool once empty, and the write may rent from it.
            // A write that reaches a byte limit ends the pipe, which has dropped (and returned) everything held then.
            Forward(chunk.Array.AsSpan(chunk.Start, piece), current);
            if (_state == PipeState.Forwarding)
            {
                _held.Consume(piece);
                _proxy.CountHeld(Direction, -piece);
            }
        }

        if (_held.Bytes * 2 <= _proxy.MaxHeldBytes)
        {
            _heldOverLimit = false;
        }

        if (_state == PipeState.Forwarding && _held.IsEmpty && _sourceEof)
        {
            ForwardEof();
            return;
        }

        UpdateSourceReading();
    }

    /// <summary>Writes bytes to the destination, cut at the byte limit; reaching the limit ends the direction as it says.</summary>
    private void Forward(ReadOnlySpan<byte> data, FaultSpec faults)
    {
        int count = data.Length;
        (EndFault Kind, long Limit)? end = faults.EndAfter;
        if (end is { } limit && limit.Limit - _forwarded < count)
        {
            count = (int)Math.Max(0, limit.Limit - _forwarded);
        }

        if (count > 0)
        {
            _destination!.Write(data[..count]);
            _forwarded += count;
            _proxy.CountForwarded(Direction, count);
        }

        if (count < data.Length)
        {
            _proxy.CountDropped(Direction, data.Length - count);
        }

        ActIfLimitReached(faults);
    }

    /// <summary>If this direction has forwarded as many bytes as its limit allows, ends it as the limit says; returns whether it did.</summary>
    private bool ActIfLimitReached(FaultSpec faults)
    {
        if (_state != PipeState.Forwarding || faults.EndAfter is not { } end || _forwarded < end.Limit || _destination is null)
        {
            return false;
        }

        switch (end.Kind)
        {
            case EndFault.HalfClose:
                DropHeld();
                ForwardEof();
                break;
            case EndFault.Close:
                _connection.Close();
                break;
            default:
                BeginReset();
                break;
        }

        return true;
    }

    /// <summary>A reset is due: wait until the destination's socket has every forwarded byte, then reset the connection.</summary>
    private void BeginReset()
    {
        _state = PipeState.Resetting;
        _timer?.Cancel();
        _timer = null;
        DropHeld();
        IStreamTransport destination = _destination!;

        // With the low mark at zero, ResumeWriting (OnDestinationResumed) means the write buffer is empty.
        destination.SetWriteBufferLimits(destination.WriteBufferHighWaterMark, 0);
        if (_state == PipeState.Resetting && !destination.PauseWritingUntilLowWater())
        {
            _connection.Reset();
        }
    }

    /// <summary>Half-closes the destination: nothing more goes this way; the source is still read, and dropped.</summary>
    private void ForwardEof()
    {
        Debug.Assert(_held.IsEmpty, "EOF goes after every held byte");
        _state = PipeState.Ended;
        _timer?.Cancel();
        _timer = null;
        UpdateSourceReading();
        _destination!.WriteEof();
        _connection.DirectionDone();
    }

    /// <summary>Pauses the source's reading while the destination is full, too much is held, or a blackhole lasts; else resumes it.</summary>
    private void UpdateSourceReading()
    {
        if (_source is null)
        {
            return;
        }

        bool pause = _state switch
        {
            PipeState.Forwarding => _destinationPaused || _heldOverLimit || Faults.Blackhole,
            PipeState.Resetting => true,

            // Ended: keep reading, so the source's EOF or reset is seen; what arrives is dropped.
            _ => false,
        };
        if (pause && !_sourcePaused)
        {
            _sourcePaused = true;
            _source.PauseReading();
        }
        else if (!pause && _sourcePaused)
        {
            _sourcePaused = false;
            _source.ResumeReading();
        }
    }

    private void Arm(TimeSpan due)
    {
        if (_timer is not null && _timerDue <= due)
        {
            return;
        }

        _timer?.Cancel();
        _timerDue = due;
        _timer = _loop.CallAt(due, s_timerFired, this);
    }

    private void TimerFired()
    {
        _timer = null;
        Release();
    }
}
