using System.Buffers;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using AsyncNet.Streams.Diagnostics;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Framing;

// Maintainer's overview. ReadFrameAsync first tries the fast path: a whole, valid frame at the start of the first
// buffered array (the common case of small frames arriving together), decoded in place within the reader's immediate
// read, which skips the waiting machinery. Everything else (no whole frame there, a ping, a fault) is one buffered
// read of the StreamReader (StreamReader.Buffered.cs) whose attempt, TryReadFrame, peeks at the buffered bytes, lets
// the FrameDecoder find the next frame in place, consumes the frame's bytes (they stay in memory until the next read
// starts, so the payload slice stays valid) and returns it, or tells the reader how many bytes the decoder needs
// before it is worth trying again. The decoder keeps its own state across tries and across cancelled calls: it never
// advances past bytes it has not consumed, so a cancelled call leaves both the buffer and the decoder where the next
// call expects them. The fast path changes no decoder state, and consumes only the frame it returns.
//
// Faults: the decoder throws only at the frame where the fault is, after returning every earlier frame. A fault that
// leaves the decoder faulted (everything but an oversized frame in a discarding format) is remembered, closes the
// connection, and is thrown again by every later call.
//
// Heartbeats: with a heartbeat that hides pings, the attempt decodes on past each ping and consumes it at once. Consuming
// each ping as it is skipped keeps the buffer in step with the decoder (which has moved past it) also when a later
// frame of the same attempt throws, since a throwing TryDecode consumes nothing.

/// <summary>
/// Reads length-prefixed frames of a <see cref="LengthFieldFormat"/> from a <see cref="StreamReader"/>, without copying
/// their payloads.
/// </summary>
/// <remarks>
/// <para>
/// The payload of a returned frame lies in the reader's receive buffers (a slice of one array, or a sequence over
/// several when the frame arrived in pieces). It is valid until the next <see cref="ReadFrameAsync"/> call, or any
/// other read of the <see cref="Reader"/>: copy it (<c>frame.Payload.ToArray()</c>) to keep it longer. Reading a frame
/// allocates nothing once the reader has warmed up.
/// </para>
/// <para>
/// One read at a time, as for the <see cref="StreamReader"/> itself: a call made while another call (or any read of
/// the reader) has not finished throws <see cref="InvalidOperationException"/>. A cancelled call consumes nothing:
/// the next call returns the whole frame.
/// </para>
/// <para>
/// Faults: every frame completed before a bad one is returned first; then the call fails
/// with the decoder's <see cref="InvalidFrameException"/> (<see cref="FrameTooLargeException"/>,
/// <see cref="CorruptFrameException"/> or <see cref="ChecksumMismatchException"/>), the connection is closed (what was
/// written is flushed first), and every later call fails with the same exception. The exception: an oversized frame
/// in a format that sets <see cref="LengthFieldFormat.DiscardOversizedFrames"/> fails one call, and the next calls skip
/// exactly that frame and go on; the connection stays open.
/// </para>
/// <para>
/// Heartbeats: made with a <see cref="HeartbeatOptions"/> whose <see cref="HeartbeatOptions.HidePings"/> is set (as
/// <see cref="FramedEndpoints"/> does), the reader skips received pings: they never come out of
/// <see cref="ReadFrameAsync"/>, and <see cref="PingsSkipped"/> counts them. A skipped ping is consumed even by a call
/// that is then cancelled; it carries nothing to lose.
/// </para>
/// <para>
/// Metrics (the "AsyncNet" meter): every frame returned counts in <c>asyncnet.frames.decoded</c>, every rejected one in
/// <c>asyncnet.frames.rejected</c> with its <c>reason</c> (<c>too_large</c>, <c>corrupt</c> or <c>checksum</c>); a
/// rejection thrown again by a later call is not counted again.
/// </para>
/// </remarks>
public sealed class FrameReader
{
    private static readonly StreamReader.BufferedAttempt<Frame?> s_tryReadFrame = TryReadFrame;

    private readonly StreamReader _reader;
    private readonly LengthFieldFormat _format;
    private readonly FrameDecoder _decoder;
    private readonly PendingRead<Frame?> _pending;

    // The ping to skip (a heartbeat that hides pings), or null: every frame is returned.
    private readonly HeartbeatPing? _hiddenPing;
    private long _pingsSkipped;

