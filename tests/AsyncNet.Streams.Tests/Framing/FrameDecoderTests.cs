using System.Buffers;
using System.IO.Pipelines;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using static AsyncNet.Streams.Tests.Framing.FramingTestKit;

namespace AsyncNet.Streams.Tests.Framing;

public class FrameDecoderTests
{
    /// <summary>Decodes the wire bytes whole, split at every position and byte by byte: the frames are always the same.</summary>
    private static void AssertDecodes(LengthFieldFormat format, byte[] wire, params DecodedFrame[] expected)
    {
        foreach ((string name, int[] cuts) in Chunkings(wire.Length))
        {
            DecodeOutcome outcome = Decode(format, wire, cuts);
            Assert.True(outcome.Fault is null, $"{name}: {outcome.Fault}");
            Assert.True(expected.SequenceEqual(outcome.Frames), $"{name}: got [{string.Join("; ", outcome.Frames)}]");
            Assert.Equal(0, outcome.Unconsumed);
        }
    }

    private static DecodedFrame F(byte[] payload, uint type = 0) => new(type, payload);

    // Netty's LengthFieldBasedFrameDecoder javadoc, each case byte for byte: BEFORE DECODE -> AFTER DECODE.

    [Fact]
    public void Netty1_TwoByteLengthAtOffset0_DoNotStripHeader()
    {
        var format = new LengthFieldFormat(lengthFieldOffset: 0, lengthFieldSize: 2, lengthAdjustment: 0, initialBytesToStrip: 0);
        byte[] before = Bytes(0x00, 0x0C, HelloWorld);
        Assert.Equal(14, before.Length);
        AssertDecodes(format, before, F(before));
    }

    [Fact]
    public void Netty2_TwoByteLengthAtOffset0_StripHeader()
    {
        var format = new LengthFieldFormat(lengthFieldOffset: 0, lengthFieldSize: 2, lengthAdjustment: 0, initialBytesToStrip: 2);
        AssertDecodes(format, Bytes(0x00, 0x0C, HelloWorld), F(HelloWorld));
    }

    [Fact]
    public void Netty3_TwoByteLengthAtOffset0_LengthCountsWholeMessage()
    {
        var format = new LengthFieldFormat(lengthFieldOffset: 0, lengthFieldSize: 2, lengthAdjustment: -2, initialBytesToStrip: 0);
        byte[] before = Bytes(0x00, 0x0E, HelloWorld);
        AssertDecodes(format, before, F(before));
    }

    [Fact]
    public void Netty4_ThreeByteLengthAtEndOfFiveByteHeader_DoNotStripHeader()
    {
        var format = new LengthFieldFormat(lengthFieldOffset: 2, lengthFieldSize: 3, lengthAdjustment: 0, initialBytesToStrip: 0);
        byte[] before = Bytes(0xCA, 0xFE, 0x00, 0x00, 0x0C, HelloWorld);
        Assert.Equal(17, before.Length);
        AssertDecodes(format, before, F(before));
    }

    [Fact]
    public void Netty5_ThreeByteLengthAtStartOfFiveByteHeader_DoNotStripHeader()
    {
        var format = new LengthFieldFormat(lengthFieldOffset: 0, lengthFieldSize: 3, lengthAdjustment: 2, initialBytesToStrip: 0);
        byte[] before = Bytes(0x00, 0x00, 0x0C, 0xCA, 0xFE, HelloWorld);
        AssertDecodes(format, before, F(before));
    }

    [Fact]
    public void Netty6_TwoByteLengthAtOffset1InFourByteHeader_StripFirstHeaderFieldAndLength()
    {
        var format = new LengthFieldFormat(lengthFieldOffset: 1, lengthFieldSize: 2, lengthAdjustment: 1, initialBytesToStrip: 3);
        byte[] before = Bytes(0xCA, 0x00, 0x0C, 0xFE, HelloWorld);
        Assert.Equal(16, before.Length);
        byte[] after = Bytes(0xFE, HelloWorld);
        Assert.Equal(13, after.Length);
        AssertDecodes(format, before, F(after));
    }

    [Fact]
    public void Netty7_TwoByteLengthAtOffset1InFourByteHeader_StripFirstHeaderFieldAndLength_LengthCountsWholeMessage()
    {
        var format = new LengthFieldFormat(lengthFieldOffset: 1, lengthFieldSize: 2, lengthAdjustment: -3, initialBytesToStrip: 3);
        AssertDecodes(format, Bytes(0xCA, 0x00, 0x10, 0xFE, HelloWorld), F(Bytes(0xFE, HelloWorld)));
    }

    [Fact]
    public void Netty4_WithHeaderOneAsTypeField_ReadsTheType()
    {
        var format = new LengthFieldFormat(typeFieldSize: 2, lengthFieldOffset: 2, lengthFieldSize: 3, initialBytesToStrip: 0);
        byte[] before = Bytes(0xCA, 0xFE, 0x00, 0x00, 0x0C, HelloWorld);
        AssertDecodes(format, before, F(before, 0xCAFE));
    }

