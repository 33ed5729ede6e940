using System.Buffers;
using System.Globalization;

namespace AsyncNet.Streams.Framing.Codec;

/// <summary>
/// Writes frames of a <see cref="LengthFieldFormat"/>: header (length and type fields; any other header bytes are
/// zero), payload, checksum trailer. Stateless and thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// The payload given to the encoder is the frame's bytes after its header (through the length and type fields)
/// and before its trailer: exactly what <see cref="FrameDecoder"/> returns when the format strips the header
/// (<see cref="LengthFieldFormat.InitialBytesToStrip"/> null, the default). Bytes of a protocol's header that the
/// format does not name, after the length field, belong at the start of this payload.
/// </para>
/// <para>
/// For one gathered write without copying the payload, <see cref="EncodeGathered"/> writes the header and the
/// trailer into a small scratch buffer and lists the three parts; the lower-level <see cref="WriteHeader"/> and
/// <see cref="WriteTrailer(Span{byte}, ReadOnlySpan{byte}, in ReadOnlySequence{byte})"/> do the same piecewise.
/// </para>
/// <code>
/// +---- header (MaxHeaderLength at most) ----+---- payload ----+-- trailer (TrailerLength) --+
/// | type? | length field | type?             | as given        | CRC of the covered bytes    |
/// +------------------------------------------+-----------------+-----------------------------+
/// </code>
/// </remarks>
public sealed class FrameEncoder
{
    /// <summary>Frames up to this size go to an <see cref="IBufferWriter{T}"/> as one span; longer ones in three writes.</summary>
    private const int SingleSpanLimit = 16 * 1024;

    private readonly LengthFieldFormat _format;

    // The format's numbers for the fast path of Plan (a fixed layout); see Plan for the arithmetic.
    private readonly bool _fixedLayout;
    private readonly bool _headerHasGaps;
    private readonly int _headerLength;
    private readonly int _trailerLength;
    private readonly long _fieldValueBase;
    private readonly long _maxFieldValue;
    private readonly long _shortestFrame;

    // Frames planned by Plan's fast path, so tests can tell that the shortcut is taken (PlanOrThrow plans the same
    // frames, so nothing else would notice it switched off).
    private long _fastPlans;

    /// <summary>Creates an encoder for a format.</summary>
    /// <param name="format">The frame layout.</param>
    /// <exception cref="ArgumentNullException"><paramref name="format"/> is null.</exception>
    public FrameEncoder(LengthFieldFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        _format = format;
        _fixedLayout = !format.IsVarint;
        _headerLength = format.MinimumHeaderLength;
        _trailerLength = format.ChecksumLength;
        int lengthFieldEnd = format.LengthFieldOffset + format.LengthFieldSize;
        // Stryker disable once Conditional : a varint format never plans on the fast path, the only reader of _fieldValueBase
        _fieldValueBase = (format.IsVarint ? 0 : _headerLength - lengthFieldEnd) + (long)_trailerLength - format.LengthAdjustment;
        _maxFieldValue = format.MaxLengthFieldValue;
        _shortestFrame = format.ShortestFrame(_headerLength);
        // Stryker disable once Conditional : an extra Clear of a header with no gaps changes no byte; the gap cases are tested
        _headerHasGaps = format.IsVarint
            ? format.LengthFieldOffset != format.TypeFieldSize
            // Stryker disable once Arithmetic : the mutant only adds a Clear of a header without gaps, which changes no byte
            : _headerLength != format.LengthFieldSize + format.TypeFieldSize;
    }

    /// <summary>How many frames were planned through the fast path (tests).</summary>
    internal long FastPlans => _fastPlans;

    /// <summary>The format this encoder writes.</summary>
    public LengthFieldFormat Format => _format;

    /// <summary>The largest header <see cref="WriteHeader"/> writes: the scratch space a writer needs for it.</summary>
    public int MaxHeaderLength => _format.MaxHeaderLength;

    /// <summary>The trailer's size: 4 bytes with a checksum, else 0.</summary>
    public int TrailerLength => _format.ChecksumLength;

    /// <summary>The scratch space <see cref="EncodeGathered"/> needs: <see cref="MaxHeaderLength"/> + <see cref="TrailerLength"/>.</summary>
    public int ScratchLength => _format.MaxHeaderLength + _format.ChecksumLength;

