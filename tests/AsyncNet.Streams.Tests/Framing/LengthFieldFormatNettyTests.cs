using System.Buffers;
using AsyncNet.Streams.Framing.Codec;
using static AsyncNet.Streams.Tests.Framing.FramingTestKit;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// <see cref="LengthFieldFormat.FromNetty(int, int, int, int, int, bool)"/>: Netty's argument order and defaults, so
/// the examples of Netty's <c>LengthFieldBasedFrameDecoder</c> documentation decode as documented when written the
/// Netty way. Each example is decoded whole, split at every position and byte by byte, by both decoders.
/// </summary>
public class LengthFieldFormatNettyTests
{
    private const int Max = 1024;

    /// <summary>Both decoders, every chunking: exactly one frame, <paramref name="after"/>.</summary>
    private static void AssertDecodesTo(LengthFieldFormat format, byte[] before, byte[] after)
    {
        foreach ((string name, int[] cuts) in Chunkings(before.Length))
        {
            DecodeOutcome outcome = Decode(format, before, cuts);
            Assert.Null(outcome.Fault);
            Assert.Equal(after, Assert.Single(outcome.Frames).Payload);

            using var push = new PushFrameDecoder(format);
            var frames = new List<byte[]>();
            int offset = 0;
            foreach (int cut in cuts)
            {
                push.Feed(before.AsMemory(offset, cut));
                offset += cut;
                while (push.TryReadFrame(out Frame frame))
                {
                    frames.Add(frame.Payload.ToArray());
                }
            }

            Assert.True(push.IsAtFrameBoundary, name);
            Assert.Equal(after, Assert.Single(frames));
        }
    }

    [Fact]
    public void Example1_TwoByteLengthAtOffset0_HeaderNotStripped()
    {
        byte[] before = Bytes(0x00, 0x0C, HelloWorld);
        AssertDecodesTo(LengthFieldFormat.FromNetty(Max, 0, 2, 0, 0), before, before);
    }

    [Fact]
    public void Example1_LeftAtNettysDefaults_StripsNothing()
    {
        byte[] before = Bytes(0x00, 0x0C, HelloWorld);
        AssertDecodesTo(LengthFieldFormat.FromNetty(Max, 0, 2), before, before);
    }

    [Fact]
    public void Example2_TwoByteLengthAtOffset0_HeaderStripped()
    {
        AssertDecodesTo(LengthFieldFormat.FromNetty(Max, 0, 2, 0, 2), Bytes(0x00, 0x0C, HelloWorld), HelloWorld);
    }

    [Fact]
    public void Example3_LengthCountsTheWholeMessage()
    {
        byte[] before = Bytes(0x00, 0x0E, HelloWorld);
        AssertDecodesTo(LengthFieldFormat.FromNetty(Max, 0, 2, -2, 0), before, before);
    }

    [Fact]
    public void Example4_ThreeByteLengthAtTheEndOfAFiveByteHeader()
    {
        byte[] before = Bytes(0xCA, 0xFE, 0x00, 0x00, 0x0C, HelloWorld);
        AssertDecodesTo(LengthFieldFormat.FromNetty(Max, 2, 3, 0, 0), before, before);
    }

    [Fact]
    public void Example5_ThreeByteLengthAtTheStartOfAFiveByteHeader()
    {
        byte[] before = Bytes(0x00, 0x00, 0x0C, 0xCA, 0xFE, HelloWorld);
        AssertDecodesTo(LengthFieldFormat.FromNetty(Max, 0, 3, 2, 0), before, before);
    }

    [Fact]
    public void Example6_TwoByteLengthAtOffset1_FirstHeaderFieldAndLengthStripped()
    {
        AssertDecodesTo(LengthFieldFormat.FromNetty(Max, 1, 2, 1, 3), Bytes(0xCA, 0x00, 0x0C, 0xFE, HelloWorld), Bytes(0xFE, HelloWorld));
    }

