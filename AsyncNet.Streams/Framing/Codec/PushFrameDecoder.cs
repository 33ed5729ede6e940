using System.Buffers;
using System.Diagnostics;
using System.Globalization;

namespace AsyncNet.Streams.Framing.Codec;

// Maintainer's overview. A FrameDecoder that owns its buffer, for callers who bring their own I/O and receive bytes in
// chunks. It does not re-implement decoding: every decision (fail fast, faults, discarding an oversized frame, the fast
// path) is FrameDecoder's, run over a sequence of at most two segments: the bytes kept from earlier chunks, then the
// chunk just fed. So the two decoders agree by construction, and the properties check that they do.
//
//   Feed(chunk)          Drained -> Reading   (compacts the kept bytes; frames of the previous chunk become invalid)
//   TryReadFrame: frame  Reading -> Reading   (a slice of the kept bytes and/or the chunk: no copy)
//   TryReadFrame: false  Reading -> Drained   (copies the chunk's unconsumed tail behind the kept bytes)
//   a fault              Reading -> Faulted   (until Reset; an oversized frame with discarding stays Reading)
//
// Invariants. Between chunks the decoder keeps exactly the bytes FrameDecoder did not consume: an incomplete header
// (fewer than MaxHeaderLength bytes) or an incomplete frame (fewer than MaxFrameLength), never a whole frame and never
// bytes of a frame being discarded. Frames handed out during a chunk point into the kept buffer before _keptEnd or into
// the chunk, so copying the tail behind _keptEnd, or into a new buffer, leaves them intact; the old buffer goes back
// to the pool only at the next Feed, when those frames are no longer valid.

/// <summary>
/// Splits a byte stream fed in chunks into frames of a <see cref="LengthFieldFormat"/>: it keeps what is incomplete
/// (at most one frame, bounded by the format's maximum) in a pooled buffer of its own, and returns whole frames as
/// slices, without copying them. For callers that receive bytes themselves and do not want to manage a buffer
/// around <see cref="FrameDecoder"/>.
/// </summary>
/// <remarks>
/// <para>Use it as a receive loop does:</para>
/// <code>
/// using var decoder = new PushFrameDecoder(format);
/// while ((int received = socket.Receive(chunk)) &gt; 0)
/// {
///     decoder.Feed(chunk.AsMemory(0, received));
///     while (decoder.TryReadFrame(out Frame frame))
///     {
///         Handle(frame);                    // frame.Payload is valid until the next Feed
///     }
/// }
/// bool clean = decoder.IsAtFrameBoundary;   // false: the stream ended inside a frame
/// </code>
/// <para>
/// Lifetime: a frame's payload is a slice of the chunk it was completed by, of the decoder's own buffer, or of both.
/// It is valid until the next call to <see cref="Feed"/>, <see cref="Reset"/> or <see cref="Dispose"/>; after that
/// call the payload must not be read, since its memory may be overwritten or reused. Copy it
/// (<c>Payload.ToArray()</c>) to keep it longer. The chunk given to <see cref="Feed"/> must not be changed while its
/// frames are in use: the decoder reads it until <see cref="TryReadFrame"/> returns <see langword="false"/>, and by
/// then has copied what it keeps of it.
/// </para>
/// <para>
/// Contract: after each <see cref="Feed"/>, call <see cref="TryReadFrame"/> until it returns <see langword="false"/>
/// (or throws a fault that stops decoding) before the next <see cref="Feed"/>; feeding earlier throws
/// <see cref="InvalidOperationException"/>, because frames of the previous chunk would be lost. One caller at a
/// time: not thread-safe. Steady state allocates nothing: no allocation per frame or per chunk once the buffer has
/// grown to the largest incomplete frame seen.
/// </para>
/// <para>
/// Faults follow <see cref="FrameDecoder"/>'s rules exactly. A declared length over
/// <see cref="LengthFieldFormat.MaxFrameLength"/> throws <see cref="FrameTooLargeException"/> as soon as the header
/// is readable, before any of the payload is kept; a negative or too-short length throws
/// <see cref="CorruptFrameException"/> likewise; a wrong checksum throws <see cref="ChecksumMismatchException"/> once
/// the frame is whole. Frames are returned one per call, so every frame before a fault has been returned when it is
/// thrown. Afterwards the decoder is faulted (<see cref="Feed"/> and <see cref="TryReadFrame"/> throw
/// <see cref="InvalidOperationException"/> until <see cref="Reset"/>), except after an oversized frame when the
/// format sets <see cref="LengthFieldFormat.DiscardOversizedFrames"/>: then the next calls to
/// <see cref="TryReadFrame"/> skip exactly that frame's bytes, across as many chunks as it spans, keeping none of
/// them, and go on with the next frame.
/// </para>
/// </remarks>
public sealed class PushFrameDecoder : IDisposable
{
    /// <summary>A buffer this large or smaller is kept for the next incomplete frame; a larger one is returned when empty.</summary>
    private const int RetainedCapacity = 4096;

