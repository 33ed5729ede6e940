using System.Buffers;
using System.Diagnostics;
using AsyncNet.Transports;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Framing;

// Maintainer's overview. One HeartbeatPing per endpoint call (or CreatePingSender call), shared by all its connections:
// the ping is encoded once, so sending one is a single span write of bytes that never change, and recognising one is a
// compare against the ping as the decoder returns it. Nothing here allocates per connection or per ping.
//
// Why the ping does not go through the connection's FrameWriter: the FrameWriter reuses one scratch buffer and allows
// one call at a time, and the application may be inside a FrameWriter call on another thread when the idle report
// comes. Writing these fixed bytes straight to the StreamWriter, on the loop thread, touches nothing the application
// owns. It cannot land inside a frame: on the loop thread the application's frames are written synchronously (so an
// idle report runs before or after one, never during), and from other threads a frame is one outbox entry, which
// the StreamWriter replays whole before the ping.

/// <summary>A heartbeat's ping frame for one format: its bytes on the wire, its decoded form, and the idle callback that sends it.</summary>
/// <remarks>Immutable; shared by every connection set up with it, on any loop.</remarks>
internal sealed class HeartbeatPing
{
    // The whole ping frame as sent.
    private readonly byte[] _wire;

    // The ping as a FrameDecoder of the format returns it (type, and payload after stripping), to recognise received pings.
    private readonly uint _receivedType;
    private readonly byte[] _receivedPayload;

    // A callback of the user's that hears every idle report after the ping is handled; null when there is none.
    private readonly Action<StreamWriter, IdleEvent>? _next;

    /// <summary>Encodes the ping of <paramref name="options"/> in <paramref name="format"/>.</summary>
    /// <param name="options">The heartbeat; validated here.</param>
    /// <param name="format">The connection's frame layout.</param>
    /// <param name="parameterName">The heartbeat argument's name, for exceptions; null when the options are the instance called.</param>
    /// <param name="next">A user's idle callback to run after the ping is handled, or null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting of <paramref name="options"/> is out of range.</exception>
    /// <exception cref="ArgumentException">The ping cannot be framed in <paramref name="format"/>.</exception>
    public HeartbeatPing(HeartbeatOptions options, LengthFieldFormat format, string? parameterName, Action<StreamWriter, IdleEvent>? next = null)
    {
        options.Validate(parameterName);
        Options = options;
        Format = format;
        _next = next;
        try
        {
            _wire = new FrameEncoder(format).Encode(options.PingType, options.PingPayload.Span);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException(
                $"The heartbeat's ping (type {options.PingType}, {options.PingPayload.Length} payload bytes) cannot be framed in the format {format}: {ex.Message}",
                parameterName,
                ex);
        }

        var wire = new ReadOnlySequence<byte>(_wire);
        bool decoded = new FrameDecoder(format).TryDecode(ref wire, out Frame frame);
        Debug.Assert(decoded && wire.IsEmpty, "A frame the encoder wrote decodes whole");
        _receivedType = frame.Type;
        _receivedPayload = frame.Payload.ToArray();
        SendOnIdle = Send;
    }

    /// <summary>The heartbeat this ping belongs to.</summary>
    public HeartbeatOptions Options { get; }

    /// <summary>The format the ping is encoded in.</summary>
    public LengthFieldFormat Format { get; }

    /// <summary>The ping frame's bytes, as sent.</summary>
    public ReadOnlyMemory<byte> Wire => _wire;

    /// <summary>The idle callback (one cached delegate): sends the ping on a write-idle report, then calls the user's callback, if any.</summary>
    public Action<StreamWriter, IdleEvent> SendOnIdle { get; }

    /// <summary>Whether a received frame is a ping: its type and payload are the ping's, as decoded.</summary>
    /// <param name="frame">A frame a <see cref="FrameDecoder"/> of <see cref="Format"/> returned.</param>
    /// <returns><see langword="true"/> for a ping.</returns>
    public bool IsPing(in Frame frame)
    {
        if (frame.Type != _receivedType)
        {
            return false;
        }

        ReadOnlySequence<byte> payload = frame.Payload;
        if (payload.Length != _receivedPayload.Length)
        {
            return false;
        }

        if (payload.IsSingleSegment)
        {
            return payload.FirstSpan.SequenceEqual(_receivedPayload);
        }

        ReadOnlySpan<byte> expected = _receivedPayload;
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            if (!segment.Span.SequenceEqual(expected[..segment.Length]))
            {
                return false;
            }

            expected = expected[segment.Length..];
        }

        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => $"HeartbeatPing({_wire.Length} bytes: {Convert.ToHexString(_wire, 0, Math.Min(_wire.Length, 16))}{(_wire.Length > 16 ? "..." : string.Empty)}; {Options})";

    /// <summary>The idle report (loop thread): a write-idle one sends the ping, unless the rules say not to.</summary>
    private void Send(StreamWriter writer, IdleEvent idle)
    {
        if (idle.Kind == IdleKind.Write && !writer.IsClosing && writer.Transport.WriteBufferSize == 0)
        {
            // Bytes still queued mean the peer is not reading: they reach it before a ping could, and pings would
            // only pile up behind them. So write only into an empty buffer; the next report looks again.
            try
            {
                writer.Write(_wire);
            }
            catch (InvalidOperationException)
            {
                // The sending side was half-closed from another thread, and the idle timer has not seen it yet: there
                // is nothing left to ping with.
            }
        }

        _next?.Invoke(writer, idle);
    }
}