    /// <summary>The header's length for a payload of <paramref name="payloadLength"/> bytes (it varies only with a varint length field).</summary>
    /// <param name="payloadLength">The payload's length.</param>
    /// <returns>The header's length in bytes.</returns>
    /// <exception cref="ArgumentException">The payload cannot be framed in this format (see <see cref="WriteHeader"/>).</exception>
    public int GetHeaderLength(long payloadLength)
    {
        Plan(payloadLength, out _, out int headerLength, out _);
        return headerLength;
    }

    /// <summary>The whole frame's length for a payload of <paramref name="payloadLength"/> bytes: header, payload and trailer.</summary>
    /// <param name="payloadLength">The payload's length.</param>
    /// <returns>The frame's length in bytes.</returns>
    /// <exception cref="ArgumentException">The payload cannot be framed in this format (see <see cref="WriteHeader"/>).</exception>
    public long GetFrameLength(long payloadLength)
    {
        Plan(payloadLength, out _, out _, out long frameLength);
        return frameLength;
    }

    /// <summary>Writes the header of a frame whose payload is <paramref name="payloadLength"/> bytes long.</summary>
    /// <param name="destination">Where to write; <see cref="MaxHeaderLength"/> bytes always suffice.</param>
    /// <param name="type">The frame's type; must be 0 when the format has no type field.</param>
    /// <param name="payloadLength">The payload's length.</param>
    /// <returns>The header's length: the bytes written.</returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="payloadLength"/> is negative, or <paramref name="type"/> does not fit the type field, or
    /// <paramref name="destination"/> is too short.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// The payload cannot be framed in this format: its length field value would exceed what the field holds, or be
    /// negative (a positive <see cref="LengthFieldFormat.LengthAdjustment"/> needs that many payload bytes); or the frame
    /// would exceed <see cref="LengthFieldFormat.MaxFrameLength"/>, or be shorter than the bytes the format strips.
    /// Each message names both numbers.
    /// </exception>
    public int WriteHeader(Span<byte> destination, uint type, long payloadLength)
    {
        Plan(payloadLength, out long fieldValue, out int headerLength, out _);
        CheckType(type);
        if (destination.Length < headerLength)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), destination.Length,
                $"The header needs {headerLength} bytes; the destination holds {destination.Length}.");
        }

        WriteHeaderCore(destination[..headerLength], type, fieldValue);
        return headerLength;
    }

    /// <summary>Writes the checksum trailer of the frame made of <paramref name="header"/> and <paramref name="payload"/>.</summary>
    /// <param name="destination">Where to write; <see cref="TrailerLength"/> bytes.</param>
    /// <param name="header">The header <see cref="WriteHeader"/> wrote for this payload.</param>
    /// <param name="payload">The payload.</param>
    /// <returns>The trailer's length: the bytes written (0 without a checksum).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="destination"/> is shorter than <see cref="TrailerLength"/>.</exception>
    public int WriteTrailer(Span<byte> destination, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        if (_format.Checksum == ChecksumAlgorithm.None)
        {
            return 0;
        }

        int start = CoverageStart(header.Length);
        uint state = uint.MaxValue;

        // Stryker disable once Equality : at start == header.Length the update covers no byte
        if (start < header.Length)
        {
            state = Update(state, header[start..]);
        }

        state = Update(state, payload[Math.Max(0, start - header.Length)..]);
        return WriteChecksum(destination, ~state);
    }

    /// <summary>Writes the checksum trailer of the frame made of <paramref name="header"/> and a payload sequence.</summary>
    /// <param name="destination">Where to write; <see cref="TrailerLength"/> bytes.</param>
    /// <param name="header">The header <see cref="WriteHeader"/> wrote for this payload.</param>
    /// <param name="payload">The payload.</param>
    /// <returns>The trailer's length: the bytes written (0 without a checksum).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="destination"/> is shorter than <see cref="TrailerLength"/>.</exception>
    public int WriteTrailer(Span<byte> destination, ReadOnlySpan<byte> header, in ReadOnlySequence<byte> payload)
    {
        if (_format.Checksum == ChecksumAlgorithm.None)
        {
            return 0;
        }

        int start = CoverageStart(header.Length);
        uint state = uint.MaxValue;

        // Stryker disable once Equality : at start == header.Length the update covers no byte
        if (start < header.Length)
        {
            state = Update(state, header[start..]);
        }

        foreach (ReadOnlyMemory<byte> segment in payload.Slice(Math.Max(0, start - header.Length)))
        {
            state = Update(state, segment.Span);
        }

        return WriteChecksum(destination, ~state);
    }

    /// <summary>Writes a whole frame into <paramref name="destination"/>.</summary>
    /// <param name="destination">Where to write; <see cref="GetFrameLength"/> bytes.</param>
    /// <param name="type">The frame's type; 0 without a type field.</param>
    /// <param name="payload">The payload.</param>
    /// <returns>The frame's length: the bytes written.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> does not fit the type field, or <paramref name="destination"/> is too short.</exception>
    /// <exception cref="ArgumentException">The payload cannot be framed in this format (see <see cref="WriteHeader"/>).</exception>
    public int Encode(Span<byte> destination, uint type, ReadOnlySpan<byte> payload)
    {
        Plan(payload.Length, out long fieldValue, out int headerLength, out long frameLength);
        CheckType(type);
        if (destination.Length < frameLength)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), destination.Length,
                $"The frame needs {frameLength} bytes; the destination holds {destination.Length}.");
        }

        return EncodeCore(destination, type, payload, fieldValue, headerLength);
    }

    /// <summary>Writes a whole frame into a buffer writer (a <c>PipeWriter</c>, an <see cref="ArrayBufferWriter{T}"/>).</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="type">The frame's type; 0 without a type field.</param>
    /// <param name="payload">The payload.</param>
    /// <returns>The frame's length: the bytes written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="writer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> does not fit the type field.</exception>
    /// <exception cref="ArgumentException">The payload cannot be framed in this format (see <see cref="WriteHeader"/>).</exception>
    public long Encode(IBufferWriter<byte> writer, uint type, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Plan(payload.Length, out long fieldValue, out int headerLength, out long frameLength);
        CheckType(type);
        // Stryker disable once all : one span or three writes put the same bytes in the writer (a performance choice)
        if (frameLength <= SingleSpanLimit)
        {
            // One GetSpan/Advance: cheaper than three for small frames, and small enough for any writer's segment.
            Span<byte> destination = writer.GetSpan((int)frameLength);
            EncodeCore(destination, type, payload, fieldValue, headerLength);
            writer.Advance((int)frameLength);
            return frameLength;
        }

        // Stryker disable once all : a stack or a heap buffer holds the same header
        Span<byte> header = headerLength <= 256 ? stackalloc byte[headerLength] : new byte[headerLength];
        WriteHeaderCore(header, type, fieldValue);
        writer.Write(header);
        writer.Write(payload);
        Span<byte> trailer = stackalloc byte[LengthFieldFormat.ChecksumTrailerLength];
        int trailerLength = WriteTrailer(trailer, header, payload);
        writer.Write(trailer[..trailerLength]);
        return frameLength;
    }

    /// <summary>Writes a whole frame with a payload sequence into a buffer writer.</summary>
    /// <param name="writer">Where to write.</param>
    /// <param name="type">The frame's type; 0 without a type field.</param>
    /// <param name="payload">The payload.</param>
    /// <returns>The frame's length: the bytes written.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="writer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> does not fit the type field.</exception>
    /// <exception cref="ArgumentException">The payload cannot be framed in this format (see <see cref="WriteHeader"/>).</exception>
    public long Encode(IBufferWriter<byte> writer, uint type, in ReadOnlySequence<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Plan(payload.Length, out long fieldValue, out int headerLength, out long frameLength);
        CheckType(type);

        // Stryker disable once all : a stack or a heap buffer holds the same header
        Span<byte> header = headerLength <= 256 ? stackalloc byte[headerLength] : new byte[headerLength];
        WriteHeaderCore(header, type, fieldValue);
        writer.Write(header);
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            writer.Write(segment.Span);
        }

        Span<byte> trailer = stackalloc byte[LengthFieldFormat.ChecksumTrailerLength];
        int trailerLength = WriteTrailer(trailer, header, payload);
        writer.Write(trailer[..trailerLength]);
        return frameLength;
    }

    /// <summary>Encodes a whole frame into a new array.</summary>
    /// <param name="type">The frame's type; 0 without a type field.</param>
    /// <param name="payload">The payload.</param>
    /// <returns>The frame's bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> does not fit the type field.</exception>
    /// <exception cref="ArgumentException">The payload cannot be framed in this format (see <see cref="WriteHeader"/>).</exception>
    public byte[] Encode(uint type, ReadOnlySpan<byte> payload)
    {
        // Stryker disable once Checked : a frame over 2 GiB cannot be allocated by a test
        byte[] frame = new byte[checked((int)GetFrameLength(payload.Length))];
        Encode(frame, type, payload);
        return frame;
    }

    /// <summary>
    /// Prepares one gathered write of a frame without copying its payload: writes the header and the trailer into
    /// <paramref name="scratch"/> and adds the frame's parts, in order, to <paramref name="parts"/> (header,
    /// payload unless empty, trailer if any), ready for a vectored write.
    /// </summary>
    /// <param name="type">The frame's type; 0 without a type field.</param>
    /// <param name="payload">The payload; the parts refer to it, so it must stay unchanged until the write completes.</param>
    /// <param name="scratch">At least <see cref="ScratchLength"/> bytes for the header and trailer; it too must stay untouched until the write completes.</param>
    /// <param name="parts">The list the parts are added to.</param>
    /// <returns>The frame's length.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> does not fit the type field, or <paramref name="scratch"/> is too short.</exception>
    /// <exception cref="ArgumentException">The payload cannot be framed in this format (see <see cref="WriteHeader"/>).</exception>
    public long EncodeGathered(uint type, ReadOnlyMemory<byte> payload, Memory<byte> scratch, ICollection<ReadOnlyMemory<byte>> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (scratch.Length < ScratchLength)
        {
            throw new ArgumentOutOfRangeException(nameof(scratch), scratch.Length,
                $"The scratch buffer must hold {ScratchLength} bytes (header and trailer); it holds {scratch.Length}.");
        }

        Plan(payload.Length, out long fieldValue, out int headerLength, out _);
        CheckType(type);
        Memory<byte> header = scratch[..headerLength];
        Memory<byte> trailer = scratch.Slice(headerLength, _trailerLength);
        WriteHeaderCore(header.Span, type, fieldValue);
        WriteTrailer(trailer.Span, header.Span, payload.Span);
        parts.Add(header);
        if (!payload.IsEmpty)
        {
            parts.Add(payload);
        }

        if (!trailer.IsEmpty)
        {
            parts.Add(trailer);
        }

        return headerLength + payload.Length + trailer.Length;
    }

    /// <summary>Shows the format, e.g. "FrameEncoder(Length=u32 BE at 0, ...)".</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"FrameEncoder({_format})";

    /// <summary>
    /// Works out the length field's value, the header's length and the frame's length for a payload, and rejects
    /// payloads the format cannot carry. Inverts the decoder's arithmetic:
    /// frame = header + payload + trailer = fieldValue + adjustment + lengthFieldEnd.
    /// </summary>
    private void Plan(long payloadLength, out long fieldValue, out int headerLength, out long frameLength)
    {
        if (_fixedLayout)
        {
            // Overflow of either sum turns it negative, fails a bound and takes the general path, which reports it.
            fieldValue = _fieldValueBase + payloadLength;
            headerLength = _headerLength;
            frameLength = _headerLength + payloadLength + _trailerLength;
            if (payloadLength >= 0 && fieldValue >= 0 && fieldValue <= _maxFieldValue
                && frameLength >= _shortestFrame && frameLength <= _format.MaxFrameLength)
            {
                _fastPlans++;

                // Stryker disable once Statement : without the return the general path plans the same frame again
                return;
            }
        }

        PlanOrThrow(payloadLength, out fieldValue, out headerLength, out frameLength);
    }

    /// <summary>The general <see cref="Plan"/>: varints, and every rejection with its message.</summary>
    private void PlanOrThrow(long payloadLength, out long fieldValue, out int headerLength, out long frameLength)
    {
        LengthFieldFormat format = _format;
        if (payloadLength < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength), payloadLength, "A payload's length cannot be negative.");
        }

        long max = format.MaxFrameLength;
        if (payloadLength > max)
        {
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                "A payload of {0} bytes is over the format's maximum frame length of {1} bytes.", payloadLength, max), "payload");
        }

        int trailer = format.ChecksumLength;

        // A varint header ends with the length field, so the value does not depend on the varint's own size.
        int fixedHeader = format.MinimumHeaderLength;
        int lengthFieldEnd = format.LengthFieldOffset + format.LengthFieldSize;
        long headerAfterField = format.IsVarint ? 0 : fixedHeader - lengthFieldEnd;
        fieldValue = headerAfterField + payloadLength + trailer - format.LengthAdjustment;
        if (fieldValue < 0)
        {
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                "A payload of {0} bytes would need the length field to hold {1}: the format's length adjustment of {2} needs at least {3} payload bytes.",
                payloadLength, fieldValue, format.LengthAdjustment, payloadLength - fieldValue),
                "payload");
        }

        if (fieldValue > format.MaxLengthFieldValue)
        {
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                "A payload of {0} bytes needs the length field to hold {1}, but a {2}-byte field holds at most {3}.",
                payloadLength, fieldValue, format.LengthFieldSize, format.MaxLengthFieldValue),
                "payload");
        }

        headerLength = format.IsVarint ? format.LengthFieldOffset + VarintLength((ulong)fieldValue) : fixedHeader;
        frameLength = headerLength + payloadLength + trailer;
        if (frameLength > max)
        {
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                "A payload of {0} bytes makes a frame of {1} bytes, over the format's maximum frame length of {2} bytes.", payloadLength, frameLength, max),
                "payload");
        }

        long shortest = format.ShortestFrame(headerLength);
        if (frameLength < shortest)
        {
            throw new ArgumentException(string.Format(CultureInfo.InvariantCulture,
                "A payload of {0} bytes makes a frame of {1} bytes, shorter than the {2} bytes the format needs (it strips {3} bytes, then a {4}-byte trailer).",
                payloadLength, frameLength, shortest, format.StripLength(headerLength), trailer),
                "payload");
        }
    }

    /// <summary>Writes a planned frame: header, payload, trailer. The destination is long enough.</summary>
    private int EncodeCore(Span<byte> destination, uint type, ReadOnlySpan<byte> payload, long fieldValue, int headerLength)
    {
        Span<byte> header = destination[..headerLength];
        WriteHeaderCore(header, type, fieldValue);
        payload.CopyTo(destination[headerLength..]);
        int end = headerLength + payload.Length;
        if (_trailerLength != 0)
        {
            end += WriteTrailer(destination[end..], header, payload);
        }

        return end;
    }

    /// <summary>Writes a planned header, exactly <paramref name="header"/>'s length: gaps zeroed, type, length field.</summary>
    private void WriteHeaderCore(Span<byte> header, uint type, long fieldValue)
    {
        LengthFieldFormat format = _format;
        if (_headerHasGaps)
        {
            header.Clear();
        }

        if (format.HasTypeField)
        {
            format.WriteField(header.Slice(format.TypeFieldOffset, format.TypeFieldSize), type);
        }

        if (format.IsVarint)
        {
            ulong value = (ulong)fieldValue;
            int i = format.LengthFieldOffset;
            while (value >= 0x80)
            {
                header[i++] = (byte)(value | 0x80);
                // Stryker disable once Assignment : value is unsigned, so >>= and >>>= agree
                value >>= 7;
            }

            header[i] = (byte)value;
        }
        else
        {
            format.WriteField(header.Slice(format.LengthFieldOffset, format.LengthFieldSize), fieldValue);
        }
    }

    private static int VarintLength(ulong value)
    {
        int length = 1;
        while (value >= 0x80)
        {
            // Stryker disable once Assignment : value is unsigned, so >>= and >>>= agree
            value >>= 7;
            length++;
        }

        return length;
    }

    private void CheckType(uint type)
    {
        if (type > _format.MaxType)
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, _format.HasTypeField
                ? $"A {_format.TypeFieldSize}-byte type field holds at most {_format.MaxType}; the type was {type}."
                : $"The format has no type field, so the type must be 0; it was {type}.");
        }
    }

    private int CoverageStart(int headerLength)
    {
        LengthFieldFormat format = _format;
        int lengthFieldEnd = format.IsVarint ? headerLength : format.LengthFieldOffset + format.LengthFieldSize;
        return format.ChecksumStart(lengthFieldEnd, headerLength);
    }

    private uint Update(uint state, ReadOnlySpan<byte> data) =>
        _format.Checksum == ChecksumAlgorithm.Crc32 ? Crc32.Update(state, data) : Crc32C.Update(state, data);

    private int WriteChecksum(Span<byte> destination, uint checksum)
    {
        if (destination.Length < LengthFieldFormat.ChecksumTrailerLength)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), destination.Length,
                $"The trailer needs {LengthFieldFormat.ChecksumTrailerLength} bytes; the destination holds {destination.Length}.");
        }

        _format.WriteField(destination[..LengthFieldFormat.ChecksumTrailerLength], checksum);
        return LengthFieldFormat.ChecksumTrailerLength;
    }
}
