using System.Buffers;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using static AsyncNet.Streams.Tests.Framing.FramingTestKit;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>Bad input: each fault has its own exception naming the values, and every earlier frame comes first.</summary>
public class FrameDecoderFaultTests
{
    private static readonly LengthFieldFormat TwoByte = new(lengthFieldSize: 2, maxFrameLength: 100);

    private static readonly DecodedFrame[] Earlier = [new(0, "ab"u8.ToArray()), new(0, [])];

    private static readonly byte[] EarlierWire = Bytes(0, 2, "ab", 0, 0);

    /// <summary>For every chunking: the earlier frames, then the fault; nothing of the bad frame consumed.</summary>
    private static T AssertFaultAfterEarlierFrames<T>(LengthFieldFormat format, byte[] wire, DecodedFrame[] earlier, int badFrameStart)
        where T : InvalidFrameException
    {
        T? first = null;
        foreach ((string name, int[] cuts) in Chunkings(wire.Length))
        {
            DecodeOutcome outcome = Decode(format, wire, cuts);
            Assert.True(earlier.SequenceEqual(outcome.Frames), $"{name}: got [{string.Join("; ", outcome.Frames)}]");
            T fault = Assert.IsType<T>(outcome.Fault);
            Assert.True(outcome.Unconsumed <= wire.Length - badFrameStart, $"{name}: consumed into the bad frame");
            first ??= fault;
        }

        return first!;
    }

    [Fact]
    public void TryDecode_DeclaredLengthOverMax_ThrowsFrameTooLargeAfterEarlierFrames()
    {
        byte[] wire = Concat(EarlierWire, Bytes(0, 99));
        var e = AssertFaultAfterEarlierFrames<FrameTooLargeException>(TwoByte, wire, Earlier, EarlierWire.Length);
        Assert.Equal(101, e.DeclaredLength);
        Assert.Equal(100, e.MaxFrameLength);
        Assert.Contains("101", e.Message);
        Assert.Contains("100", e.Message);
    }

    [Fact]
    public void TryDecode_DeclaredLengthOverMax_ThrowsAsSoonAsTheHeaderIsReadable()
    {
        var decoder = new FrameDecoder(TwoByte);
        ReadOnlySequence<byte> buffer = Sequence(Bytes(0xFF, 0xFF));
        Assert.Throws<FrameTooLargeException>(() => decoder.TryDecode(ref buffer, out _));
        Assert.Equal(2, buffer.Length);
        Assert.True(decoder.IsFaulted);
        var after = Assert.Throws<InvalidOperationException>(() => decoder.TryDecode(ref buffer, out _));
        Assert.IsType<FrameTooLargeException>(after.InnerException);
    }

