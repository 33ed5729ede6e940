using AsyncNet.Echo;
using AsyncNet.Properties;
using AsyncNet.Streams.Framing.Codec;
using FsCheck;
using FsCheck.Fluent;

namespace AsyncNet.Cli.Tests.Fuzz;

public sealed class FrameFormatTextTests
{
    [Fact]
    public void Parse_TheIssuesExample_IsATypeThenALengthCountingItself_WithACrc32CTrailer()
    {
        LengthFieldFormat format = FrameFormatText.Parse("offset=1,length=4,type=1,adjust=-4,checksum=crc32c,max=65536");

        Assert.Equal(1, format.LengthFieldOffset);
        Assert.Equal(4, format.LengthFieldSize);
        Assert.Equal(1, format.TypeFieldSize);
        Assert.Equal(0, format.TypeFieldOffset);
        Assert.Equal(-4, format.LengthAdjustment);
        Assert.Equal(ChecksumAlgorithm.Crc32C, format.Checksum);
        Assert.Equal(65536, format.MaxFrameLength);
        Assert.Null(format.InitialBytesToStrip);
        Assert.Equal("offset=1,adjust=-4,max=64KiB,type=1,checksum=crc32c", FrameFormatText.Format(format));
    }

    [Theory]
    [InlineData("", "default")]
    [InlineData("DEFAULT", "default")]
    [InlineData("length=4, order=be, strip=header, max=8MiB", "default")]
    [InlineData(" Length = varint ", "length=varint")]
    [InlineData("order=le,length=2,strip=0,max=1000", "length=2,order=le,strip=0,max=1000")]
    [InlineData("length=8,type=4,type-offset=8,coverage=after-length,checksum=crc32,discard-oversized", "length=8,type=4,type-offset=8,checksum=crc32,coverage=after-length,discard-oversized")]
    [InlineData("max=2GiB,length=3", "length=3,max=2GiB")]
    public void Format_WritesTheCanonicalText_OfWhatParseRead(string text, string canonical)
    {
        Assert.Equal(canonical, FrameFormatText.Format(FrameFormatText.Parse(text)));
    }

    [Fact]
    public void FormatThenParse_DescribesTheSameLayout_ForAnyFormat()
    {
        // FramingGen.format makes formats of every shape the codec accepts (varints, types, checksums, adjustments).
        Prop.ForAll(Arb.From(FramingGen.format), format =>
        {
            string text = FrameFormatText.Format(format);
            LengthFieldFormat back = FrameFormatText.Parse(text);
            return back.ToString() == format.ToString() && FrameFormatText.Format(back) == text;
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData("size=4", "Frame format item \"size=4\" is not known; expected one of offset, length, order")]
    [InlineData("length=2,length=4", "Frame format item \"length\" is given twice")]
    [InlineData("length", "Frame format item \"length\": a value is needed after '='.")]
    [InlineData("discard-oversized=yes", "Frame format item \"discard-oversized\" is a flag and takes no value.")]
    [InlineData("length=two", "Frame format item \"length=two\": expected a whole number or varint.")]
    [InlineData("order=middle", "Frame format item \"order=middle\": expected one of be, le.")]
    [InlineData("max=lots", "Frame format item \"max=lots\": expected a byte count such as 65536, 64KiB or 8MiB.")]
    [InlineData("type=1,offset=0", "Frame format \"type=1,offset=0\" is not valid: The type field (bytes 0 to 0) overlaps the length field (bytes 0 to 3).")]
    [InlineData("length=5", "Frame format \"length=5\" is not valid: The length field's size must be 1, 2, 3, 4 or 8 bytes")]
    public void Parse_Rejects_NamingTheItemOrTheContradiction(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => FrameFormatText.Parse(text));

        Assert.StartsWith(message, e.Message);
        Assert.False(FrameFormatText.TryParse(text, out _, out string? error));
        Assert.Equal(e.Message, error);
    }
}
