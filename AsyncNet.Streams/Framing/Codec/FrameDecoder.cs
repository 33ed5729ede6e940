using System.Buffers;
using System.Diagnostics;
using System.Globalization;

namespace AsyncNet.Streams.Framing.Codec;

// Maintainer's overview. The decoder is a tiny state machine (Header, Payload, Discarding, and Faulted) over the
// caller's buffer; it owns no memory and does no I/O, so FrameReader (over a StreamReader) and the Dataflow
// decoder block are thin loops around TryDecode. The caller hands back, on every call, the bytes not yet consumed
// plus whatever arrived since:
//
//   Header     -- header readable, checked --> Payload     (fail fast: length faults throw here)
//   Payload    -- whole frame buffered      --> Header      (returns the frame; checksum faults throw here)
//   Header     -- oversized, discarding     --> Discarding  (throws FrameTooLargeException first)
//   Discarding -- oversized frame skipped   --> Header
//   any        -- corrupt input             --> Faulted     (until Reset)
//
// The buffer is advanced only past a returned frame or past skipped bytes, never past a frame's end, and never
// when an exception is thrown.
//
// TryDecode first tries a fast path: a fixed-size header and the whole frame in the buffer's first segment, with a
// good length and checksum, go Header -> Header in one step without touching the state fields. Everything else
// (frames across segments, varints, any fault) falls through to the state machine in TryDecodeGeneral, which reads
// the header again, so the fast path never has to report anything.

/// <summary>
/// Splits a byte stream into frames of a <see cref="LengthFieldFormat"/>, incrementally and without I/O: give it
/// whatever bytes have arrived, in any chunking, and it returns whole frames, one per call, whose payloads are
/// slices of those bytes (no copy). It allocates nothing per frame.
/// </summary>
/// <remarks>
/// <para>Use it as a <c>PipeReader</c> loop does:</para>
/// <code>
/// ReadOnlySequence&lt;byte&gt; buffer = result.Buffer;
/// while (decoder.TryDecode(ref buffer, out Frame frame))
/// {
///     Handle(frame);                      // frame.Payload is valid until AdvanceTo
/// }
/// reader.AdvanceTo(buffer.Start, buffer.End); // consumed: the whole frames; examined: everything
/// </code>
/// <para>
/// Contract: each call must be given the unconsumed bytes left by the previous call (the buffer starts where the
/// previous call left it) followed by any bytes that have arrived since. <see cref="BytesNeeded"/> says how many
/// bytes the buffer must hold for the next call to make progress. One reader at a time: not thread-safe.
/// </para>
/// <para>
/// Faults: a declared length over <see cref="LengthFieldFormat.MaxFrameLength"/> throws
/// <see cref="FrameTooLargeException"/> as soon as the header is readable; a negative or too-short length throws
/// <see cref="CorruptFrameException"/> likewise; a wrong checksum throws <see cref="ChecksumMismatchException"/>
/// once the frame is whole. Frames are returned one per call, so every frame before a fault has already been
/// returned when it is thrown. A throwing call consumes nothing. Afterwards the decoder is faulted (every call
/// throws <see cref="InvalidOperationException"/> until <see cref="Reset"/>), except after an oversized frame when
/// the format sets <see cref="LengthFieldFormat.DiscardOversizedFrames"/>: then the next calls skip exactly that
/// frame's bytes and go on.
/// </para>
/// </remarks>
public sealed class FrameDecoder
{
    private readonly LengthFieldFormat _format;

    // The format's fixed-layout numbers, copied for the fast path (a frame whose header and body lie in the first
    // segment). Meaningful only when _fixedLayout (no varint).
    private readonly bool _fixedLayout;
    private readonly bool _plainFrames;
    private readonly int _lengthFieldOffset;
    private readonly int _lengthFieldSize;
    private readonly long _maxFrameLength;
    private readonly int _headerLength;
    private readonly int _stripLength;
    private readonly long _lengthExtra;
    private readonly long _shortestFrame;

    // Header:     waiting for the next frame's header; the frame fields below are stale.
    // Payload:    the header at the buffer's start was read and checked; waiting for _frameLength bytes.
    // Discarding: skipping an oversized frame; _frameLength bytes of it are still to skip.
    // Faulted:    a corrupt frame was seen; _fault says which; every call throws until Reset.
    private DecodeState _state;
    private long _frameLength;
    private int _frameHeaderLength;
    private int _lengthFieldEnd;
    private uint _type;
    private long _bytesNeeded;
    private Exception? _fault;

