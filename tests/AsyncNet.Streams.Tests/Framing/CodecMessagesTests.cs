using System.Buffers;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// What the codec says when it refuses something: the right exception, naming the parameter and the numbers, so a
/// user can see what went wrong; and what its types show in ToString.
/// </summary>
public sealed class CodecMessagesTests
{
    private static void ThrowsNaming<T>(Action action, string parameter, params string[] fragments)
        where T : ArgumentException
    {
        T thrown = Assert.Throws<T>(action);
        Assert.Equal(parameter, thrown.ParamName);
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, thrown.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Format_RefusesEachBadSetting_NamingItAndItsValue()
    {
        ThrowsNaming<ArgumentOutOfRangeException>(() => _ = new LengthFieldFormat(lengthFieldOffset: -3), "lengthFieldOffset", "it was -3");
        ThrowsNaming<ArgumentOutOfRangeException>(() => _ = new LengthFieldFormat(byteOrder: (ByteOrder)7), "byteOrder", "7 is not a ByteOrder");
        ThrowsNaming<ArgumentOutOfRangeException>(() => _ = new LengthFieldFormat(initialBytesToStrip: -2), "initialBytesToStrip", "it was -2");
        ThrowsNaming<ArgumentOutOfRangeException>(() => _ = new LengthFieldFormat(typeFieldSize: 5), "typeFieldSize", "it was 5");
        ThrowsNaming<ArgumentOutOfRangeException>(() => _ = new LengthFieldFormat(typeFieldSize: 1, typeFieldOffset: -1), "typeFieldOffset", "it was -1");
        ThrowsNaming<ArgumentOutOfRangeException>(() => _ = new LengthFieldFormat(checksum: (ChecksumAlgorithm)9), "checksum", "9 is not a ChecksumAlgorithm");
        ThrowsNaming<ArgumentOutOfRangeException>(() => _ = new LengthFieldFormat(checksumCoverage: (ChecksumCoverage)8), "checksumCoverage", "8 is not a ChecksumCoverage");
        ThrowsNaming<ArgumentException>(
            () => _ = new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint, lengthFieldOffset: 1, typeFieldSize: 2),
            "typeFieldOffset", "by the length field's offset (1)", "it ends at byte 2");
    }

    [Fact]
    public void Format_BytesToStripLongerThanTheMaximum_IsRefusedNamingThem()
    {
        ThrowsNaming<ArgumentException>(() => _ = new LengthFieldFormat(initialBytesToStrip: 10, maxFrameLength: 8), "maxFrameLength", "(8)", "bytes to strip 10");
        ThrowsNaming<ArgumentException>(() => _ = new LengthFieldFormat(maxFrameLength: 3), "maxFrameLength", "bytes to strip 4");
        Assert.Equal(10, new LengthFieldFormat(initialBytesToStrip: 10, maxFrameLength: 10).MaxFrameLength);
    }