    // Frames ReadFrameAsync returned through its fast path (tests: the buffered read returns the same frames).
    private long _fastPathFrames;

    // The fault that ended the stream for this reader (null until then); every later call throws it again.
    private ExceptionDispatchInfo? _fault;

    /// <summary>Creates a frame reader over <paramref name="reader"/>.</summary>
    /// <param name="reader">
    /// The stream to read. Other reads of it may come between frames (a protocol that switches to raw bytes, say): they
    /// start right after the last frame returned, and end that frame's payload.
    /// </param>
    /// <param name="format">The frame layout.</param>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> or <paramref name="format"/> is null.</exception>
    public FrameReader(StreamReader reader, LengthFieldFormat format)
        : this(reader, format, hiddenPing: null)
    {
    }

    /// <summary>Creates a frame reader over <paramref name="reader"/> that skips the pings of <paramref name="heartbeat"/> if it hides them.</summary>
    /// <param name="reader">The stream to read, as for <see cref="FrameReader(StreamReader, LengthFieldFormat)"/>.</param>
    /// <param name="format">The frame layout.</param>
    /// <param name="heartbeat">
    /// The connection's heartbeat: with <see cref="HeartbeatOptions.HidePings"/> set, received frames equal to its ping
    /// are skipped (see <see cref="HeartbeatOptions"/> for what a ping is). <see langword="null"/>, or a heartbeat that
    /// does not hide pings, reads every frame.
    /// </param>
    /// <remarks>This only reads; the pings are sent, and the deadline kept, by the connection's idle options (<see cref="HeartbeatOptions.ToIdleOptions"/>).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> or <paramref name="format"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting of <paramref name="heartbeat"/> is out of range.</exception>
    /// <exception cref="ArgumentException">The heartbeat's ping cannot be framed in <paramref name="format"/>.</exception>
    public FrameReader(StreamReader reader, LengthFieldFormat format, HeartbeatOptions? heartbeat)
        : this(reader, format, PingToHide(heartbeat, format))
    {
    }