    // Frames TryDecode returned through its fast path, so tests can tell that the shortcut is taken (the general path
    // returns the same frames, so nothing else would notice it switched off).
    private long _fastPathFrames;

    /// <summary>Creates a decoder for a format.</summary>
    /// <param name="format">The frame layout.</param>
    /// <exception cref="ArgumentNullException"><paramref name="format"/> is null.</exception>
    public FrameDecoder(LengthFieldFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        _format = format;
        _bytesNeeded = format.MinimumHeaderLength;
        _fixedLayout = !format.IsVarint;
        _plainFrames = !format.HasTypeField && format.Checksum == ChecksumAlgorithm.None;
        _lengthFieldOffset = format.LengthFieldOffset;
        _lengthFieldSize = format.LengthFieldSize;
        _maxFrameLength = format.MaxFrameLength;
        _headerLength = format.MinimumHeaderLength;
        _stripLength = format.StripLength(_headerLength);
        _lengthExtra = (long)format.LengthAdjustment + format.LengthFieldOffset + format.LengthFieldSize;
        _shortestFrame = format.ShortestFrame(_headerLength);
    }

    private enum DecodeState
    {
        Header,
        Payload,
        Discarding,
        Faulted,
    }

    /// <summary>The format this decoder reads.</summary>
    public LengthFieldFormat Format => _format;

    /// <summary>
    /// How many bytes, counted from the first unconsumed one, the buffer must hold for the next
    /// <see cref="TryDecode"/> to return a frame or consume bytes: the header's length while waiting for a header
    /// (one more byte at a time inside a varint), the whole frame's length once the header is read, 1 while
    /// discarding.
    /// </summary>
    public long BytesNeeded => _bytesNeeded;

    /// <summary>Whether the decoder is skipping an oversized frame (see <see cref="LengthFieldFormat.DiscardOversizedFrames"/>).</summary>
    public bool IsDiscarding => _state == DecodeState.Discarding;

    /// <summary>Whether the decoder stopped at a corrupt frame; <see cref="Reset"/> clears it.</summary>
    public bool IsFaulted => _state == DecodeState.Faulted;

    /// <summary>
    /// Whether the decoder is waiting for a frame's header: no frame is half read and none is being skipped. (Bytes
    /// of an incomplete header may still be in the caller's buffer: at end of stream, a non-empty buffer means a
    /// truncated frame.)
    /// </summary>
    public bool IsAtFrameBoundary => _state == DecodeState.Header;

    /// <summary>How many frames <see cref="TryDecode"/> returned through its fast path (tests).</summary>
    internal long FastPathFrames => _fastPathFrames;

    /// <summary>
    /// Returns the next whole frame at the start of <paramref name="buffer"/> and advances the buffer past it, or
    /// returns <see langword="false"/> when more bytes are needed (after skipping any bytes of an oversized frame
    /// being discarded).
    /// </summary>
    /// <param name="buffer">
    /// The unconsumed bytes: on return, it starts after the returned frame (or after the bytes skipped); it is never
    /// advanced past a frame's end, nor when the call throws.
    /// </param>
    /// <param name="frame">The frame, whose payload is a slice of <paramref name="buffer"/>'s memory; default when none.</param>
    /// <returns>Whether a frame was returned.</returns>
    /// <exception cref="FrameTooLargeException">The next frame's header declares a frame over the maximum.</exception>
    /// <exception cref="CorruptFrameException">The next frame's length field is negative, an overlong varint, or too short for the format.</exception>
    /// <exception cref="ChecksumMismatchException">The next frame's checksum trailer does not match its bytes.</exception>
    /// <exception cref="InvalidOperationException">The decoder is faulted by an earlier exception (the inner exception).</exception>
    public bool TryDecode(ref ReadOnlySequence<byte> buffer, out Frame frame)
    {
        // The fast path: the whole frame in the first segment. Anything else, faults included, takes the general
        // path, which reads it again.
        if (TryDecodeWhole(buffer.FirstSpan, out uint type, out int payloadStart, out int payloadLength, out int frameLength))
        {
            frame = new Frame(type, buffer.Slice(payloadStart, payloadLength));
            buffer = buffer.Slice(frameLength);
            _fastPathFrames++;
            return true;
        }

        return TryDecodeGeneral(ref buffer, out frame);
    }

