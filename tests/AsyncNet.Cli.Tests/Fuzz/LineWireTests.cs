using AsyncNet.Cli.Fuzz;
using AsyncNet.Properties;

namespace AsyncNet.Cli.Tests.Fuzz;

public sealed class LineWireTests
{
    [Fact]
    public void LineFormat_ObeysEveryWireLaw()
    {
        // The fuzzer's line format is a wire format like any user's: its decoder must hold to the same laws.
        var options = new WireLawOptions { MaxTests = 150, Seed = 17 };

        WireLawRunner.Check(LineWire.Format(maxLine: 12, maxLines: 5), options).ThrowIfFailed();
    }

    [Fact]
    public void LineFormat_EncodesALineWithItsNewline_AndShowsItQuoted()
    {
        WireFormat<byte[]> lines = LineWire.Format(8, 4);

        Assert.Equal("ab\r\n"u8.ToArray(), lines.Encode.Invoke("ab\r"u8.ToArray()));
        Assert.Equal("\"ab\\r\\x00\"", lines.Show.Invoke([(byte)'a', (byte)'b', 13, 0]));
        Assert.Equal(4, lines.MaxMessages);
        Assert.Equal(["ab"u8.ToArray(), "abc"u8.ToArray(), "bcd"u8.ToArray()], lines.ShrinkMessage!.Invoke("abcd"u8.ToArray()));
    }
}
