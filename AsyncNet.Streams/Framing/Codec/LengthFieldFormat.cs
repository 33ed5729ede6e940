using System.Buffers.Binary;
using System.Globalization;

namespace AsyncNet.Streams.Framing.Codec;

/// <summary>
/// The layout of a length-prefixed frame: where its length field sits and how to read it, an optional type
/// field, an optional checksum trailer, how many leading bytes to strip and the largest frame accepted.
/// Immutable; every argument is checked by the constructor.
/// </summary>
/// <remarks>
/// <para>
/// The arithmetic is Netty's <c>LengthFieldBasedFrameDecoder</c>, so its documented examples hold as written:
/// the whole frame is <c>lengthFieldValue + LengthAdjustment + (LengthFieldOffset + length field size)</c>
/// bytes, counted from the frame's first byte. <see cref="MaxFrameLength"/> limits that whole frame, before
/// stripping. Bytes the format does not name (a magic number, flags) are simply part of the frame: put
/// them before the length field (raising <see cref="LengthFieldOffset"/>) or after it (counting them in
/// <see cref="LengthAdjustment"/>).
/// </para>
/// <para>The default format: a 4-byte big-endian length of the payload, then the payload; the header is stripped.</para>
/// <code>
/// +-- length: u32 BE --+------ payload ------+
/// | 00 00 00 0B        | h e l l o   w o r l d |
/// +--------------------+---------------------+
/// </code>
/// <para>
/// A 1-byte type, then a 4-byte big-endian length that counts itself and the payload (not the type):
/// <c>new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthAdjustment: -4)</c>.
/// </para>
/// <code>
/// +- type: u8 -+-- length: u32 BE --+-- payload --+
/// | 07         | 00 00 00 07        | h i !       |
/// +------------+--------------------+-------------+
/// </code>
/// <para>
/// A PNG chunk: 4-byte length of the data, 4-byte type, data, CRC-32 of type and data; the trailer is part of
/// the frame, so the adjustment counts it with the type:
/// <c>new LengthFieldFormat(typeFieldOffset: 4, typeFieldSize: 4, lengthAdjustment: 8, checksum: ChecksumAlgorithm.Crc32, checksumCoverage: ChecksumCoverage.AfterLengthField)</c>.
/// </para>
/// <code>
/// +-- length: u32 BE --+-- type: u32 BE --+-- data --+-- CRC-32 BE --+
/// | 00 00 00 03        | 74 45 58 74      | a b c    | xx xx xx xx   |
/// +--------------------+------------------+----------+---------------+
///                      \____________ covered by the CRC ____________/
/// </code>
/// <para>
/// A varint (unsigned LEB128, as protobuf writes it) length of the payload: <c>new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint)</c>.
/// A 300-byte payload gets the header <c>AC 02</c>.
/// </para>
/// </remarks>
public sealed class LengthFieldFormat
{
    /// <summary>The <c>lengthFieldSize</c> that selects a varint (unsigned LEB128, 1 to 10 bytes) length field.</summary>
    public const int Varint = 0;

    /// <summary>The default <see cref="MaxFrameLength"/>: 8 MiB (tokio's default).</summary>
    public const long DefaultMaxFrameLength = 8 * 1024 * 1024;

    /// <summary>The longest varint length field accepted: 10 bytes carry 64 bits.</summary>
    internal const int MaxVarintLength = 10;

    /// <summary>The size of a checksum trailer: both CRCs are 4 bytes.</summary>
    internal const int ChecksumTrailerLength = 4;