    private readonly FrameDecoder _decoder;
    private readonly ArrayPool<byte> _pool;
    private readonly ChunkSegment _keptSegment = new();
    private readonly ChunkSegment _chunkSegment = new();

    // The largest number of bytes ever kept: an incomplete header or frame (see the overview's invariants).
    private readonly int _keepLimit;

    // _kept[_keptStart.._keptEnd) are the bytes kept from earlier chunks. Between chunks they are the incomplete frame;
    // while a chunk is read they are the sequence's first segment (after Feed compacted them, _keptStart is 0).
    private byte[] _kept = [];
    private int _keptStart;
    private int _keptEnd;

    // A buffer replaced by a larger one while frames may still point into it: back to the pool at the next Feed.
    private byte[]? _retired;

    // The chunk being read, and what of the kept bytes and the chunk the decoder has not consumed yet.
    private ReadOnlyMemory<byte> _chunk;
    private ReadOnlySequence<byte> _unread;

    // Drained:  no chunk is being read; Feed may be called; the kept bytes are the incomplete frame.
    // Reading:  a chunk was fed and TryReadFrame has not returned false yet; Feed throws.
    // Faulted:  a fault stopped decoding; _fault says which; everything but Reset and Dispose throws.
    // Disposed: the buffers went back to the pool; everything throws ObjectDisposedException.
    private DecoderState _state;
    private Exception? _fault;

    /// <summary>Creates a decoder for a format.</summary>
    /// <param name="format">The frame layout.</param>
    /// <param name="pool">Where the decoder rents its buffer. The default (<see langword="null"/>) is <see cref="ArrayPool{T}.Shared"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="format"/> is null.</exception>
    public PushFrameDecoder(LengthFieldFormat format, ArrayPool<byte>? pool = null)
    {
        ArgumentNullException.ThrowIfNull(format);
        _decoder = new FrameDecoder(format);
        _pool = pool ?? ArrayPool<byte>.Shared;
        _keepLimit = (int)Math.Min(Math.Max(format.MaxFrameLength, format.MaxHeaderLength), Array.MaxLength);
    }

    private enum DecoderState
    {
        Drained,
        Reading,
        Faulted,
        Disposed,
    }

    /// <summary>The format this decoder reads.</summary>
    public LengthFieldFormat Format => _decoder.Format;

    /// <summary>
    /// The bytes fed and not yet returned in a frame or skipped: between chunks, those of the incomplete frame the
    /// decoder keeps (always fewer than the larger of <see cref="LengthFieldFormat.MaxFrameLength"/> and
    /// <see cref="LengthFieldFormat.MaxHeaderLength"/>); while a chunk is read, also the chunk's unread rest; after a
    /// fault, the bytes from the bad frame's first byte on.
    /// </summary>
    public long BufferedBytes => _state is DecoderState.Reading or DecoderState.Faulted ? _unread.Length : _keptEnd - _keptStart;

    /// <summary>
    /// How many more bytes the decoder needs before <see cref="TryReadFrame"/> can make progress: the rest of the
    /// header while waiting for one (one byte at a time inside a varint), the rest of the frame once its header is
    /// read, 1 while discarding an oversized frame; 0 while a chunk's frames are still being read.
    /// </summary>
    public long BytesNeeded => _state == DecoderState.Reading ? 0 : Math.Max(0, _decoder.BytesNeeded - (_keptEnd - _keptStart));

    /// <summary>Whether the decoder is skipping an oversized frame (see <see cref="LengthFieldFormat.DiscardOversizedFrames"/>).</summary>
    public bool IsDiscarding => _decoder.IsDiscarding;

    /// <summary>Whether a fault stopped decoding; <see cref="Reset"/> clears it.</summary>
    public bool IsFaulted => _state == DecoderState.Faulted;