    /// <summary>The state machine, for every case: headers or frames across segments, varints, faults.</summary>
    private bool TryDecodeGeneral(ref ReadOnlySequence<byte> buffer, out Frame frame)
    {
        while (true)
        {
            switch (_state)
            {
                case DecodeState.Header:
                    if (!TryReadHeader(buffer))
                    {
                        frame = default;
                        return false;
                    }

                    _state = DecodeState.Payload;
                    goto case DecodeState.Payload;

                case DecodeState.Payload:
                    if (buffer.Length < _frameLength)
                    {
                        _bytesNeeded = _frameLength;
                        frame = default;
                        return false;
                    }

                    frame = CompleteFrame(ref buffer);
                    return true;

                case DecodeState.Discarding:
                    long available = buffer.Length;
                    if (available < _frameLength)
                    {
                        _frameLength -= available;
                        buffer = buffer.Slice(buffer.End);
                        _bytesNeeded = 1;
                        frame = default;
                        return false;
                    }

                    buffer = buffer.Slice(_frameLength);
                    _frameLength = 0;
                    _state = DecodeState.Header;
                    continue;

                default:
                    throw new InvalidOperationException(
                        "The decoder stopped at a corrupt frame and the stream is out of step; close the connection, or call Reset and start over at a frame boundary.",
                        _fault);
            }
        }
    }

    /// <summary>Forgets any partly read or discarded frame and any fault: the next call's buffer must start at a frame boundary.</summary>
    public void Reset()
    {
        _state = DecodeState.Header;
        _fault = null;
        _frameLength = 0;
        _bytesNeeded = _format.MinimumHeaderLength;
    }

    /// <summary>Shows the decoder's live state, e.g. "Payload, FrameLength=4100, BytesNeeded=4100".</summary>
    /// <returns>The description.</returns>
    public override string ToString() => _state switch
    {
        DecodeState.Header => string.Format(CultureInfo.InvariantCulture, "Header, BytesNeeded={0}", _bytesNeeded),
        DecodeState.Payload => string.Format(CultureInfo.InvariantCulture, "Payload, Type={0}, FrameLength={1}, BytesNeeded={2}", _type, _frameLength, _bytesNeeded),
        DecodeState.Discarding => string.Format(CultureInfo.InvariantCulture, "Discarding, Remaining={0}", _frameLength),
        _ => $"Faulted ({_fault?.GetType().Name})",
    };

    /// <summary>Reads and checks the header at the buffer's start; false (with <see cref="BytesNeeded"/> set) if incomplete.</summary>
    private bool TryReadHeader(in ReadOnlySequence<byte> buffer)
    {
        LengthFieldFormat format = _format;
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        long raw;
        int lengthFieldEnd;
        int headerLength;
        if (!format.IsVarint)
        {
            headerLength = format.MinimumHeaderLength;
            lengthFieldEnd = format.LengthFieldOffset + format.LengthFieldSize;
            // Stryker disable once Equality : a header exactly filling the first segment is read across segments instead, to the same value
            if (first.Length >= headerLength)
            {
                raw = format.ReadField(first.Slice(format.LengthFieldOffset, format.LengthFieldSize));
            }
            else if (buffer.Length >= headerLength)
            {
                raw = ReadFieldAcross(buffer, format.LengthFieldOffset, format.LengthFieldSize);
            }
            else
            {
                _bytesNeeded = headerLength;
                return false;
            }
        }
        else if (!TryReadVarint(buffer, first, out raw, out lengthFieldEnd))
        {
            return false;
        }
        else
        {
            // A type field precedes a varint (the format checks), so the header ends with the varint.
            headerLength = lengthFieldEnd;
        }

        long frameLength = CheckLength(raw, lengthFieldEnd, headerLength);
        _type = 0;
        if (format.HasTypeField)
        {
            // Stryker disable once Equality,Conditional : reading the type across segments gives the same value as from the first one
            _type = first.Length >= format.TypeFieldOffset + format.TypeFieldSize
                ? (uint)format.ReadField(first.Slice(format.TypeFieldOffset, format.TypeFieldSize))
                : (uint)ReadFieldAcross(buffer, format.TypeFieldOffset, format.TypeFieldSize);
        }

        _frameLength = frameLength;
        _frameHeaderLength = headerLength;
        _lengthFieldEnd = lengthFieldEnd;
        return true;
    }

    /// <summary>Reads a field that straddles segments.</summary>
    private long ReadFieldAcross(in ReadOnlySequence<byte> buffer, int offset, int size)
    {
        Span<byte> field = stackalloc byte[8];
        buffer.Slice(offset, size).CopyTo(field);
        return _format.ReadField(field[..size]);
    }

