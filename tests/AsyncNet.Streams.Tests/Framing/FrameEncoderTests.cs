using System.Buffers;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using static AsyncNet.Streams.Tests.Framing.FramingTestKit;

namespace AsyncNet.Streams.Tests.Framing;

public class FrameEncoderTests
{
    // Netty's javadoc examples, encoded byte for byte. Header bytes before the length field (Netty's "Header 1",
    // HDR1) are the type field, so the encoder can write them; HDR2 after the length field is payload.

    [Fact]
    public void Encode_Netty1To3_WriteTheJavadocBytes()
    {
        Assert.Equal(Bytes(0x00, 0x0C, HelloWorld), new FrameEncoder(new(lengthFieldSize: 2, initialBytesToStrip: 0)).Encode(0, HelloWorld));
        Assert.Equal(Bytes(0x00, 0x0C, HelloWorld), new FrameEncoder(new(lengthFieldSize: 2, initialBytesToStrip: 2)).Encode(0, HelloWorld));
        Assert.Equal(Bytes(0x00, 0x0E, HelloWorld), new FrameEncoder(new(lengthFieldSize: 2, lengthAdjustment: -2, initialBytesToStrip: 0)).Encode(0, HelloWorld));
    }

    [Fact]
    public void Encode_Netty4_HeaderOneAsType()
    {
        var encoder = new FrameEncoder(new(typeFieldSize: 2, lengthFieldOffset: 2, lengthFieldSize: 3, initialBytesToStrip: 0));
        Assert.Equal(Bytes(0xCA, 0xFE, 0x00, 0x00, 0x0C, HelloWorld), encoder.Encode(0xCAFE, HelloWorld));
    }