    /// <summary>
    /// Whether the decoder stands between frames: no byte of a frame is kept, none is half read and none is being
    /// skipped. At the end of a stream, <see langword="false"/> means the stream was cut inside a frame.
    /// </summary>
    public bool IsAtFrameBoundary => _state != DecoderState.Faulted && _decoder.IsAtFrameBoundary && BufferedBytes == 0;

    /// <summary>
    /// Hands the decoder the next chunk of the stream; then call <see cref="TryReadFrame"/> until it returns
    /// <see langword="false"/>. Frames returned before this call become invalid.
    /// </summary>
    /// <param name="chunk">The bytes that arrived, possibly empty; they must not change while frames from them are in use.</param>
    /// <exception cref="InvalidOperationException">
    /// The frames of the previous chunk have not all been read (<see cref="TryReadFrame"/> has not returned
    /// <see langword="false"/> since the last call), or the decoder is faulted (the inner exception is the fault).
    /// </exception>
    /// <exception cref="ObjectDisposedException">The decoder was disposed.</exception>
    public void Feed(ReadOnlyMemory<byte> chunk)
    {
        switch (_state)
        {
            case DecoderState.Reading:
                throw new InvalidOperationException(
                    "The previous chunk still holds frames: call TryReadFrame until it returns false before feeding the next chunk.");
            case DecoderState.Faulted:
                throw FaultedException();
            case DecoderState.Disposed:
                throw new ObjectDisposedException(nameof(PushFrameDecoder));
        }

        // Frames of the previous chunk are now invalid: their memory may be reused.
        ReturnRetired();
        int kept = _keptEnd - _keptStart;
        if (_keptStart != 0)
        {
            _kept.AsSpan(_keptStart, kept).CopyTo(_kept); // overlapping moves are safe with Span.CopyTo
            _keptStart = 0;
            _keptEnd = kept;
        }

        _chunk = chunk;
        if (kept == 0)
        {
            _unread = new ReadOnlySequence<byte>(chunk);
        }
        else if (chunk.IsEmpty)
        {
            _unread = new ReadOnlySequence<byte>(_kept, 0, kept);
        }
        else
        {
            _keptSegment.Set(_kept.AsMemory(0, kept), 0, _chunkSegment);
            _chunkSegment.Set(chunk, kept, null);
            _unread = new ReadOnlySequence<byte>(_keptSegment, 0, _chunkSegment, chunk.Length);
        }

        _state = DecoderState.Reading;
    }

    /// <summary>
    /// Returns the next whole frame of the bytes fed so far, or <see langword="false"/> when the chunk fed last holds no
    /// more (the decoder then keeps its incomplete rest and is ready for the next <see cref="Feed"/>).
    /// </summary>
    /// <param name="frame">The frame, whose payload is valid until the next <see cref="Feed"/>, <see cref="Reset"/> or <see cref="Dispose"/>; default when none.</param>
    /// <returns>Whether a frame was returned.</returns>
    /// <exception cref="FrameTooLargeException">The next frame's header declares a frame over the maximum.</exception>
    /// <exception cref="CorruptFrameException">The next frame's length field is negative, an overlong varint, or too short for the format.</exception>
    /// <exception cref="ChecksumMismatchException">The next frame's checksum trailer does not match its bytes.</exception>
    /// <exception cref="InvalidOperationException">The decoder is faulted by an earlier exception (the inner exception).</exception>
    /// <exception cref="ObjectDisposedException">The decoder was disposed.</exception>
    public bool TryReadFrame(out Frame frame)
    {
        switch (_state)
        {
            case DecoderState.Drained:
                frame = default;
                return false;
            case DecoderState.Faulted:
                throw FaultedException();
            case DecoderState.Disposed:
                throw new ObjectDisposedException(nameof(PushFrameDecoder));
        }

        bool decoded;
        try
        {
            decoded = _decoder.TryDecode(ref _unread, out frame);
        }
        catch (InvalidFrameException fault) when (!_decoder.IsDiscarding)
        {
            // An oversized frame with discarding leaves the decoder Reading: the next call skips it.
            _state = DecoderState.Faulted;
            _fault = fault;
            throw;
        }

        if (!decoded)
        {
            KeepUnread();
            _state = DecoderState.Drained;
        }

        return decoded;
    }