    /// <summary>Reads an unsigned LEB128 length field; false (with <see cref="BytesNeeded"/> set) if it has not ended yet.</summary>
    private bool TryReadVarint(in ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> first, out long value, out int lengthFieldEnd)
    {
        int offset = _format.LengthFieldOffset;
        Span<byte> copy = stackalloc byte[LengthFieldFormat.MaxVarintLength];
        scoped ReadOnlySpan<byte> bytes;
        // Stryker disable once Equality : ten varint bytes exactly in the first segment are copied first, to the same bytes
        if (first.Length - offset >= LengthFieldFormat.MaxVarintLength)
        {
            bytes = first.Slice(offset, LengthFieldFormat.MaxVarintLength);
        }
        else
        {
            long available = buffer.Length - offset;
            // Stryker disable once Equality : with nothing after the offset the loop below reads no byte and needs offset + 1 all the same
            if (available <= 0)
            {
                value = 0;
                lengthFieldEnd = 0;
                _bytesNeeded = offset + 1;
                return false;
            }

            int count = (int)Math.Min(available, LengthFieldFormat.MaxVarintLength);
            buffer.Slice(offset, count).CopyTo(copy);
            bytes = copy[..count];
        }

        ulong result = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            byte b = bytes[i];
            if (i == LengthFieldFormat.MaxVarintLength - 1 && b > 1)
            {
                // The 10th byte may carry only bit 63; more bits, or another continuation, is not a 64-bit varint.
                throw Fault(new CorruptFrameException(
                    $"The varint length field does not fit in 64 bits: its 10th byte is 0x{b:X2}.",
                    null, null, _format.ShortestFrame(offset + LengthFieldFormat.MaxVarintLength)));
            }

            // Stryker disable once Assignment : each byte fills bits no other byte touches, so ^= and |= agree
            result |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                value = (long)result; // above 2^63 - 1 this is negative, and CheckLength calls it corrupt
                lengthFieldEnd = offset + i + 1;
                return true;
            }
        }

        value = 0;
        lengthFieldEnd = 0;
        _bytesNeeded = offset + bytes.Length + 1;
        return false;
    }

    /// <summary>Netty's arithmetic and checks, in Netty's order: negative, then too short, then too long.</summary>
    private long CheckLength(long raw, int lengthFieldEnd, int headerLength)
    {
        LengthFieldFormat format = _format;
        long shortest = format.ShortestFrame(headerLength);
        if (raw < 0)
        {
            throw Fault(new CorruptFrameException(
                string.Format(CultureInfo.InvariantCulture, "The length field holds {0}, a negative length.", raw),
                raw, null, shortest));
        }

        long extra = (long)format.LengthAdjustment + lengthFieldEnd;
        // Stryker disable once Equality : at either boundary raw + extra is exactly long.MaxValue, the saturated value
        long frameLength = extra > 0 && raw > long.MaxValue - extra ? long.MaxValue : raw + extra;
        if (frameLength < shortest)
        {
            throw Fault(new CorruptFrameException(
                string.Format(CultureInfo.InvariantCulture,
                    "The length field holds {0}, which with the adjustment of {1} and the {2} bytes through the length field makes a frame of {3} bytes, " +
                    "shorter than the {4} bytes this format needs (header {5}, bytes to strip {6}, checksum {7}).",
                    raw, format.LengthAdjustment, lengthFieldEnd, frameLength, shortest, headerLength, format.StripLength(headerLength), format.ChecksumLength),
                raw, frameLength, shortest));
        }

        if (frameLength > format.MaxFrameLength)
        {
            if (format.DiscardOversizedFrames)
            {
                _state = DecodeState.Discarding;
                _frameLength = frameLength;
                _bytesNeeded = 1;
                throw new FrameTooLargeException(frameLength, format.MaxFrameLength, string.Format(CultureInfo.InvariantCulture,
                    "A frame of {0} bytes (as its header declares) is over the maximum frame length of {1} bytes; the decoder skips it.", frameLength, format.MaxFrameLength));
            }

            throw Fault(new FrameTooLargeException(frameLength, format.MaxFrameLength));
        }

        return frameLength;
    }

    /// <summary>Checks the trailer, slices the payload and advances the buffer past the frame.</summary>
    private Frame CompleteFrame(ref ReadOnlySequence<byte> buffer)
    {
        LengthFieldFormat format = _format;
        long frameLength = _frameLength;
        int strip = format.StripLength(_frameHeaderLength);
        int checksumLength = format.ChecksumLength;
        Frame frame;
        if (buffer.IsSingleSegment)
        {
            // The common case, sliced as memory: cheaper than the general sequence slicing below.
            ReadOnlyMemory<byte> memory = buffer.First;
            if (checksumLength != 0)
            {
                VerifyChecksum(new ReadOnlySequence<byte>(memory[..(int)frameLength]));
            }

            frame = new Frame(_type, memory.Slice(strip, (int)frameLength - strip - checksumLength));
            buffer = buffer.Slice(frameLength);
        }
        else
        {
            ReadOnlySequence<byte> whole = buffer.Slice(0, frameLength);
            if (checksumLength != 0)
            {
                VerifyChecksum(whole);
            }

            frame = new Frame(_type, whole.Slice(strip, frameLength - strip - checksumLength));
            buffer = buffer.Slice(whole.End);
        }

        _state = DecodeState.Header;
        _bytesNeeded = format.MinimumHeaderLength;
        return frame;
    }

    /// <summary>
    /// The fast path alone: a whole, valid frame at the start of <paramref name="span"/> (a fixed-size header, its
    /// length within bounds, its checksum right), decoded without changing the decoder's state.
    /// </summary>
    /// <param name="span">The first unconsumed bytes.</param>
    /// <param name="type">The frame's type (0 without a type field).</param>
    /// <param name="payloadStart">Where the payload starts in <paramref name="span"/>.</param>
    /// <param name="payloadLength">The payload's length.</param>
    /// <param name="frameLength">The whole frame's length: what to consume.</param>
    /// <returns>
    /// Whether a frame was decoded. <see langword="false"/> for everything else (a frame not wholly in the span, a
    /// varint, a decoder in mid-frame or faulted, and every fault): <see cref="TryDecode"/>'s general path decides
    /// those, and reports the faults.
    /// </returns>
    internal bool TryDecodeWhole(ReadOnlySpan<byte> span, out uint type, out int payloadStart, out int payloadLength, out int frameLength)
    {
        type = 0;
        payloadStart = _stripLength;
        payloadLength = 0;
        frameLength = 0;
        if (_state != DecodeState.Header || !_fixedLayout || span.Length < _headerLength)
        {
            return false;
        }

        LengthFieldFormat format = _format;
        long raw = format.ReadField(span.Slice(_lengthFieldOffset, _lengthFieldSize));

        // An overflowing sum turns negative and fails the first bound, so the general path reports it.
        long length = raw + _lengthExtra;
        if (raw < 0 || length < _shortestFrame || length > span.Length || length > _maxFrameLength)
        {
            return false;
        }

        ReadOnlySpan<byte> whole = span[..(int)length];
        int checksumLength = format.ChecksumLength;
        if (!_plainFrames)
        {
            if (checksumLength != 0)
            {
                int trailerStart = whole.Length - checksumLength;
                int start = format.ChecksumStart(_lengthFieldOffset + _lengthFieldSize, _headerLength);
                ReadOnlySpan<byte> covered = whole[start..trailerStart];
                uint actual = format.Checksum == ChecksumAlgorithm.Crc32 ? Crc32.Compute(covered) : Crc32C.Compute(covered);
                if (actual != (uint)format.ReadField(whole[trailerStart..]))
                {
                    return false;
                }
            }

            type = format.HasTypeField ? (uint)format.ReadField(whole.Slice(format.TypeFieldOffset, format.TypeFieldSize)) : 0;
        }

        frameLength = whole.Length;
        payloadLength = whole.Length - _stripLength - checksumLength;
        return true;
    }

    /// <summary>Compares the trailer with the checksum of the bytes it covers.</summary>
    private void VerifyChecksum(in ReadOnlySequence<byte> whole)
    {
        LengthFieldFormat format = _format;
        long trailerStart = whole.Length - format.ChecksumLength;
        int start = format.ChecksumStart(_lengthFieldEnd, _frameHeaderLength);
        ReadOnlySequence<byte> covered = whole.Slice(start, trailerStart - start);
        uint actual = format.Checksum == ChecksumAlgorithm.Crc32 ? Crc32.Append(0, covered) : Crc32C.Append(0, covered);
        Span<byte> trailer = stackalloc byte[LengthFieldFormat.ChecksumTrailerLength];
        whole.Slice(trailerStart).CopyTo(trailer);
        uint expected = (uint)format.ReadField(trailer);
        if (expected != actual)
        {
            throw Fault(new ChecksumMismatchException(format.Checksum, expected, actual));
        }
    }

    private Exception Fault(Exception exception)
    {
        // Stryker disable once all : Debug.Assert is compiled out of Release
        Debug.Assert(_state != DecodeState.Faulted, "A faulted decoder reads nothing, so it cannot fault again.");
        _state = DecodeState.Faulted;
        _fault = exception;
        return exception;
    }
}