    [Fact]
    public void Format_HeaderUpToTwoGibibytesLessTheLongestVarint_IsAccepted_OneMoreIsNot()
    {
        // A 4-byte field at this offset makes the shortest frame exactly int.MaxValue - 10 bytes.
        int offset = int.MaxValue - 10 - 4;
        Assert.Equal(int.MaxValue - 10, new LengthFieldFormat(lengthFieldOffset: offset, maxFrameLength: long.MaxValue).MinimumHeaderLength);

        ThrowsNaming<ArgumentException>(
            () => _ = new LengthFieldFormat(lengthFieldOffset: offset + 1, maxFrameLength: long.MaxValue), "lengthFieldOffset", "fit in 2 GiB", (int.MaxValue - 9).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Format_MaxHeaderLength_IsTheHeaderForFixedFields_AndRoomForTheLongestVarint()
    {
        Assert.Equal(4, LengthFieldFormat.Default.MaxHeaderLength);
        Assert.Equal(6, new LengthFieldFormat(typeFieldSize: 2, lengthFieldOffset: 2).MaxHeaderLength);
        Assert.Equal(12, new LengthFieldFormat(typeFieldSize: 2, lengthFieldOffset: 2, lengthFieldSize: LengthFieldFormat.Varint).MaxHeaderLength);
    }

    [Fact]
    public void Format_ToString_ShowsLittleEndianFields()
    {
        Assert.Equal("Length=u16 LE at 0, Adjustment=0, Strip=header, Max=8388608", new LengthFieldFormat(lengthFieldSize: 2, byteOrder: ByteOrder.LittleEndian).ToString());
        Assert.StartsWith("Length=i64 LE at 0", new LengthFieldFormat(lengthFieldSize: 8, byteOrder: ByteOrder.LittleEndian).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Encoder_RefusesNullArguments()
    {
        Assert.Throws<ArgumentNullException>(() => new FrameEncoder(null!));
        var encoder = new FrameEncoder(LengthFieldFormat.Default);
        Assert.Throws<ArgumentNullException>(() => encoder.Encode((IBufferWriter<byte>)null!, 0, "x"u8));
        Assert.Throws<ArgumentNullException>(() => encoder.Encode(null!, 0, new ReadOnlySequence<byte>("x"u8.ToArray())));
        Assert.Throws<ArgumentNullException>(() => encoder.EncodeGathered(0, "x"u8.ToArray(), new byte[8], null!));
        Assert.Throws<ArgumentNullException>(() => new FrameDecoder(null!));
    }

    [Fact]
    public void Encoder_PayloadRefusals_NameThePayloadAndTheNumbers()
    {
        var small = new FrameEncoder(new LengthFieldFormat(lengthFieldSize: 2, maxFrameLength: 10));
        ThrowsNaming<ArgumentOutOfRangeException>(() => small.GetFrameLength(-1), "payloadLength", "cannot be negative");
        ThrowsNaming<ArgumentException>(() => small.GetFrameLength(11), "payload", "A payload of 11 bytes is over the format's maximum frame length of 10 bytes");

        // Exactly the maximum as a payload still needs a header: it is the frame that is too long.
        ThrowsNaming<ArgumentException>(() => small.GetFrameLength(10), "payload", "makes a frame of 12 bytes, over the format's maximum frame length of 10");

        var adjusted = new FrameEncoder(new LengthFieldFormat(lengthAdjustment: 3));
        ThrowsNaming<ArgumentException>(() => adjusted.GetFrameLength(1), "payload", "hold -2", "adjustment of 3", "at least 3 payload bytes");

        var stripping = new FrameEncoder(new LengthFieldFormat(initialBytesToStrip: 6, lengthAdjustment: -2));
        ThrowsNaming<ArgumentException>(() => stripping.GetFrameLength(0), "payload", "makes a frame of 4 bytes, shorter than the 6 bytes", "strips 6 bytes");
    }

    [Fact]
    public void Encoder_TypeFieldAfterTheLength_CountsInTheLengthField()
    {
        // A 1-byte length, then a 1-byte type it counts: a 254-byte payload fills the field (255), 255 bytes do not fit.
        var encoder = new FrameEncoder(new LengthFieldFormat(lengthFieldSize: 1, typeFieldOffset: 1, typeFieldSize: 1, maxFrameLength: 1000));

        Assert.Equal([255, 7], encoder.Encode(7, new byte[254])[..2]);
        ThrowsNaming<ArgumentException>(() => encoder.Encode(7, new byte[255]), "payload", "needs the length field to hold 256", "holds at most 255");
    }

    [Fact]
    public void Encoder_VarintFrameOfExactlyTheMaximum_IsAccepted()
    {
        var encoder = new FrameEncoder(new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint, maxFrameLength: 10));

        Assert.Equal(10, encoder.Encode(0, new byte[9]).Length);
        Assert.Throws<ArgumentException>(() => encoder.Encode(0, new byte[10]));
    }

    [Fact]
    public void Encoder_LargeFrameThroughABufferWriter_IsTheSameBytesAsInOneArray()
    {
        var format = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, checksum: ChecksumAlgorithm.Crc32C);
        var encoder = new FrameEncoder(format);
        byte[] payload = Bytes.Random(40_000, seed: 21);
        var writer = new ArrayBufferWriter<byte>(16);

        long written = encoder.Encode(writer, 3, payload);

        Assert.Equal(encoder.Encode(3, payload), writer.WrittenSpan.ToArray());
        Assert.Equal(writer.WrittenCount, written);
    }

    [Fact]
    public void Encoder_VarintWithAChecksumAfterTheLengthField_RoundTrips()
    {
        var format = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: LengthFieldFormat.Varint,
            checksum: ChecksumAlgorithm.Crc32, checksumCoverage: ChecksumCoverage.AfterLengthField);
        byte[] payload = Bytes.Random(300, seed: 22);
        byte[] wire = new FrameEncoder(format).Encode(5, payload);

        // The trailer covers the payload alone here (the header ends with the varint): CRC-32 of the payload.
        Assert.Equal(Crc32.Compute(payload), (uint)format.ReadField(wire.AsSpan(wire.Length - 4)));
        var buffer = new ReadOnlySequence<byte>(wire);
        Assert.True(new FrameDecoder(format).TryDecode(ref buffer, out Frame frame));
        Assert.Equal(payload, frame.Payload.ToArray());
    }

    [Fact]
    public void Decoder_AfterAFault_RefusesToGoOn_NamingTheFaultAndTheWayOut()
    {
        var decoder = new FrameDecoder(new LengthFieldFormat(lengthFieldSize: 2, maxFrameLength: 10));
        var buffer = new ReadOnlySequence<byte>(FramingTestKit.Bytes(0, 30, "0123"));
        var tooLarge = Assert.Throws<FrameTooLargeException>(() => decoder.TryDecode(ref buffer, out _));
        Assert.Equal("Faulted (FrameTooLargeException)", decoder.ToString());

        var refused = Assert.Throws<InvalidOperationException>(() => decoder.TryDecode(ref buffer, out _));

        Assert.Same(tooLarge, refused.InnerException);
        Assert.Contains("call Reset", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decoder_ToString_ShowsItsState()
    {
        var decoder = new FrameDecoder(new LengthFieldFormat(lengthFieldSize: 2, maxFrameLength: 10, discardOversizedFrames: true));
        Assert.Equal("Header, BytesNeeded=2", decoder.ToString());

        var buffer = new ReadOnlySequence<byte>(FramingTestKit.Bytes(0, 3, "a"));
        Assert.False(decoder.TryDecode(ref buffer, out _));
        Assert.Equal("Payload, Type=0, FrameLength=5, BytesNeeded=5", decoder.ToString());

        decoder.Reset();
        buffer = new ReadOnlySequence<byte>(FramingTestKit.Bytes(0, 30));
        var skipped = Assert.Throws<FrameTooLargeException>(() => decoder.TryDecode(ref buffer, out _));
        Assert.Contains("the decoder skips it", skipped.Message, StringComparison.Ordinal);
        Assert.Equal("Discarding, Remaining=32", decoder.ToString());
    }

    [Fact]
    public void Decoder_TooShortFrame_NamesTheArithmetic()
    {
        var format = new LengthFieldFormat(lengthAdjustment: -10);
        var buffer = new ReadOnlySequence<byte>(FramingTestKit.Bytes(0, 0, 0, 2));

        var corrupt = Assert.Throws<CorruptFrameException>(() => new FrameDecoder(format).TryDecode(ref buffer, out _));

        Assert.Contains("holds 2, which with the adjustment of -10", corrupt.Message, StringComparison.Ordinal);
        Assert.Contains("shorter than the 4 bytes", corrupt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decoder_VarintAfterATypeField_NeedsTheByteAfterTheType_AndAnOverlongOneNamesTheShortestFrame()
    {
        var format = new LengthFieldFormat(typeFieldSize: 2, lengthFieldOffset: 2, lengthFieldSize: LengthFieldFormat.Varint);
        var decoder = new FrameDecoder(format);
        var buffer = new ReadOnlySequence<byte>(new byte[] { 1 });
        Assert.False(decoder.TryDecode(ref buffer, out _));
        Assert.Equal(3, decoder.BytesNeeded);

        byte[] overlong = [0, 1, .. Enumerable.Repeat((byte)0xFF, 10)];
        buffer = new ReadOnlySequence<byte>(overlong);
        var corrupt = Assert.Throws<CorruptFrameException>(() => new FrameDecoder(format).TryDecode(ref buffer, out _));
        Assert.Equal(12, corrupt.ShortestFrameLength);
    }

    [Fact]
    public void Decoder_HeaderOnlyFrameFillingTheBuffer_TakesTheFastPath()
    {
        var decoder = new FrameDecoder(LengthFieldFormat.Default);
        var buffer = new ReadOnlySequence<byte>(new byte[4]);

        Assert.True(decoder.TryDecode(ref buffer, out Frame frame));

        Assert.True(frame.Payload.IsEmpty);
        Assert.Equal(1, decoder.FastPathFrames);
    }

    [Fact]
    public void Frame_ToString_ShowsTypeAndPayloadLength()
    {
        Assert.Equal("Type=3, Payload=5 bytes", new Frame(3, "hello"u8.ToArray()).ToString());
        Assert.Equal("FrameEncoder(Length=u32 BE at 0, Adjustment=0, Strip=header, Max=8388608)", new FrameEncoder(LengthFieldFormat.Default).ToString());
    }
}
