using System.Text;
using AsyncNet.Properties;
using FsCheck;
using FsCheck.Fluent;

namespace AsyncNet.Streams.Tests.WireLaws;

/// <summary>
/// How a C# user checks a wire format of their own with the wire laws: a line protocol with a length limit. The
/// correct decoder satisfies every law; a decoder with an off-by-one on a CRLF split across chunks is caught, and the
/// case is shrunk to one empty line cut between its CR and its LF.
/// </summary>
public class LineProtocolWireLawTests
{
    private const int MaxLength = 16;

    private static readonly Gen<char> Letters = Gen.Elements("abcdefghijklmnopqrstuvwxyz ".ToCharArray());

    private static WireFormat<string> Format(bool splitCrlfBug) => new(
        $"CRLF lines (limit {MaxLength}){(splitCrlfBug ? ", split-CRLF bug" : "")}",
        line => Encoding.ASCII.GetBytes(line + "\r\n"),
        () => new LineDecoder(MaxLength, splitCrlfBug),
        from length in Gen.Choose(0, MaxLength)
        from chars in Gen.ArrayOf(Letters, length)
        select new string(chars))
    {
        // A line over the limit (its CRLF never needed), or a bare CR.
        Invalid = Gen.OneOf(
            from length in Gen.Choose(MaxLength + 1, MaxLength + 8)
            from chars in Gen.ArrayOf(Letters, length)
            select Encoding.ASCII.GetBytes(new string(chars)),
            Gen.Constant("ab\rx"u8.ToArray())),
        MaxBufferedBytes = MaxLength + 1, // a whole line and its CR, waiting for the LF
        ShrinkMessage = line => line.Length == 0 ? [] : [line[..(line.Length / 2)], line[1..]],
    };

    [Fact]
    public void CorrectDecoder_SatisfiesEveryWireLaw()
    {
        WireLawReport<string> report = WireLawRunner.Check(Format(splitCrlfBug: false), new WireLawOptions { Seed = 11 });
        Assert.True(report.Passed, report.Report);
        Assert.Equal(5 * 200 + 200, report.Tests); // Bounded runs valid and faulty streams
    }

    [Fact]
    public void SplitCrlfBug_IsFound_AndShrunkToAnEmptyLineCutBetweenCrAndLf()
    {
        WireLawReport<string> report = WireLawRunner.Check(Format(splitCrlfBug: true), new WireLawOptions { Seed = 11 });

        Assert.False(report.Passed, "the planted bug went unnoticed");
        WireLawFailure<string> failure = report.Failure!;
        Assert.Equal(WireLaw.RoundTrip, failure.Law);
        Assert.Equal([""], failure.Messages);
        Assert.Equal(["\r", "\n"], failure.Chunks.Select(Encoding.ASCII.GetString));
        Assert.Equal("\r\n"u8.ToArray(), failure.Bytes);
        Assert.Contains("chunks:   [\"\\r\", \"\\n\"]", report.Report);
        Assert.Contains("hex:      0D | 0A", report.Report);
        var thrown = Assert.Throws<WireLawException>(report.ThrowIfFailed);
        Assert.Equal(report.Report, thrown.Message);
    }
}
