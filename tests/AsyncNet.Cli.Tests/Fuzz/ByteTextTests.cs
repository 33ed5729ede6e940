using System.Diagnostics;
using AsyncNet.Cli.Fuzz;

namespace AsyncNet.Cli.Tests.Fuzz;

public sealed class ByteTextTests
{
    [Fact]
    public void PrintfFormat_MakesTheSystemsPrintfWriteEveryByteExactly()
    {
        byte[] every = [.. Enumerable.Range(0, 256).Select(i => (byte)i), .. "it's 100% \\ 'quoted'"u8];
        string format = ByteText.PrintfFormat(every);

        // Run as the report prints it, through a shell, so the quoting is checked too.
        var start = new ProcessStartInfo("/bin/sh", ["-c", $"printf {format}"]) { RedirectStandardOutput = true };
        using Process printf = Process.Start(start)!;
        using var output = new MemoryStream();
        printf.StandardOutput.BaseStream.CopyTo(output);
        Assert.True(printf.WaitForExit(TimeSpan.FromSeconds(20)));

        Assert.Equal(0, printf.ExitCode);
        Assert.Equal(every, output.ToArray());
    }

    [Fact]
    public void PrintfFormat_KeepsPlainTextReadable()
    {
        Assert.Equal("'GET /a?b=c HTTP/1.1\\015\\012'", ByteText.PrintfFormat("GET /a?b=c HTTP/1.1\r\n"u8.ToArray()));
    }

    [Fact]
    public void Quote_EscapesWhatIsNotPrintable()
    {
        Assert.Equal("\"a\\\"b\\\\c\\t\\xFF\"", ByteText.Quote([(byte)'a', (byte)'"', (byte)'b', (byte)'\\', (byte)'c', 9, 255]));
    }
}