    [Fact]
    public void TryDecode_ExactlyMax_IsAccepted()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 2, maxFrameLength: 10);
        Assert.Equal([new DecodedFrame(0, new byte[8])], DecodeWhole(format, Bytes(0, 8, new byte[8])).Frames);
        Assert.IsType<FrameTooLargeException>(DecodeWhole(format, Bytes(0, 9, new byte[9])).Fault);
    }

    [Fact]
    public void TryDecode_OversizedWithDiscard_SkipsExactlyThatFrameAndResyncs()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 2, maxFrameLength: 10, discardOversizedFrames: true);
        byte[] wire = Bytes(0, 1, "a", 0, 12, "0123456789AB", 0, 2, "bc");
        foreach ((string name, int[] cuts) in Chunkings(wire.Length))
        {
            DecodeOutcome outcome = Decode(format, wire, cuts);
            Assert.Null(outcome.Fault);
            Assert.Equal([new DecodedFrame(0, "a"u8.ToArray()), new DecodedFrame(0, "bc"u8.ToArray())], outcome.Frames);
            var skipped = Assert.IsType<FrameTooLargeException>(Assert.Single(outcome.Skipped));
            Assert.Equal(14, skipped.DeclaredLength);
            Assert.Equal(0, outcome.Unconsumed);
            _ = name;
        }
    }

    [Fact]
    public void TryDecode_OversizedWithDiscard_ThrowsThenSkipsOnTheNextCalls()
    {
        var decoder = new FrameDecoder(new LengthFieldFormat(lengthFieldSize: 1, maxFrameLength: 4, discardOversizedFrames: true));
        ReadOnlySequence<byte> buffer = Sequence(Bytes(9, 1, 2));
        Assert.Throws<FrameTooLargeException>(() => decoder.TryDecode(ref buffer, out _));
        Assert.Equal(3, buffer.Length);
        Assert.True(decoder.IsDiscarding);
        Assert.False(decoder.TryDecode(ref buffer, out _));
        Assert.True(buffer.IsEmpty);
        Assert.Equal("Discarding, Remaining=7", decoder.ToString());
        buffer = Sequence(Bytes(3, 4, 5, 6, 7, 8, 9, 1, 0xAA));
        Assert.True(decoder.TryDecode(ref buffer, out Frame frame));
        Assert.Equal(new byte[] { 0xAA }, frame.Payload.ToArray());
        Assert.True(decoder.IsAtFrameBoundary);
    }

    [Fact]
    public void TryDecode_NegativeEightByteLength_ThrowsCorruptNamingTheValue()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 8);
        byte[] earlier = Bytes(0, 0, 0, 0, 0, 0, 0, 1, "z");
        byte[] wire = Concat(earlier, Bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE));
        var e = AssertFaultAfterEarlierFrames<CorruptFrameException>(format, wire, [new(0, "z"u8.ToArray())], earlier.Length);
        Assert.Equal(-2, e.LengthFieldValue);
        Assert.Null(e.FrameLength);
        Assert.Contains("-2", e.Message);
    }

    [Fact]
    public void TryDecode_VarintAbove63Bits_ThrowsCorruptAsNegative()
    {
        var format = new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint);
        byte[] wire = Bytes(1, "z", 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
        var e = AssertFaultAfterEarlierFrames<CorruptFrameException>(format, wire, [new(0, "z"u8.ToArray())], 2);
        Assert.Equal(long.MinValue, e.LengthFieldValue);
    }

    [Fact]
    public void TryDecode_VarintLongerThanTenBytes_ThrowsCorrupt()
    {
        var format = new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint);
        byte[] wire = Bytes(1, "z", Enumerable.Repeat((byte)0xFF, 11).ToArray());
        var e = AssertFaultAfterEarlierFrames<CorruptFrameException>(format, wire, [new(0, "z"u8.ToArray())], 2);
        Assert.Null(e.LengthFieldValue);
        Assert.Contains("64 bits", e.Message);
    }

    [Fact]
    public void TryDecode_AdjustedLengthShorterThanHeader_ThrowsCorruptNamingValues()
    {
        // Netty's third example (the length counts itself), with a length of 1: a 1-byte frame cannot hold a 2-byte header.
        var format = new LengthFieldFormat(lengthFieldSize: 2, lengthAdjustment: -2, initialBytesToStrip: 0);
        byte[] earlier = Bytes(0, 3, "q");
        var e = AssertFaultAfterEarlierFrames<CorruptFrameException>(format, Concat(earlier, Bytes(0, 1)), [new(0, earlier)], earlier.Length);
        Assert.Equal(1, e.LengthFieldValue);
        Assert.Equal(1, e.FrameLength);
        Assert.Equal(2, e.ShortestFrameLength);
        Assert.Contains("-2", e.Message);
    }

    [Fact]
    public void TryDecode_AdjustedLengthShorterThanStrip_ThrowsCorrupt()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 1, initialBytesToStrip: 4);
        var e = AssertFaultAfterEarlierFrames<CorruptFrameException>(format, Bytes(3, "abc", 1, "x"), [new(0, [])], 4);
        Assert.Equal(2, e.FrameLength);
        Assert.Equal(4, e.ShortestFrameLength);
    }

    [Fact]
    public void TryDecode_FrameTooShortForChecksum_ThrowsCorrupt()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 1, lengthAdjustment: -1, checksum: ChecksumAlgorithm.Crc32);
        var e = Assert.IsType<CorruptFrameException>(DecodeWhole(format, Bytes(3, 0, 0)).Fault);
        Assert.Equal(3, e.FrameLength);
        Assert.Equal(5, e.ShortestFrameLength);
    }

    [Theory]
    [InlineData(ChecksumAlgorithm.Crc32)]
    [InlineData(ChecksumAlgorithm.Crc32C)]
    public void TryDecode_ChecksumMismatch_ThrowsAfterEarlierFramesNamingBothValues(ChecksumAlgorithm algorithm)
    {
        var format = new LengthFieldFormat(lengthFieldSize: 2, checksum: algorithm);
        var encoder = new FrameEncoder(format);
        byte[] good = encoder.Encode(0, "good"u8);
        byte[] bad = encoder.Encode(0, "bad!"u8);
        uint expected = (uint)((bad[^4] << 24) | (bad[^3] << 16) | (bad[^2] << 8) | bad[^1]);
        bad[3] ^= 0x01; // one bit of the payload flipped: "bad!" arrives as "b`d!"
        uint actual = algorithm == ChecksumAlgorithm.Crc32 ? Crc32.Compute(bad[..^4]) : Crc32C.Compute(bad[..^4]);
        var e = AssertFaultAfterEarlierFrames<ChecksumMismatchException>(format, Concat(good, bad), [new(0, "good"u8.ToArray())], good.Length);
        Assert.Equal(expected, e.Expected);
        Assert.Equal(actual, e.Actual);
        Assert.Equal(algorithm, e.Algorithm);
        Assert.Contains($"{expected:X8}", e.Message);
        Assert.Contains($"{actual:X8}", e.Message);
    }

    [Fact]
    public void TryDecode_DamagedTrailer_ThrowsChecksumMismatch()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 2, checksum: ChecksumAlgorithm.Crc32C);
        byte[] frame = new FrameEncoder(format).Encode(0, "payload"u8);
        frame[^1] ^= 0x80;
        Assert.IsType<ChecksumMismatchException>(DecodeWhole(format, frame).Fault);
    }

    [Fact]
    public void Reset_AfterAFault_DecodesAgainFromAFrameBoundary()
    {
        var decoder = new FrameDecoder(TwoByte);
        ReadOnlySequence<byte> buffer = Sequence(Bytes(0xFF, 0xFF));
        Assert.Throws<FrameTooLargeException>(() => decoder.TryDecode(ref buffer, out _));
        decoder.Reset();
        Assert.False(decoder.IsFaulted);
        buffer = Sequence(Bytes(0, 1, 7));
        Assert.True(decoder.TryDecode(ref buffer, out Frame frame));
        Assert.Equal(new byte[] { 7 }, frame.Payload.ToArray());
    }

    [Fact]
    public void Faults_AreInvalidFrameExceptionsAndIOExceptions()
    {
        Assert.True(typeof(IOException).IsAssignableFrom(typeof(InvalidFrameException)));
        Assert.True(typeof(InvalidFrameException).IsAssignableFrom(typeof(FrameTooLargeException)));
        Assert.True(typeof(InvalidFrameException).IsAssignableFrom(typeof(CorruptFrameException)));
        Assert.True(typeof(InvalidFrameException).IsAssignableFrom(typeof(ChecksumMismatchException)));
    }
}
