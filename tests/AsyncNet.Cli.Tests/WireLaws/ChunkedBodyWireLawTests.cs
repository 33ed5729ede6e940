using System.Text;
using AsyncNet.Properties;
using FsCheck;
using FsCheck.Fluent;

namespace AsyncNet.Cli.Tests.WireLaws;

/// <summary>
/// The wire laws on the HTTP sample's chunked-body grammar (through <see cref="ChunkedBodyDecoder"/>): the correct
/// decoder satisfies every law; one that takes a chunk-size line split across two segments as complete is caught, and
/// the case is shrunk to a tiny body cut inside a size line.
/// </summary>
public class ChunkedBodyWireLawTests
{
    private const int MaxLineLength = 64;

    // Chunk data may hold any byte, CR and LF included.
    private static readonly Gen<string> Data =
        from length in Gen.Frequency((3, Gen.Choose(1, 20)), (1, Gen.Choose(15, 300)))
        from chars in Gen.ArrayOf(Gen.Frequency((4, Gen.Choose(32, 126)), (1, Gen.Elements(0, 10, 13, 255))).Select(c => (char)c), length)
        select new string(chars);

    private static readonly Gen<string> Trailer =
        from name in Gen.Elements("X-Checksum", "Expires", "X-A")
        from value in Gen.Elements("42", "", "a b", "\u00e9t\u00e9")
        select $"{name}: {value}";

    private static readonly Gen<ChunkedBody> Bodies =
        from chunks in Gen.Choose(0, 4).SelectMany(n => Gen.ListOf(Data, n))
        from extensions in Gen.Elements(false, true)
        from trailers in Gen.Choose(0, 2).SelectMany(n => Gen.ListOf(Trailer, n))
        select new ChunkedBody(chunks.ToArray(), extensions, trailers.ToArray());

    private static WireFormat<ChunkedBody> Format(bool sizeLineSplitBug) => new(
        $"chunked bodies (line {MaxLineLength}){(sizeLineSplitBug ? ", size line split bug" : "")}",
        body => body.Encode(),
        () => new ChunkedBodyDecoder(MaxLineLength, sizeLineSplitBug),
        Bodies)
    {
        Invalid = Gen.Elements(
            "zz\r\n"u8.ToArray(),                          // not a hexadecimal size
            "5\r\nabcdeXY\r\n"u8.ToArray(),                // data not followed by CRLF
            "3 x\r\n"u8.ToArray(),                         // something other than ;extensions after the size
            "0\r\nno colon\r\n"u8.ToArray(),               // a trailer that is not a field
            Encoding.ASCII.GetBytes(new string('1', MaxLineLength + 3))), // a size line over the limit
        MaxMessages = 4,
        ShrinkMessage = body => Shrink(body),
    };

    private static IEnumerable<ChunkedBody> Shrink(ChunkedBody body)
    {
        for (int i = 0; i < body.Chunks.Count; i++)
        {
            yield return body with { Chunks = [.. body.Chunks.Where((_, j) => j != i)] };
            string chunk = body.Chunks[i];
            if (chunk.Length > 1)
            {
                yield return body with { Chunks = [.. body.Chunks.Select((c, j) => j == i ? c[..(c.Length / 2)] : c)] };
                yield return body with { Chunks = [.. body.Chunks.Select((c, j) => j == i ? c[1..] : c)] };
            }
        }

        for (int i = 0; i < body.Trailers.Count; i++)
        {
            yield return body with { Trailers = [.. body.Trailers.Where((_, j) => j != i)] };
        }

        if (body.Extensions)
        {
            yield return body with { Extensions = false };
        }
    }

    [Fact]
    public void CorrectDecoder_SatisfiesEveryWireLaw()
    {
        WireLawReport<ChunkedBody> report = WireLawRunner.Check(Format(sizeLineSplitBug: false), new WireLawOptions { Seed = 3 });
        Assert.True(report.Passed, report.Report);
    }

    [Fact]
    public void SizeLineSplitAcrossSegments_IsFound_AndShrunkToATinyBodyCutInsideASizeLine()
    {
        WireLawReport<ChunkedBody> report = WireLawRunner.Check(Format(sizeLineSplitBug: true), new WireLawOptions { Seed = 3 });

        Assert.False(report.Passed, "the planted bug went unnoticed");
        WireLawFailure<ChunkedBody> failure = report.Failure!;
        Assert.Equal(WireLaw.RoundTrip, failure.Law);
        ChunkedBody body = Assert.Single(failure.Messages);
        Assert.True(body.Chunks.Sum(c => c.Length) <= 1 && body.Trailers.Count == 0 && !body.Extensions, report.Report);
        Assert.Equal(2, failure.Chunks.Count);

        // The cut falls inside a size line: the first chunk ends without the line's LF.
        string first = Encoding.Latin1.GetString(failure.Chunks[0]);
        Assert.False(first.EndsWith('\n'), report.Report);
    }
}