    /// <summary>
    /// Forgets the kept bytes, any partly read or discarded frame and any fault: the next chunk must start at a frame
    /// boundary. Frames returned earlier become invalid.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The decoder was disposed.</exception>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_state == DecoderState.Disposed, this);
        _decoder.Reset();
        _keptStart = 0;
        _keptEnd = 0;
        _unread = default;
        _chunk = default;
        _fault = null;
        _state = DecoderState.Drained;
    }

    /// <summary>Returns the decoder's buffers to the pool; frames returned earlier become invalid. Idempotent.</summary>
    public void Dispose()
    {
        if (_state == DecoderState.Disposed)
        {
            return;
        }

        _state = DecoderState.Disposed;
        ReturnRetired();
        if (_kept.Length != 0)
        {
            _pool.Return(_kept);
        }

        _kept = [];
        _keptStart = 0;
        _keptEnd = 0;
        _unread = default;
        _chunk = default;
    }

    /// <summary>Shows the decoder's live state, e.g. "Drained, Buffered=3, Header, BytesNeeded=4".</summary>
    /// <returns>The description.</returns>
    public override string ToString() => _state switch
    {
        DecoderState.Faulted => $"Faulted ({_fault?.GetType().Name})",
        DecoderState.Disposed => "Disposed",
        _ => string.Create(CultureInfo.InvariantCulture, $"{_state}, Buffered={BufferedBytes}, {_decoder}"),
    };

    /// <summary>At the end of a chunk: keeps what the decoder did not consume, copying the chunk's part of it behind the kept bytes.</summary>
    private void KeepUnread()
    {
        long unread = _unread.Length;
        int fromChunk = (int)Math.Min(unread, _chunk.Length);
        int fromKept = (int)(unread - fromChunk);
        Debug.Assert(unread < _keepLimit || unread < _decoder.Format.MaxHeaderLength, "Only an incomplete header or frame is ever kept.");

        // The kept bytes still unconsumed are the last fromKept of _kept[0.._keptEnd): FrameDecoder consumes from the front.
        int start = _keptEnd - fromKept;
        if (fromChunk == 0)
        {
            _keptStart = start;
            if (unread == 0 && _kept.Length > RetainedCapacity)
            {
                // Nothing is kept: a large buffer goes back (after the frames pointing into it are done with).
                Retire();
                _kept = [];
                _keptStart = 0;
                _keptEnd = 0;
            }
        }
        else if (_keptEnd + fromChunk <= _kept.Length)
        {
            // Behind _keptEnd nothing handed out can point, so the copy leaves every returned frame intact.
            _chunk.Span[^fromChunk..].CopyTo(_kept.AsSpan(_keptEnd));
            _keptStart = start;
            _keptEnd += fromChunk;
        }
        else
        {
            int needed = fromKept + fromChunk;
            int capacity = (int)Math.Min(Math.Max((long)needed, Math.Max(2L * _kept.Length, 256)), Math.Max(needed, _keepLimit));
            byte[] larger = _pool.Rent(capacity);
            _kept.AsSpan(start, fromKept).CopyTo(larger);
            _chunk.Span[^fromChunk..].CopyTo(larger.AsSpan(fromKept));
            Retire();
            _kept = larger;
            _keptStart = 0;
            _keptEnd = needed;
        }

        _unread = default;
        _chunk = default;
    }

    /// <summary>Sets the kept buffer aside until the next Feed: frames of the current chunk may point into it.</summary>
    private void Retire()
    {
        Debug.Assert(_retired is null, "One buffer is retired per chunk at most, and Feed returns it.");
        if (_kept.Length != 0)
        {
            _retired = _kept;
        }
    }

    private void ReturnRetired()
    {
        if (_retired is not null)
        {
            _pool.Return(_retired);
            _retired = null;
        }
    }

    private InvalidOperationException FaultedException() => new(
        "The decoder stopped at a corrupt frame and the stream is out of step; close the connection, or call Reset and start over at a frame boundary.",
        _fault);

    /// <summary>A reusable segment: the kept bytes or the chunk, relinked at every Feed (frames of older chunks are invalid by then).</summary>
    private sealed class ChunkSegment : ReadOnlySequenceSegment<byte>
    {
        public void Set(ReadOnlyMemory<byte> memory, long runningIndex, ChunkSegment? next)
        {
            Memory = memory;
            RunningIndex = runningIndex;
            Next = next;
        }
    }
}