    [Fact]
    public void Encode_Netty5_HeaderOneAfterTheLengthAsType()
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: 3, typeFieldOffset: 3, typeFieldSize: 2, lengthAdjustment: 2, initialBytesToStrip: 0));
        Assert.Equal(Bytes(0x00, 0x00, 0x0C, 0xCA, 0xFE, HelloWorld), encoder.Encode(0xCAFE, HelloWorld));
    }

    [Fact]
    public void Encode_Netty6And7_Hdr1AsTypeHdr2InPayload()
    {
        byte[] payload = Bytes(0xFE, HelloWorld);
        var six = new FrameEncoder(new(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: 2, lengthAdjustment: 1, initialBytesToStrip: 3));
        var seven = new FrameEncoder(new(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: 2, lengthAdjustment: -3, initialBytesToStrip: 3));
        Assert.Equal(Bytes(0xCA, 0x00, 0x0C, 0xFE, HelloWorld), six.Encode(0xCA, payload));
        Assert.Equal(Bytes(0xCA, 0x00, 0x10, 0xFE, HelloWorld), seven.Encode(0xCA, payload));
    }

    [Fact]
    public void Encode_TypeThenLengthCountingItself()
    {
        var encoder = new FrameEncoder(new(typeFieldSize: 1, lengthFieldOffset: 1, lengthAdjustment: -4));
        Assert.Equal(Bytes(0x07, 0, 0, 0, 7, "hi!"), encoder.Encode(7, "hi!"u8));
    }

    [Fact]
    public void Encode_PngIend_WritesTheKnownCrc()
    {
        var png = new FrameEncoder(new(typeFieldOffset: 4, typeFieldSize: 4, lengthAdjustment: 8,
            checksum: ChecksumAlgorithm.Crc32, checksumCoverage: ChecksumCoverage.AfterLengthField));
        Assert.Equal(Bytes(0, 0, 0, 0, "IEND", 0xAE, 0x42, 0x60, 0x82), png.Encode(0x49454E44, []));
    }

    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(127, new byte[] { 0x7F })]
    [InlineData(128, new byte[] { 0x80, 0x01 })]
    [InlineData(300, new byte[] { 0xAC, 0x02 })]
    [InlineData(16383, new byte[] { 0xFF, 0x7F })]
    [InlineData(16384, new byte[] { 0x80, 0x80, 0x01 })]
    public void WriteHeader_Varint_WritesMinimalLeb128(long payloadLength, byte[] expected)
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: LengthFieldFormat.Varint));
        Span<byte> header = stackalloc byte[encoder.MaxHeaderLength];
        int length = encoder.WriteHeader(header, 0, payloadLength);
        Assert.Equal(expected, header[..length].ToArray());
        Assert.Equal(length, encoder.GetHeaderLength(payloadLength));
        Assert.Equal(length + payloadLength, encoder.GetFrameLength(payloadLength));
    }

    [Fact]
    public void WriteHeader_VarintOfMaxLength_TakesNineBytes()
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: LengthFieldFormat.Varint, maxFrameLength: long.MaxValue, lengthAdjustment: -10));
        Span<byte> header = stackalloc byte[encoder.MaxHeaderLength];
        int length = encoder.WriteHeader(header, 0, long.MaxValue - 10);
        Assert.Equal(9, length);
        Assert.Equal(Bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), header[..length].ToArray());
    }

    [Theory]
    [InlineData(ByteOrder.BigEndian, new byte[] { 0x01, 0x02, 0x03 })]
    [InlineData(ByteOrder.LittleEndian, new byte[] { 0x03, 0x02, 0x01 })]
    public void WriteHeader_ThreeByteField_InEitherOrder(ByteOrder order, byte[] expected)
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: 3, byteOrder: order, maxFrameLength: 1 << 24));
        Span<byte> header = stackalloc byte[3];
        encoder.WriteHeader(header, 0, 0x010203);
        Assert.Equal(expected, header.ToArray());
    }

    [Theory]
    [InlineData(ByteOrder.BigEndian, new byte[] { 0, 0, 0, 0, 0, 0, 0x01, 0x02 })]
    [InlineData(ByteOrder.LittleEndian, new byte[] { 0x02, 0x01, 0, 0, 0, 0, 0, 0 })]
    public void WriteHeader_EightByteField_InEitherOrder(ByteOrder order, byte[] expected)
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: 8, byteOrder: order));
        Span<byte> header = stackalloc byte[8];
        encoder.WriteHeader(header, 0, 0x0102);
        Assert.Equal(expected, header.ToArray());
    }

    [Fact]
    public void WriteHeader_PayloadTooLongForTheField_NamesBothNumbers()
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: 1));
        var e = Assert.Throws<ArgumentException>(() => encoder.Encode(0, new byte[256]));
        Assert.Contains("256", e.Message);
        Assert.Contains("255", e.Message);
        Assert.Equal(256, encoder.Encode(0, new byte[255]).Length);
    }

    [Fact]
    public void WriteHeader_FieldCountingTheHeader_CountsItAgainstTheFieldsLimit()
    {
        // A 1-byte field that counts itself holds a payload of at most 254.
        var encoder = new FrameEncoder(new(lengthFieldSize: 1, lengthAdjustment: -1));
        var e = Assert.Throws<ArgumentException>(() => encoder.GetFrameLength(255));
        Assert.Contains("255", e.Message);
        Assert.Contains("256", e.Message);
        Assert.Equal(255, encoder.GetFrameLength(254));
    }

    [Fact]
    public void WriteHeader_FrameOverMax_NamesBothNumbers()
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: 2, maxFrameLength: 10));
        var e = Assert.Throws<ArgumentException>(() => encoder.Encode(0, new byte[9]));
        Assert.Contains("11", e.Message);
        Assert.Contains("10", e.Message);
    }

    [Fact]
    public void WriteHeader_PositiveAdjustmentNeedsPayloadBytes()
    {
        // Netty's sixth example: HDR2 after the length field is not counted, so the payload carries at least that byte.
        var encoder = new FrameEncoder(new(lengthFieldOffset: 1, lengthFieldSize: 2, lengthAdjustment: 1));
        var e = Assert.Throws<ArgumentException>(() => encoder.Encode(0, []));
        Assert.Contains("-1", e.Message);
        Assert.Contains("at least 1", e.Message);
    }

    [Fact]
    public void WriteHeader_PayloadShorterThanTheStrippedBytes_Throws()
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: 1, initialBytesToStrip: 3));
        Assert.Throws<ArgumentException>(() => encoder.Encode(0, [1]));
        Assert.Equal(Bytes(2, 1, 2), encoder.Encode(0, [1, 2]));
    }

    [Fact]
    public void WriteHeader_TypeTooLargeOrWithoutField_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameEncoder(new(typeFieldSize: 1, lengthFieldOffset: 1)).Encode(256, []));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new FrameEncoder(LengthFieldFormat.Default).Encode(1, []));
        Assert.Contains("no type field", e.Message);
    }

    [Fact]
    public void Encode_IntoTooShortDestination_Throws()
    {
        var encoder = new FrameEncoder(LengthFieldFormat.Default);
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(new byte[6], 0, "abc"u8));
    }

    [Fact]
    public void Encode_BufferWriterSpanAndSequence_AgreeWithArray()
    {
        var encoder = new FrameEncoder(new(typeFieldSize: 2, lengthFieldOffset: 2, checksum: ChecksumAlgorithm.Crc32C, checksumCoverage: ChecksumCoverage.Payload));
        byte[] payload = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        byte[] expected = encoder.Encode(0x1234, payload);

        var writer = new ArrayBufferWriter<byte>();
        Assert.Equal(expected.Length, encoder.Encode(writer, 0x1234, payload));
        Assert.Equal(expected, writer.WrittenSpan.ToArray());

        writer.Clear();
        encoder.Encode(writer, 0x1234, Sequence(payload[..3], payload[3..500], [], payload[500..]));
        Assert.Equal(expected, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void EncodeGathered_ListsHeaderPayloadTrailer_WithoutCopyingThePayload()
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: 2, checksum: ChecksumAlgorithm.Crc32));
        byte[] payload = "gathered"u8.ToArray();
        byte[] scratch = new byte[encoder.ScratchLength];
        var parts = new List<ReadOnlyMemory<byte>>();
        long length = encoder.EncodeGathered(0, payload, scratch, parts);

        Assert.Equal(3, parts.Count);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(parts[1], out ArraySegment<byte> middle));
        Assert.Same(payload, middle.Array);
        byte[] joined = parts.SelectMany(p => p.ToArray()).ToArray();
        Assert.Equal(encoder.Encode(0, payload), joined);
        Assert.Equal(joined.Length, length);
    }

    [Fact]
    public void EncodeGathered_EmptyPayloadNoChecksum_IsOnlyTheHeader()
    {
        var encoder = new FrameEncoder(LengthFieldFormat.Default);
        var parts = new List<ReadOnlyMemory<byte>>();
        encoder.EncodeGathered(0, ReadOnlyMemory<byte>.Empty, new byte[encoder.ScratchLength], parts);
        Assert.Equal(Bytes(0, 0, 0, 0), Assert.Single(parts).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.EncodeGathered(0, ReadOnlyMemory<byte>.Empty, new byte[3], parts));
    }

    [Fact]
    public void WriteTrailer_SequenceAndSpan_Agree()
    {
        var encoder = new FrameEncoder(new(lengthFieldSize: 1, checksum: ChecksumAlgorithm.Crc32, initialBytesToStrip: 3, maxFrameLength: 255));
        byte[] payload = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();
        Span<byte> header = stackalloc byte[1];
        encoder.WriteHeader(header, 0, payload.Length);
        byte[] a = new byte[4], b = new byte[4];
        encoder.WriteTrailer(a, header, payload);
        encoder.WriteTrailer(b, header, Sequence(payload[..1], payload[1..70], payload[70..]));
        Assert.Equal(a, b);
    }

    [Fact]
    public void RoundTrip_EveryChecksumCoverageWithStripInsideThePayload()
    {
        foreach (ChecksumCoverage coverage in Enum.GetValues<ChecksumCoverage>())
        {
            var format = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: 2, initialBytesToStrip: 5,
                checksum: ChecksumAlgorithm.Crc32, checksumCoverage: coverage);
            byte[] wire = new FrameEncoder(format).Encode(9, "abcdef"u8);
            DecodeOutcome outcome = DecodeWhole(format, wire);
            Assert.Null(outcome.Fault);
            Assert.Equal([new DecodedFrame(9, "cdef"u8.ToArray())], outcome.Frames);
        }
    }
}
