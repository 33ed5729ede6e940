using System.Buffers;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>The length arithmetic at its edges: field widths and byte orders at their limits, the smallest maximum, saturation.</summary>
public sealed class LengthFieldEdgeTests
{
    [Theory]
    [InlineData(ByteOrder.BigEndian, new byte[] { 0x01, 0x02, 0x03 })]
    [InlineData(ByteOrder.LittleEndian, new byte[] { 0x03, 0x02, 0x01 })]
    public void ThreeByteField_HoldsLengthsPast65535_InItsByteOrder(ByteOrder order, byte[] field)
    {
        // 0x010203 = 66,051: the third byte matters.
        var format = new LengthFieldFormat(lengthFieldSize: 3, byteOrder: order);
        byte[] payload = Bytes.Random(0x010203, seed: 9);

        byte[] wire = new FrameEncoder(format).Encode(0, payload);

        Assert.Equal(field, wire[..3]);
        var decoder = new FrameDecoder(format);
        var buffer = new ReadOnlySequence<byte>(wire);
        Assert.True(decoder.TryDecode(ref buffer, out Frame frame));
        Assert.Equal(payload.Length, frame.Payload.Length);
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData(ByteOrder.BigEndian, 1)]
    [InlineData(ByteOrder.LittleEndian, 1)]
    [InlineData(ByteOrder.BigEndian, 2)]
    [InlineData(ByteOrder.LittleEndian, 2)]
    [InlineData(ByteOrder.BigEndian, 4)]
    [InlineData(ByteOrder.LittleEndian, 4)]
    [InlineData(ByteOrder.BigEndian, 8)]
    [InlineData(ByteOrder.LittleEndian, 8)]
    public void Field_ReadsBackWhatItWrites_AtItsLargestValue(ByteOrder order, int size)
    {
        var format = new LengthFieldFormat(lengthFieldSize: size, byteOrder: order);
        long largest = format.MaxLengthFieldValue;
        byte[] field = new byte[size];

        format.WriteField(field, largest);

        Assert.Equal(largest, format.ReadField(field));
        Assert.All(field[..Math.Min(size, 4)], b => Assert.NotEqual(0, b));
    }

    [Fact]
    public void MaxFrameLength_OfOne_IsAccepted_AndZeroIsRefusedNamingIt()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 1, lengthAdjustment: -1, maxFrameLength: 1);
        Assert.Equal(1, format.MaxFrameLength);

        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(maxFrameLength: 0));
        Assert.Equal("maxFrameLength", refused.ParamName);
        Assert.Contains("it was 0", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeclaredLength_ThatWouldOverflowWithTheHeader_SaturatesAndIsTooLarge()
    {
        // An 8-byte field holding long.MaxValue - 1, plus the 8 header bytes and an adjustment of 5: past long.MaxValue.
        var format = new LengthFieldFormat(lengthFieldSize: 8, lengthAdjustment: 5);
        byte[] wire = new byte[8];
        format.WriteField(wire, long.MaxValue - 1);
        var buffer = new ReadOnlySequence<byte>(wire);

        var tooLarge = Assert.Throws<FrameTooLargeException>(() => new FrameDecoder(format).TryDecode(ref buffer, out _));

        Assert.Equal(long.MaxValue, tooLarge.DeclaredLength);
        Assert.Equal(format.MaxFrameLength, tooLarge.MaxFrameLength);
    }
}