    /// <summary>Creates a format; every parameter is optional and its default is stated with it.</summary>
    /// <param name="lengthFieldOffset">Where the length field starts, in bytes from the frame's first byte. The default is 0.</param>
    /// <param name="lengthFieldSize">
    /// The length field's size: 1, 2, 3 or 4 bytes (unsigned), 8 bytes (signed: a negative value is corrupt),
    /// or <see cref="Varint"/>. The default is 4.
    /// </param>
    /// <param name="byteOrder">The byte order of the length field, the type field and the checksum trailer. The default is <see cref="ByteOrder.BigEndian"/>.</param>
    /// <param name="lengthAdjustment">
    /// Added to the length field's value to find the bytes that follow the length field: 0 when the field counts
    /// exactly those bytes, negative when it also counts the header, positive when header bytes after it are not
    /// counted. The default is 0.
    /// </param>
    /// <param name="initialBytesToStrip">
    /// How many of the frame's first bytes to leave out of <see cref="Frame.Payload"/>; <see langword="null"/>
    /// strips exactly the header (through the length and type fields, whichever ends later), so the payload is
    /// what <see cref="FrameEncoder"/> was given. The default is <see langword="null"/>.
    /// </param>
    /// <param name="maxFrameLength">The largest whole frame accepted, header and trailer included, before stripping. The default is <see cref="DefaultMaxFrameLength"/> (8 MiB).</param>
    /// <param name="typeFieldOffset">Where the type field starts, in bytes from the frame's first byte. The default is 0; it needs a <paramref name="typeFieldSize"/>.</param>
    /// <param name="typeFieldSize">The type field's size, 1 to 4 bytes (unsigned), or 0 for no type field. The default is 0.</param>
    /// <param name="checksum">The checksum trailer carried as the frame's last 4 bytes, counted in the frame length like any other byte. The default is <see cref="ChecksumAlgorithm.None"/>.</param>
    /// <param name="checksumCoverage">Which bytes the checksum covers. The default is <see cref="ChecksumCoverage.Frame"/>.</param>
    /// <param name="discardOversizedFrames">
    /// What follows a <see cref="FrameTooLargeException"/>: <see langword="false"/> leaves the decoder faulted (the
    /// connection should close); <see langword="true"/> makes it skip exactly the oversized frame and go on with the
    /// next one. The default is <see langword="false"/>.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range (a negative offset, an unsupported field size, an undefined enum value).</exception>
    /// <exception cref="ArgumentException">The fields contradict each other: the type field overlaps the length field, or follows a varint length field, or the shortest frame the format allows exceeds <paramref name="maxFrameLength"/>.</exception>
    public LengthFieldFormat(
        int lengthFieldOffset = 0,
        int lengthFieldSize = 4,
        ByteOrder byteOrder = ByteOrder.BigEndian,
        int lengthAdjustment = 0,
        int? initialBytesToStrip = null,
        long maxFrameLength = DefaultMaxFrameLength,
        int typeFieldOffset = 0,
        int typeFieldSize = 0,
        ChecksumAlgorithm checksum = ChecksumAlgorithm.None,
        ChecksumCoverage checksumCoverage = ChecksumCoverage.Frame,
        bool discardOversizedFrames = false)
    {
        if (lengthFieldOffset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(lengthFieldOffset), lengthFieldOffset,
                $"The length field's offset must be 0 or more; it was {lengthFieldOffset}.");
        }

        if (lengthFieldSize is not (Varint or 1 or 2 or 3 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(lengthFieldSize), lengthFieldSize,
                $"The length field's size must be 1, 2, 3, 4 or 8 bytes, or LengthFieldFormat.Varint (0); it was {lengthFieldSize}.");
        }

        if (byteOrder is not (ByteOrder.BigEndian or ByteOrder.LittleEndian))
        {
            throw new ArgumentOutOfRangeException(nameof(byteOrder), byteOrder, $"{(int)byteOrder} is not a ByteOrder.");
        }