    private FrameReader(StreamReader reader, LengthFieldFormat format, HeartbeatPing? hiddenPing)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(format);
        _reader = reader;
        _format = format;
        _decoder = new FrameDecoder(format);
        _pending = reader.CreatePendingRead<Frame?>();
        _hiddenPing = hiddenPing;
    }

    /// <summary>The frame layout read.</summary>
    public LengthFieldFormat Format => _format;

    /// <summary>The stream the frames are read from.</summary>
    public StreamReader Reader => _reader;

    /// <summary>How many received pings this reader has skipped (see <see cref="HeartbeatOptions.HidePings"/>); 0 when it hides none.</summary>
    /// <remarks>Updated by the reads: read it where the frames are read, or after they are done.</remarks>
    public long PingsSkipped => _pingsSkipped;

    /// <summary>How many frames <see cref="ReadFrameAsync"/> returned through its fast path (tests).</summary>
    internal long FastPathFrames => _fastPathFrames;

    /// <summary>Reads the next frame.</summary>
    /// <param name="cancellationToken">Cancels the wait; a cancelled call consumes nothing (but the pings it skipped), and the next call returns the whole frame.</param>
    /// <returns>
    /// The frame, whose payload is valid until the next call (see the remarks on <see cref="FrameReader"/>); or
    /// <see langword="null"/> when the stream ended cleanly, on a frame boundary. Completes synchronously when the
    /// frame is already buffered.
    /// </returns>
    /// <remarks>
    /// Failures come through the returned task: <see cref="IncompleteReadException"/> when the stream ends inside a
    /// frame (its <see cref="IncompleteReadException.Partial"/> holds the frame's bytes received, and
    /// <see cref="IncompleteReadException.Expected"/> how many the decoder was waiting for; the next call returns
    /// <see langword="null"/>); an <see cref="InvalidFrameException"/> for bad input (see the type's remarks); the
    /// error the connection was lost with: <see cref="Errors.ConnectionResetException"/> when the peer reset it (also in
    /// the middle of a frame), <see cref="Transports.IdleTimeoutException"/> when a heartbeat's deadline passed, or another
    /// <see cref="Errors.NetworkException"/>. As for every read of the <see cref="StreamReader"/>, that error is thrown as
    /// soon as the connection is lost, before frames that had arrived whole but were not read yet: a reader that keeps up
    /// (a call waiting as the bytes arrive) gets every whole frame first.
    /// </remarks>
    /// <exception cref="InvalidOperationException">Another read of the reader is in progress.</exception>
    public ValueTask<Frame?> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        if (!cancellationToken.IsCancellationRequested && _fault is null && TryReadWholeInFirstArray(out Frame frame))
        {
            return new ValueTask<Frame?>(frame);
        }

        return _reader.ReadBufferedAsync(_pending, s_tryReadFrame, this, cancellationToken);
    }

    /// <summary>Reads the next frame if it is already buffered whole; never waits.</summary>
    /// <param name="frame">The frame, when this returns <see langword="true"/>; its payload is valid until the next read, as for <see cref="ReadFrameAsync"/>.</param>
    /// <returns>
    /// <see langword="true"/> with the next frame; <see langword="false"/> when no whole frame is buffered, or the stream
    /// has ended or failed: <see cref="ReadFrameAsync"/> then waits for the next frame, or reports the end or the failure.
    /// </returns>
    /// <remarks>
    /// For handlers that answer every frame that arrived together and then wait once: write each frame this returns
    /// and drain after the last, instead of awaiting a read and a drain per frame (a read of a buffered frame completes
    /// synchronously either way, but a batch skips the per-frame awaits). Pings are skipped as by
    /// <see cref="ReadFrameAsync"/>.
    /// </remarks>
    /// <exception cref="InvalidFrameException">The next frame is malformed, as <see cref="ReadFrameAsync"/> reports it (the connection is closed, and later calls fail the same way).</exception>
    /// <exception cref="InvalidOperationException">Another read of the reader is in progress.</exception>
    public bool TryReadFrame(out Frame frame)
    {
        _fault?.Throw();
        if (TryReadWholeInFirstArray(out frame))
        {
            return true;
        }

        if (!_reader.TryBeginRead())
        {
            // Nothing to read now, or the stream ended or failed: ReadFrameAsync says which.
            return false;
        }

        bool decoded = false;
        try
        {
            decoded = TryDecodeBuffered(_reader, out frame, out _, out _);
        }
        finally
        {
            _reader.EndImmediateRead(0);
        }

        if (decoded)
        {
            StreamsMeter.FrameDecoded();
        }

        return decoded;
    }

    /// <summary>Shows the decoder's state and the reader's, e.g. "FrameReader(Header, BytesNeeded=4; StreamReader(Buffered=0, ...))".</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        string decoder = _fault is { } fault ? $"Faulted ({fault.SourceException.GetType().Name})" : _decoder.ToString();
        string pings = _hiddenPing is null ? string.Empty : $", PingsSkipped={_pingsSkipped}";
        return $"FrameReader({decoder}{pings}; {_reader})";
    }

    /// <summary>A reader that skips <paramref name="hiddenPing"/>'s pings (shared by a server's connections), or none.</summary>
    internal static FrameReader Create(StreamReader reader, LengthFieldFormat format, HeartbeatPing? hiddenPing)
    {
        Debug.Assert(hiddenPing is null || hiddenPing.Format == format, "The ping is encoded in the reader's format");
        return new FrameReader(reader, format, hiddenPing);
    }

    /// <summary>The ping a reader made with <paramref name="heartbeat"/> skips, or null; validates the heartbeat either way.</summary>
    private static HeartbeatPing? PingToHide(HeartbeatOptions? heartbeat, LengthFieldFormat format)
    {
        heartbeat?.Validate(nameof(heartbeat));
        return heartbeat is { HidePings: true } && format is not null ? new HeartbeatPing(heartbeat, format, nameof(heartbeat)) : null;
    }

    /// <summary>
    /// The fast path of both reads: a whole, valid frame at the start of the first buffered array (small frames
    /// arriving together), decoded in place within an immediate read, which skips the waiting machinery. Anything else
    /// (a frame across arrays, a ping to skip, a fault, a read in progress) is left to the general path.
    /// </summary>
    private bool TryReadWholeInFirstArray(out Frame frame)
    {
        if (_reader.TryBeginImmediateRead(out byte[]? array, out int start, out int length))
        {
            if (_decoder.TryDecodeWhole(array.AsSpan(start, length), out uint type, out int payloadStart, out int payloadLength, out int frameLength))
            {
                frame = new Frame(type, new ReadOnlySequence<byte>(array, start + payloadStart, payloadLength), headerInPlace: payloadStart);
                if (_hiddenPing is null || !_hiddenPing.IsPing(frame))
                {
                    _reader.EndImmediateRead(frameLength);
                    StreamsMeter.FrameDecoded();
                    _fastPathFrames++;
                    return true;
                }
            }

            _reader.EndImmediateRead(0);
        }

        frame = default;
        return false;
    }

    /// <summary>The buffered read's attempt: decode the next frame in place, or say how many bytes are needed.</summary>
    private static bool TryReadFrame(StreamReader reader, object? state, out Frame? result, out long needed)
    {
        var self = (FrameReader)state!;
        needed = 0;
        if (self.TryDecodeBuffered(reader, out Frame frame, out ReadOnlySequence<byte> rest, out bool eof))
        {
            StreamsMeter.FrameDecoded();
            result = frame;
            return true;
        }

        result = null;
        if (eof)
        {
            if (rest.IsEmpty && self._decoder.IsAtFrameBoundary)
            {
                return true;
            }

            throw self.Truncated(reader, rest);
        }

        needed = self._decoder.BytesNeeded;
        Debug.Assert(needed > rest.Length, "A decoder that returns no frame needs more than it was given");
        return false;
    }

    /// <summary>
    /// Decodes the next frame from the buffered bytes in place, within a read in progress, and consumes its bytes (they
    /// stay in memory until the next read), the pings skipped before it, and the bytes of an oversized frame skipped.
    /// </summary>
    /// <param name="reader">The reader, whose read is the caller's.</param>
    /// <param name="frame">The frame, when decoded.</param>
    /// <param name="rest">The buffered bytes after what was consumed.</param>
    /// <param name="eof">Whether the stream has ended.</param>
    /// <returns>Whether a frame was decoded. A malformed frame throws (and faults this reader, unless it is being skipped).</returns>
    private bool TryDecodeBuffered(StreamReader reader, out Frame frame, out ReadOnlySequence<byte> rest, out bool eof)
    {
        _fault?.Throw();
        FrameDecoder decoder = _decoder;
        ReadOnlySequence<byte> buffered = reader.PeekBuffered(out eof);
        rest = buffered;
        bool decoded;
        try
        {
            decoded = decoder.TryDecode(ref rest, out frame);
            if (_hiddenPing is { } ping)
            {
                while (decoded && ping.IsPing(frame))
                {
                    // Consumed at once, so a throw from a later frame of this try leaves the buffer where the decoder is.
                    _pingsSkipped++;
                    reader.Consume(buffered.Length - rest.Length);
                    buffered = rest;
                    decoded = decoder.TryDecode(ref rest, out frame);
                }
            }
        }
        catch (InvalidFrameException ex)
        {
            StreamsMeter.FrameRejected(ex);

            // Not for an oversized frame being discarded: that one fails this call only, and the next skips it.
            if (decoder.IsFaulted)
            {
                _fault = ExceptionDispatchInfo.Capture(ex);
                reader.CloseConnection();
            }

            throw;
        }

        long consumed = buffered.Length - rest.Length;
        if (consumed != 0)
        {
            reader.Consume(consumed);
        }

        if (decoded && consumed <= buffered.First.Length && frame.Payload.IsSingleSegment)
        {
            // The whole frame lies in one array, its header just before its payload: a writer may forward it in place.
            frame = new Frame(frame.Type, frame.Payload, headerInPlace: (int)(consumed - frame.Payload.Length) - _format.ChecksumLength);
        }

        return decoded;
    }

    /// <summary>The stream ended inside a frame: hand over its bytes, start afresh at the (empty) end.</summary>
    private IncompleteReadException Truncated(StreamReader reader, in ReadOnlySequence<byte> rest)
    {
        bool discarding = _decoder.IsDiscarding;
        long expected = _decoder.BytesNeeded;
        byte[] partial = rest.ToArray();
        reader.Consume(rest.Length);
        _decoder.Reset();
        return discarding
            ? new IncompleteReadException("The stream ended inside an oversized frame that was being skipped.")
            : new IncompleteReadException(partial, expected <= int.MaxValue ? (int)expected : null);
    }
}
