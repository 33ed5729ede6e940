using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

public class LengthFieldFormatTests
{
    [Fact]
    public void Default_IsFourByteBigEndianPayloadLength()
    {
        LengthFieldFormat format = LengthFieldFormat.Default;
        Assert.Equal(0, format.LengthFieldOffset);
        Assert.Equal(4, format.LengthFieldSize);
        Assert.Equal(ByteOrder.BigEndian, format.ByteOrder);
        Assert.Equal(0, format.LengthAdjustment);
        Assert.Null(format.InitialBytesToStrip);
        Assert.Equal(8 * 1024 * 1024, format.MaxFrameLength);
        Assert.False(format.HasTypeField);
        Assert.Equal(ChecksumAlgorithm.None, format.Checksum);
        Assert.Equal(ChecksumCoverage.Frame, format.ChecksumCoverage);
        Assert.False(format.DiscardOversizedFrames);
        Assert.Equal(4, format.MinimumHeaderLength);
        Assert.Equal(0, format.ChecksumLength);
        Assert.Equal("Length=u32 BE at 0, Adjustment=0, Strip=header, Max=8388608", format.ToString());
    }

    [Fact]
    public void ToString_ShowsEveryNonDefaultPart()
    {
        var format = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: LengthFieldFormat.Varint,
            checksum: ChecksumAlgorithm.Crc32C, discardOversizedFrames: true, initialBytesToStrip: 0);
        Assert.Equal("Length=varint at 1, Adjustment=0, Strip=0, Max=8388608, Type=u8 at 0, Checksum=Crc32C over Frame, DiscardOversized", format.ToString());
        Assert.Equal(2, format.MinimumHeaderLength);
        Assert.Equal(11, format.MaxHeaderLength);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(-1)]
    [InlineData(16)]
    public void Constructor_UnsupportedLengthFieldSize_Throws(int size)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(lengthFieldSize: size));
        Assert.Equal("lengthFieldSize", e.ParamName);
        Assert.Contains("1, 2, 3, 4 or 8", e.Message);
        Assert.Contains(size.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void Constructor_NegativeValues_ThrowNamingTheParameter()
    {
        Assert.Equal("lengthFieldOffset", Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(lengthFieldOffset: -1)).ParamName);
        Assert.Equal("initialBytesToStrip", Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(initialBytesToStrip: -1)).ParamName);
        Assert.Equal("maxFrameLength", Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(maxFrameLength: 0)).ParamName);
        Assert.Equal("typeFieldOffset", Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(typeFieldSize: 1, typeFieldOffset: -2)).ParamName);
        Assert.Equal("typeFieldSize", Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(typeFieldSize: 5)).ParamName);
    }

    [Fact]
    public void Constructor_UndefinedEnums_Throw()
    {
        Assert.Equal("byteOrder", Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(byteOrder: (ByteOrder)7)).ParamName);
        Assert.Equal("checksum", Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(checksum: (ChecksumAlgorithm)7)).ParamName);
        Assert.Equal("checksumCoverage", Assert.Throws<ArgumentOutOfRangeException>(() => new LengthFieldFormat(checksumCoverage: (ChecksumCoverage)7)).ParamName);
    }

    [Fact]
    public void Constructor_TypeOffsetWithoutSize_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new LengthFieldFormat(typeFieldOffset: 4));
        Assert.Contains("typeFieldSize", e.Message);
    }

    [Fact]
    public void Constructor_TypeFieldOverlappingLengthField_ThrowsNamingBothRanges()
    {
        var e = Assert.Throws<ArgumentException>(() => new LengthFieldFormat(typeFieldOffset: 3, typeFieldSize: 2));
        Assert.Contains("bytes 3 to 4", e.Message);
        Assert.Contains("bytes 0 to 3", e.Message);
        _ = new LengthFieldFormat(typeFieldOffset: 4, typeFieldSize: 2);
        _ = new LengthFieldFormat(typeFieldSize: 2, lengthFieldOffset: 2);
    }

    [Fact]
    public void Constructor_TypeFieldAfterVarint_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint, typeFieldOffset: 1, typeFieldSize: 1));
        Assert.Contains("varint", e.Message);
        _ = new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint, lengthFieldOffset: 1, typeFieldSize: 1);
    }

    [Fact]
    public void Constructor_MaxShorterThanShortestFrame_ThrowsNamingBoth()
    {
        var e = Assert.Throws<ArgumentException>(() => new LengthFieldFormat(maxFrameLength: 7, checksum: ChecksumAlgorithm.Crc32));
        Assert.Equal("maxFrameLength", e.ParamName);
        Assert.Contains("(7)", e.Message);
        Assert.Contains("8 bytes", e.Message);
        _ = new LengthFieldFormat(maxFrameLength: 8, checksum: ChecksumAlgorithm.Crc32);
    }

    [Fact]
    public void Constructor_HugeOffset_ThrowsInsteadOfOverflowing()
    {
        Assert.Throws<ArgumentException>(() => new LengthFieldFormat(lengthFieldOffset: int.MaxValue, maxFrameLength: long.MaxValue));
    }

    [Theory]
    [InlineData(1, 255L)]
    [InlineData(2, 65535L)]
    [InlineData(3, 16777215L)]
    [InlineData(4, 4294967295L)]
    [InlineData(8, long.MaxValue)]
    [InlineData(LengthFieldFormat.Varint, long.MaxValue)]
    public void MaxLengthFieldValue_PerSize(int size, long expected) =>
        Assert.Equal(expected, new LengthFieldFormat(lengthFieldSize: size).MaxLengthFieldValue);

    [Fact]
    public void MaxType_PerSize()
    {
        Assert.Equal(0u, LengthFieldFormat.Default.MaxType);
        Assert.Equal(0xFFu, new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1).MaxType);
        Assert.Equal(0xFF_FFFFu, new LengthFieldFormat(typeFieldSize: 3, lengthFieldOffset: 3).MaxType);
        Assert.Equal(uint.MaxValue, new LengthFieldFormat(typeFieldSize: 4, lengthFieldOffset: 4).MaxType);
    }
}