        if (initialBytesToStrip < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(initialBytesToStrip), initialBytesToStrip,
                $"The bytes to strip must be 0 or more; it was {initialBytesToStrip}.");
        }

        if (maxFrameLength < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxFrameLength), maxFrameLength,
                $"The maximum frame length must be 1 or more; it was {maxFrameLength}.");
        }

        if (typeFieldSize is < 0 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(typeFieldSize), typeFieldSize,
                $"The type field's size must be 1 to 4 bytes, or 0 for no type field; it was {typeFieldSize}.");
        }

        if (typeFieldOffset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(typeFieldOffset), typeFieldOffset,
                $"The type field's offset must be 0 or more; it was {typeFieldOffset}.");
        }

        if (typeFieldSize == 0 && typeFieldOffset != 0)
        {
            throw new ArgumentException(
                $"A type field offset ({typeFieldOffset}) was given without a type field size: set typeFieldSize to 1, 2, 3 or 4.",
                nameof(typeFieldOffset));
        }

        if (checksum is not (ChecksumAlgorithm.None or ChecksumAlgorithm.Crc32 or ChecksumAlgorithm.Crc32C))
        {
            throw new ArgumentOutOfRangeException(nameof(checksum), checksum, $"{(int)checksum} is not a ChecksumAlgorithm.");
        }

        if (checksumCoverage is not (ChecksumCoverage.Frame or ChecksumCoverage.AfterLengthField or ChecksumCoverage.Payload))
        {
            throw new ArgumentOutOfRangeException(nameof(checksumCoverage), checksumCoverage, $"{(int)checksumCoverage} is not a ChecksumCoverage.");
        }

        // long arithmetic: huge offsets must produce a clear message, not an overflow.
        long lengthFieldEnd = (long)lengthFieldOffset + (lengthFieldSize == Varint ? 1 : lengthFieldSize);
        long typeFieldEnd = (long)typeFieldOffset + typeFieldSize;
        if (typeFieldSize != 0)
        {
            if (lengthFieldSize == Varint && typeFieldEnd > lengthFieldOffset)
            {
                throw new ArgumentException(
                    $"With a varint length field the type field must end by the length field's offset ({lengthFieldOffset}), since " +
                    $"bytes after a varint have no fixed offset; it ends at byte {typeFieldEnd}.",
                    nameof(typeFieldOffset));
            }

            if (typeFieldOffset < lengthFieldEnd && lengthFieldOffset < typeFieldEnd)
            {
                throw new ArgumentException(
                    $"The type field (bytes {typeFieldOffset} to {typeFieldEnd - 1}) overlaps the length field (bytes {lengthFieldOffset} to {lengthFieldEnd - 1}).",
                    nameof(typeFieldOffset));
            }
        }

        int checksumLength = checksum == ChecksumAlgorithm.None ? 0 : ChecksumTrailerLength;
        long headerLength = Math.Max(lengthFieldEnd, typeFieldEnd);
        long shortestFrame = Math.Max(headerLength, initialBytesToStrip ?? 0) + checksumLength;
        if (shortestFrame > maxFrameLength)
        {
            throw new ArgumentException(
                $"The maximum frame length ({maxFrameLength}) is shorter than the shortest frame this format allows " +
                $"({shortestFrame} bytes: header {headerLength}, bytes to strip {initialBytesToStrip ?? headerLength}, checksum {checksumLength}).",
                nameof(maxFrameLength));
        }

        if (shortestFrame > int.MaxValue - MaxVarintLength)
        {
            throw new ArgumentException($"The header and the bytes to strip must fit in 2 GiB; they need {shortestFrame} bytes.", nameof(lengthFieldOffset));
        }

        LengthFieldOffset = lengthFieldOffset;
        LengthFieldSize = lengthFieldSize;
        ByteOrder = byteOrder;
        LengthAdjustment = lengthAdjustment;
        InitialBytesToStrip = initialBytesToStrip;
        MaxFrameLength = maxFrameLength;
        TypeFieldOffset = typeFieldOffset;
        TypeFieldSize = typeFieldSize;
        Checksum = checksum;
        ChecksumCoverage = checksumCoverage;
        DiscardOversizedFrames = discardOversizedFrames;
        ChecksumLength = checksumLength;
        MinimumHeaderLength = (int)headerLength;
        MaxHeaderLength = lengthFieldSize == Varint ? lengthFieldOffset + MaxVarintLength : (int)headerLength;
    }

    /// <summary>The default format: a 4-byte big-endian length of the payload, header stripped, frames up to 8 MiB, no type, no checksum.</summary>
    public static LengthFieldFormat Default { get; } = new();

    /// <summary>
    /// Creates the format Netty's <c>LengthFieldBasedFrameDecoder</c> reads with the same arguments, in Netty's order and
    /// with Netty's defaults: nothing stripped unless asked, big-endian, an oversized frame reported at once and then
    /// skipped (decoding goes on with the next frame).
    /// </summary>
    /// <param name="maxFrameLength">The largest whole frame accepted, header included, before stripping; 1 or more.</param>
    /// <param name="lengthFieldOffset">Where the length field starts, in bytes from the frame's first byte.</param>
    /// <param name="lengthFieldLength">The length field's size: 1, 2, 3, 4 or 8 bytes (Netty has no varint, so 0 is rejected).</param>
    /// <param name="lengthAdjustment">Added to the length field's value to find the bytes that follow the length field. The default is 0.</param>
    /// <param name="initialBytesToStrip">How many of the frame's first bytes to leave out of the payload. The default is 0: the whole frame, header included.</param>
    /// <param name="failFast">
    /// Netty's switch for reporting an oversized frame as soon as its header is read (<see langword="true"/>, the
    /// default) or only after its bytes were skipped. AsyncNet always reports at the header, so only
    /// <see langword="true"/> is accepted.
    /// </param>
    /// <returns>The format, with <see cref="DiscardOversizedFrames"/> set as Netty behaves.</returns>
    /// <remarks>
    /// AsyncNet's own constructor differs from Netty when arguments are left out: it strips the header by default
    /// (Netty strips nothing), takes a length-field size of 0 as a varint (Netty rejects it), defaults the maximum to
    /// 8 MiB (Netty has no default), and stops at an oversized frame unless asked to skip it (Netty skips it). This
    /// method takes those choices from Netty, so <c>LengthFieldFormat.FromNetty(1024, 0, 2, 0, 2)</c> reads what
    /// <c>new LengthFieldBasedFrameDecoder(1024, 0, 2, 0, 2)</c> reads.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range: a negative offset or strip, an unsupported field length, a maximum below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="failFast"/> is <see langword="false"/>, or the maximum is shorter than the header or the bytes to strip.</exception>
    public static LengthFieldFormat FromNetty(
        int maxFrameLength, int lengthFieldOffset, int lengthFieldLength, int lengthAdjustment = 0, int initialBytesToStrip = 0, bool failFast = true) =>
        FromNetty(ByteOrder.BigEndian, maxFrameLength, lengthFieldOffset, lengthFieldLength, lengthAdjustment, initialBytesToStrip, failFast);

    /// <summary>
    /// Creates the format Netty's <c>LengthFieldBasedFrameDecoder</c> reads with the same arguments, in the order of its
    /// constructor that takes a byte order first.
    /// </summary>
    /// <param name="byteOrder">The byte order of the length field.</param>
    /// <param name="maxFrameLength">The largest whole frame accepted, header included, before stripping; 1 or more.</param>
    /// <param name="lengthFieldOffset">Where the length field starts, in bytes from the frame's first byte.</param>
    /// <param name="lengthFieldLength">The length field's size: 1, 2, 3, 4 or 8 bytes (0 is rejected).</param>
    /// <param name="lengthAdjustment">Added to the length field's value to find the bytes that follow the length field.</param>
    /// <param name="initialBytesToStrip">How many of the frame's first bytes to leave out of the payload.</param>
    /// <param name="failFast">Must be <see langword="true"/>: AsyncNet reports an oversized frame as soon as its header is read.</param>
    /// <returns>The format, with <see cref="DiscardOversizedFrames"/> set as Netty behaves.</returns>
    /// <remarks>See <see cref="FromNetty(int, int, int, int, int, bool)"/> for how this differs from AsyncNet's constructor.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range: a negative offset or strip, an unsupported field length or byte order, a maximum below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="failFast"/> is <see langword="false"/>, or the maximum is shorter than the header or the bytes to strip.</exception>
    public static LengthFieldFormat FromNetty(
        ByteOrder byteOrder, int maxFrameLength, int lengthFieldOffset, int lengthFieldLength, int lengthAdjustment, int initialBytesToStrip, bool failFast)
    {
        if (lengthFieldLength is not (1 or 2 or 3 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(lengthFieldLength), lengthFieldLength,
                $"The length field's length must be 1, 2, 3, 4 or 8 bytes, as Netty's; it was {lengthFieldLength}.");
        }

        if (!failFast)
        {
            throw new ArgumentException(
                "AsyncNet always reports an oversized frame as soon as its header is read (Netty's failFast = true); failFast = false is not supported.",
                nameof(failFast));
        }

        return new LengthFieldFormat(
            lengthFieldOffset: lengthFieldOffset,
            lengthFieldSize: lengthFieldLength,
            byteOrder: byteOrder,
            lengthAdjustment: lengthAdjustment,
            initialBytesToStrip: initialBytesToStrip,
            maxFrameLength: maxFrameLength,
            discardOversizedFrames: true);
    }

    /// <summary>Where the length field starts, in bytes from the frame's first byte. The default is 0.</summary>
    public int LengthFieldOffset { get; }

    /// <summary>The length field's size in bytes (1, 2, 3, 4 or 8), or <see cref="Varint"/>. The default is 4.</summary>
    public int LengthFieldSize { get; }

    /// <summary>Whether the length field is a varint (unsigned LEB128).</summary>
    public bool IsVarint => LengthFieldSize == Varint;

    /// <summary>The byte order of the length field, the type field and the checksum trailer. The default is <see cref="ByteOrder.BigEndian"/>.</summary>
    public ByteOrder ByteOrder { get; }

    /// <summary>Added to the length field's value to find how many bytes follow the length field. The default is 0.</summary>
    public int LengthAdjustment { get; }

    /// <summary>
    /// How many of the frame's first bytes <see cref="Frame.Payload"/> leaves out, or <see langword="null"/> for
    /// exactly the header (through the length and type fields). The default is <see langword="null"/>.
    /// </summary>
    public int? InitialBytesToStrip { get; }

    /// <summary>The largest whole frame accepted, before stripping. The default is 8 MiB.</summary>
    public long MaxFrameLength { get; }

    /// <summary>Where the type field starts, in bytes from the frame's first byte. The default is 0.</summary>
    public int TypeFieldOffset { get; }

    /// <summary>The type field's size in bytes (1 to 4), or 0 when frames have no type. The default is 0.</summary>
    public int TypeFieldSize { get; }

    /// <summary>Whether frames carry a type field.</summary>
    public bool HasTypeField => TypeFieldSize != 0;

    /// <summary>The largest value the type field holds (0 without a type field).</summary>
    // Stryker disable once Bitwise : uint.MaxValue is unsigned, so >> and >>> agree
    public uint MaxType => TypeFieldSize == 0 ? 0 : uint.MaxValue >> (8 * (4 - TypeFieldSize));

    /// <summary>The checksum trailer, if any. The default is <see cref="ChecksumAlgorithm.None"/>.</summary>
    public ChecksumAlgorithm Checksum { get; }

    /// <summary>Which bytes the checksum covers. The default is <see cref="ChecksumCoverage.Frame"/>.</summary>
    public ChecksumCoverage ChecksumCoverage { get; }

    /// <summary>Whether the decoder skips an oversized frame (after throwing) instead of faulting. The default is <see langword="false"/>.</summary>
    public bool DiscardOversizedFrames { get; }

    /// <summary>The checksum trailer's size: 4 bytes with a checksum, else 0.</summary>
    public int ChecksumLength { get; }

    /// <summary>
    /// The header's size: the bytes through the length field and the type field, whichever ends later. For a
    /// varint length field, the size with a 1-byte varint (its shortest).
    /// </summary>
    public int MinimumHeaderLength { get; }

    /// <summary>The largest header: <see cref="MinimumHeaderLength"/>, or with a 10-byte varint for a varint length field.</summary>
    public int MaxHeaderLength { get; }

    /// <summary>The largest value the length field holds: 2^(8 × size) − 1, or <see cref="long.MaxValue"/> for 8 bytes and varints.</summary>
    public long MaxLengthFieldValue => LengthFieldSize switch
    {
        1 => byte.MaxValue,
        2 => ushort.MaxValue,
        3 => 0xFF_FFFF,
        4 => uint.MaxValue,
        _ => long.MaxValue,
    };

    /// <summary>Describes the format, e.g. "Length=u32 BE at 0, Adjustment=0, Strip=header, Max=8388608".</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        string order = ByteOrder == ByteOrder.BigEndian ? "BE" : "LE";
        string field = IsVarint ? "varint" : LengthFieldSize == 8 ? "i64 " + order : string.Format(CultureInfo.InvariantCulture, "u{0} {1}", LengthFieldSize * 8, order);
        string strip = InitialBytesToStrip is { } bytes ? bytes.ToString(CultureInfo.InvariantCulture) : "header";
        text.AppendFormat(CultureInfo.InvariantCulture, "Length={0} at {1}, Adjustment={2}, Strip={3}, Max={4}", field, LengthFieldOffset, LengthAdjustment, strip, MaxFrameLength);
        if (HasTypeField)
        {
            text.AppendFormat(CultureInfo.InvariantCulture, ", Type=u{0} at {1}", TypeFieldSize * 8, TypeFieldOffset);
        }

        if (Checksum != ChecksumAlgorithm.None)
        {
            text.AppendFormat(CultureInfo.InvariantCulture, ", Checksum={0} over {1}", Checksum, ChecksumCoverage);
        }

        if (DiscardOversizedFrames)
        {
            text.Append(", DiscardOversized");
        }

        return text.ToString();
    }

    /// <summary>Reads an unsigned field of 1 to 4 bytes, or a signed 8-byte one, in this format's byte order.</summary>
    internal long ReadField(ReadOnlySpan<byte> field)
    {
        bool big = ByteOrder == ByteOrder.BigEndian;
        return field.Length switch
        {
            1 => field[0],
            2 => big ? BinaryPrimitives.ReadUInt16BigEndian(field) : BinaryPrimitives.ReadUInt16LittleEndian(field),
            3 => big ? (field[0] << 16) | (field[1] << 8) | field[2] : field[0] | (field[1] << 8) | (field[2] << 16),
            4 => big ? BinaryPrimitives.ReadUInt32BigEndian(field) : BinaryPrimitives.ReadUInt32LittleEndian(field),
            _ => big ? BinaryPrimitives.ReadInt64BigEndian(field) : BinaryPrimitives.ReadInt64LittleEndian(field),
        };
    }

    /// <summary>Writes the low bytes of a value as a field of 1, 2, 3, 4 or 8 bytes in this format's byte order.</summary>
    internal void WriteField(Span<byte> field, long value)
    {
        bool big = ByteOrder == ByteOrder.BigEndian;
        switch (field.Length)
        {
            case 1:
                field[0] = (byte)value;
                break;
            case 2:
                if (big) BinaryPrimitives.WriteUInt16BigEndian(field, (ushort)value);
                else BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)value);
                break;
            case 3:
                // Stryker disable once Bitwise : a 3-byte field's value is never negative, so >> and >>> agree
                field[big ? 0 : 2] = (byte)(value >> 16);
                // Stryker disable once Bitwise : a field's value is never negative, so >> and >>> agree
                field[1] = (byte)(value >> 8);
                field[big ? 2 : 0] = (byte)value;
                break;
            case 4:
                if (big) BinaryPrimitives.WriteUInt32BigEndian(field, (uint)value);
                else BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)value);
                break;
            default:
                if (big) BinaryPrimitives.WriteInt64BigEndian(field, value);
                else BinaryPrimitives.WriteInt64LittleEndian(field, value);
                break;
        }
    }

    /// <summary>The number of bytes the frame's first bytes to strip come to, given the frame's header length.</summary>
    internal int StripLength(int headerLength) => InitialBytesToStrip ?? headerLength;

    /// <summary>Where the checksum's coverage starts, given the frame's length-field end and header length.</summary>
    internal int ChecksumStart(int lengthFieldEnd, int headerLength) => ChecksumCoverage switch
    {
        ChecksumCoverage.Frame => 0,
        ChecksumCoverage.AfterLengthField => lengthFieldEnd,
        _ => StripLength(headerLength),
    };

    /// <summary>The shortest legal frame, given its header length: the header or the stripped bytes, then the trailer.</summary>
    internal long ShortestFrame(int headerLength) => Math.Max(headerLength, StripLength(headerLength)) + ChecksumLength;
}