    [Fact]
    public void Decode_TypeThenFourByteLengthCountingItself_ReturnsTypeAndPayload()
    {
        var format = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: 4, lengthAdjustment: -4);
        byte[] wire = Bytes(0x07, 0x00, 0x00, 0x00, 0x07, "hi!", 0x09, 0x00, 0x00, 0x00, 0x04);
        AssertDecodes(format, wire, F(Bytes("hi!"), 7), F([], 9));
    }

    [Fact]
    public void Decode_DefaultFormat_StripsTheHeader()
    {
        byte[] wire = Bytes(0, 0, 0, 11, "hello world", 0, 0, 0, 0, 0, 0, 0, 1, "!");
        AssertDecodes(LengthFieldFormat.Default, wire, F(Bytes("hello world")), F([]), F(Bytes("!")));
    }

    [Theory]
    [InlineData(0L, new byte[] { 0x00 })]
    [InlineData(1L, new byte[] { 0x01 })]
    [InlineData(127L, new byte[] { 0x7F })]
    [InlineData(128L, new byte[] { 0x80, 0x01 })]
    [InlineData(300L, new byte[] { 0xAC, 0x02 })]
    [InlineData(16384L, new byte[] { 0x80, 0x80, 0x01 })]
    public void Decode_VarintLength_ReadsLeb128(long length, byte[] varint)
    {
        var format = new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint);
        byte[] payload = Enumerable.Range(0, (int)length).Select(i => (byte)i).ToArray();
        byte[] wire = Concat(varint, payload, [0x01, 0xEE]);
        DecodeOutcome whole = DecodeWhole(format, wire);
        Assert.Null(whole.Fault);
        Assert.Equal([F(payload), F([0xEE])], whole.Frames);
        if (length <= 300)
        {
            AssertDecodes(format, wire, F(payload), F([0xEE]));
        }
    }

    [Fact]
    public void Decode_VarintAfterTypeAndMagic_ReadsBoth()
    {
        var format = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 2, lengthFieldSize: LengthFieldFormat.Varint, checksum: ChecksumAlgorithm.Crc32C);
        var encoder = new FrameEncoder(format);
        byte[] payload = Enumerable.Range(0, 200).Select(i => (byte)i).ToArray();
        byte[] wire = Concat(encoder.Encode(5, payload), encoder.Encode(6, []));
        Assert.Equal(Bytes(5, 0, 0xCC, 0x01), wire[..4]); // 200 + 4-byte trailer = 204 = CC 01
        AssertDecodes(format, wire, F(payload, 5), F([], 6));
    }

    [Fact]
    public void Decode_ThreeByteFields_BothByteOrders()
    {
        byte[] payload = new byte[0x0102];
        new Random(3).NextBytes(payload);
        var big = new LengthFieldFormat(lengthFieldSize: 3);
        var little = new LengthFieldFormat(lengthFieldSize: 3, byteOrder: ByteOrder.LittleEndian);
        Assert.Equal([F(payload)], DecodeWhole(big, Concat([0x00, 0x01, 0x02], payload)).Frames);
        Assert.Equal([F(payload)], DecodeWhole(little, Concat([0x02, 0x01, 0x00], payload)).Frames);
        AssertDecodes(big, Bytes(0x00, 0x00, 0x03, "abc"), F(Bytes("abc")));
    }

    [Fact]
    public void Decode_EightByteFields_BothByteOrders()
    {
        var big = new LengthFieldFormat(lengthFieldSize: 8);
        var little = new LengthFieldFormat(lengthFieldSize: 8, byteOrder: ByteOrder.LittleEndian);
        AssertDecodes(big, Bytes(0, 0, 0, 0, 0, 0, 0, 3, "abc"), F(Bytes("abc")));
        AssertDecodes(little, Bytes(3, 0, 0, 0, 0, 0, 0, 0, "abc"), F(Bytes("abc")));
    }

    [Fact]
    public void Decode_LittleEndianLengthTypeAndChecksum_ReadsEachInThatOrder()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 2, byteOrder: ByteOrder.LittleEndian, typeFieldOffset: 2, typeFieldSize: 2,
            lengthAdjustment: 6, checksum: ChecksumAlgorithm.Crc32);
        byte[] header = Bytes(0x03, 0x00, 0x34, 0x12);
        uint crc = Crc32.Compute(Concat(header, Bytes("abc")));
        byte[] wire = Concat(header, Bytes("abc"), [(byte)crc, (byte)(crc >> 8), (byte)(crc >> 16), (byte)(crc >> 24)]);
        AssertDecodes(format, wire, F(Bytes("abc"), 0x1234));
    }

    [Fact]
    public void Decode_PngIendChunk_ChecksTheCrcOverTypeAndData()
    {
        // The last chunk of every PNG file: length 0, type "IEND", CRC-32 AE 42 60 82.
        var png = new LengthFieldFormat(typeFieldOffset: 4, typeFieldSize: 4, lengthAdjustment: 8,
            checksum: ChecksumAlgorithm.Crc32, checksumCoverage: ChecksumCoverage.AfterLengthField);
        byte[] iend = Bytes(0, 0, 0, 0, "IEND", 0xAE, 0x42, 0x60, 0x82);
        AssertDecodes(png, iend, F([], 0x49454E44));
    }

    [Fact]
    public void Decode_PayloadCoverage_ChecksumCoversOnlyThePayload()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 1, lengthAdjustment: 4, checksum: ChecksumAlgorithm.Crc32C, checksumCoverage: ChecksumCoverage.Payload);
        uint crc = Crc32C.Compute("123456789"u8);
        Assert.Equal(0xE3069283u, crc);
        AssertDecodes(format, Bytes(9, "123456789", 0xE3, 0x06, 0x92, 0x83), F(Bytes("123456789")));
    }

    [Fact]
    public void TryDecode_NeverConsumesPastAFramesEnd()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 2);
        byte[] wire = Bytes(0, 3, "abc", 0, 1, "d", 0, 5, "ef");
        var decoder = new FrameDecoder(format);
        ReadOnlySequence<byte> buffer = Sequence(wire[..4], wire[4..9], wire[9..]);

        Assert.True(decoder.TryDecode(ref buffer, out Frame first));
        Assert.Equal(wire.Length - 5, buffer.Length);
        Assert.Equal("abc"u8.ToArray(), first.Payload.ToArray());

        Assert.True(decoder.TryDecode(ref buffer, out Frame second));
        Assert.Equal(wire.Length - 8, buffer.Length);
        Assert.Equal("d"u8.ToArray(), second.Payload.ToArray());

        Assert.False(decoder.TryDecode(ref buffer, out _));
        Assert.Equal(4, buffer.Length);
        Assert.Equal(7, decoder.BytesNeeded);
    }

    [Fact]
    public void TryDecode_SingleSegment_PayloadIsASliceOfTheInput()
    {
        byte[] wire = Bytes(0, 0, 0, 3, "abc");
        var decoder = new FrameDecoder(LengthFieldFormat.Default);
        var buffer = new ReadOnlySequence<byte>(wire);
        Assert.True(decoder.TryDecode(ref buffer, out Frame frame));
        Assert.True(frame.Payload.IsSingleSegment);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(frame.Payload.First, out ArraySegment<byte> segment));
        Assert.Same(wire, segment.Array);
        Assert.Equal(4, segment.Offset);
    }

    [Fact]
    public void BytesNeeded_FollowsHeaderThenWholeFrame()
    {
        var decoder = new FrameDecoder(new LengthFieldFormat(lengthFieldOffset: 1, lengthFieldSize: 2));
        Assert.Equal(3, decoder.BytesNeeded);
        ReadOnlySequence<byte> buffer = Sequence(Bytes(9, 0));
        Assert.False(decoder.TryDecode(ref buffer, out _));
        Assert.Equal(3, decoder.BytesNeeded);
        buffer = Sequence(Bytes(9, 0, 5, 1));
        Assert.False(decoder.TryDecode(ref buffer, out _));
        Assert.Equal(8, decoder.BytesNeeded);
        Assert.Equal(4, buffer.Length);
        Assert.Contains("Payload", decoder.ToString());
    }

    [Fact]
    public void BytesNeeded_InsideAVarint_AsksOneByteMore()
    {
        var decoder = new FrameDecoder(new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint));
        ReadOnlySequence<byte> buffer = Sequence(Bytes(0x80, 0x80));
        Assert.False(decoder.TryDecode(ref buffer, out _));
        Assert.Equal(3, decoder.BytesNeeded);
    }

    [Fact]
    public async Task TryDecode_OverAPipe_DeliversEveryFrameAsTheLoopReads()
    {
        var encoder = new FrameEncoder(new LengthFieldFormat(lengthFieldSize: 2, checksum: ChecksumAlgorithm.Crc32C));
        var expected = Enumerable.Range(0, 50).Select(i => Enumerable.Range(0, i * 37 % 300).Select(b => (byte)(b + i)).ToArray()).ToList();
        byte[] wire = expected.SelectMany(p => encoder.Encode(0, p)).ToArray();
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 64));
        Task writing = Task.Run(async () =>
        {
            var random = new Random(7);
            for (int offset = 0; offset < wire.Length;)
            {
                int size = Math.Min(random.Next(1, 200), wire.Length - offset);
                await pipe.Writer.WriteAsync(wire.AsMemory(offset, size));
                offset += size;
            }

            await pipe.Writer.CompleteAsync();
        });

        var decoder = new FrameDecoder(encoder.Format);
        var received = new List<byte[]>();
        while (true)
        {
            ReadResult result = await pipe.Reader.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (decoder.TryDecode(ref buffer, out Frame frame))
            {
                received.Add(frame.Payload.ToArray());
            }

            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty);
                break;
            }
        }

        await writing;
        Assert.True(decoder.IsAtFrameBoundary);
        Assert.Equal(expected.Count, received.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], received[i]);
        }
    }

    [Fact]
    public void Constructor_NullFormat_Throws() => Assert.Throws<ArgumentNullException>(() => new FrameDecoder(null!));
}
