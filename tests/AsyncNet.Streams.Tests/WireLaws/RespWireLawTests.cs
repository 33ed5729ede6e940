using System.Text;
using AsyncNet.Properties;
using FsCheck;
using FsCheck.Fluent;

namespace AsyncNet.Streams.Tests.WireLaws;

/// <summary>
/// The wire laws on a RESP-style line-plus-bulk decoder. The correct decoder satisfies every law; one that trusts a bulk
/// length past its limit accepts a header it must reject, and the laws shrink that to the header alone, in one chunk.
/// </summary>
public class RespWireLawTests
{
    private const int MaxLine = 24;
    private const int MaxBulk = 40;

    private static readonly Gen<string> SimpleText =
        from length in Gen.Choose(0, MaxLine - 1)
        from chars in Gen.ArrayOf(Gen.Elements("OKPONGabc-_ 0123".ToCharArray()), length)
        select new string(chars);

    // Bulk data may hold any byte, CR and LF included.
    private static readonly Gen<string> BulkText =
        from length in Gen.Choose(0, MaxBulk)
        from chars in Gen.ArrayOf(Gen.Frequency((4, Gen.Choose(32, 126)), (1, Gen.Elements(0, 10, 13, 255))).Select(c => (char)c), length)
        select new string(chars);

    private static WireFormat<RespValue> Format(bool trustsBulkLength) => new(
        $"RESP-style values (line {MaxLine}, bulk {MaxBulk}){(trustsBulkLength ? ", bulk length trusted" : "")}",
        value => value.Encode(),
        () => new RespDecoder(MaxLine, MaxBulk, trustsBulkLength),
        Gen.OneOf(SimpleText.Select(t => new RespValue(false, t)), BulkText.Select(t => new RespValue(true, t))))
    {
        Invalid = Gen.OneOf(
            Gen.Choose(MaxBulk + 1, 1_000_000).Select(n => Encoding.ASCII.GetBytes($"${n}\r\n")),
            Gen.Constant("$3\r\nabcXY"u8.ToArray()),
            Gen.Constant("*1\r\n"u8.ToArray())),
        MaxBufferedBytes = MaxLine + 2 + MaxBulk + 2,
        ShrinkMessage = value => value.Text.Length == 0
            ? []
            : [value with { Text = value.Text[..(value.Text.Length / 2)] }, value with { Text = value.Text[1..] }],
    };

    [Fact]
    public void CorrectDecoder_SatisfiesEveryWireLaw()
    {
        WireLawReport<RespValue> report = WireLawRunner.Check(Format(trustsBulkLength: false), new WireLawOptions { Seed = 5 });
        Assert.True(report.Passed, report.Report);
    }

    [Fact]
    public void BulkLengthTrustedPastTheLimit_IsFound_AndShrunkToTheHeaderAloneInOneChunk()
    {
        WireLawReport<RespValue> report = WireLawRunner.Check(Format(trustsBulkLength: true), new WireLawOptions { Seed = 5 });

        Assert.False(report.Passed, "the planted bug went unnoticed");
        WireLawFailure<RespValue> failure = report.Failure!;
        Assert.Equal(WireLaw.FaultOrder, failure.Law);
        Assert.Empty(failure.Messages);
        byte[] bad = Assert.IsType<byte[]>(failure.BadBytes);
        Assert.Matches(@"^\$\d+\r\n$", Encoding.ASCII.GetString(bad));
        Assert.Equal(bad, Assert.Single(failure.Chunks));
        Assert.Contains("no fault: the decoder accepted the bad bytes", failure.Reason);
    }
}