    [Fact]
    public void Example7_AsExample6_LengthCountsTheWholeMessage()
    {
        AssertDecodesTo(LengthFieldFormat.FromNetty(Max, 1, 2, -3, 3), Bytes(0xCA, 0x00, 0x10, 0xFE, HelloWorld), Bytes(0xFE, HelloWorld));
    }

    [Fact]
    public void ByteOrderFirst_LittleEndianField_IsReadLittleEndian()
    {
        LengthFieldFormat format = LengthFieldFormat.FromNetty(ByteOrder.LittleEndian, Max, 0, 2, 0, 2, true);
        Assert.Equal(ByteOrder.LittleEndian, format.ByteOrder);
        AssertDecodesTo(format, Bytes(0x0C, 0x00, HelloWorld), HelloWorld);
    }

    [Fact]
    public void Defaults_AreNettys_NotAsyncNets()
    {
        LengthFieldFormat netty = LengthFieldFormat.FromNetty(Max, 0, 4);
        LengthFieldFormat ours = new(maxFrameLength: Max);

        Assert.Equal(0, netty.InitialBytesToStrip);
        Assert.Null(ours.InitialBytesToStrip); // AsyncNet strips the header
        Assert.True(netty.DiscardOversizedFrames);
        Assert.False(ours.DiscardOversizedFrames);
        Assert.Equal(ByteOrder.BigEndian, netty.ByteOrder);
        Assert.Equal(0, netty.LengthAdjustment);
        Assert.Equal(Max, netty.MaxFrameLength);
        Assert.False(netty.HasTypeField);
        Assert.Equal(ChecksumAlgorithm.None, netty.Checksum);
    }

    [Fact]
    public void OversizedFrame_IsReportedAtItsHeaderThenSkipped_AsNettyDoes()
    {
        LengthFieldFormat format = LengthFieldFormat.FromNetty(16, 0, 2, 0, 2);
        byte[] wire = Bytes(0x00, 0x01, "a", 0x00, 0x20, new byte[0x20], 0x00, 0x02, "bc");
        DecodeOutcome outcome = DecodeWhole(format, wire);
        Assert.Null(outcome.Fault);
        Assert.Equal(34, Assert.IsType<FrameTooLargeException>(Assert.Single(outcome.Skipped)).DeclaredLength);
        Assert.Equal([new DecodedFrame(0, "a"u8.ToArray()), new DecodedFrame(0, "bc"u8.ToArray())], outcome.Frames);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(-1)]
    public void LengthFieldLength_NotOneOfNettys_Throws(int length)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LengthFieldFormat.FromNetty(Max, 0, length));
        Assert.Equal("lengthFieldLength", e.ParamName);
        Assert.Contains(length.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void FailFastFalse_IsRejectedWithTheReason()
    {
        var e = Assert.Throws<ArgumentException>(() => LengthFieldFormat.FromNetty(Max, 0, 2, 0, 0, failFast: false));
        Assert.Equal("failFast", e.ParamName);
        Assert.Contains("as soon as its header is read", e.Message);
    }

    [Fact]
    public void OutOfRangeValues_ThrowNamingTheParameter()
    {
        Assert.Equal("maxFrameLength", Assert.Throws<ArgumentOutOfRangeException>(() => LengthFieldFormat.FromNetty(0, 0, 2)).ParamName);
        Assert.Equal("lengthFieldOffset", Assert.Throws<ArgumentOutOfRangeException>(() => LengthFieldFormat.FromNetty(Max, -1, 2)).ParamName);
        Assert.Equal("initialBytesToStrip", Assert.Throws<ArgumentOutOfRangeException>(() => LengthFieldFormat.FromNetty(Max, 0, 2, 0, -1)).ParamName);
        Assert.Equal("maxFrameLength", Assert.Throws<ArgumentException>(() => LengthFieldFormat.FromNetty(3, 2, 2)).ParamName);
    }
}
