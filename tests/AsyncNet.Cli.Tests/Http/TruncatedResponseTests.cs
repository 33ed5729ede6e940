using System.Net;
using System.Text;
using AsyncNet.Samples.Http;
using AsyncNet.Testing.Faults;
using AsyncNet.Tests.Shared;

namespace AsyncNet.Cli.Tests.Http;

/// <summary>
/// The HTTP sample client behind the fault proxy, with the response cut after a given number of bytes: a chunked body
/// cut anywhere is an error, never a shorter body.
/// </summary>
public sealed class TruncatedResponseTests : IDisposable
{
    private const string Head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    private const string Wire = Head + "5\r\nhello\r\n" + "7\r\n, world\r\n" + "0\r\n\r\n";

    private readonly BoundedTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    /// <summary>Where the response is cut: after the named prefix of the wire.</summary>
    public static TheoryData<string> Cuts =>
    [
        Head + "5\r\nhel",                         // inside a chunk's data
        Head + "5\r\nhello",                       // after a chunk's data, before its CRLF
        Head + "5\r\nhello\r",                     // inside the CRLF after a chunk
        Head + "5\r\nhello\r\n",                   // between two chunks
        Head + "5\r\nhello\r\n7",                  // inside a chunk-size line
        Head + "5\r\nhello\r\n7\r\n, world\r\n0",  // inside the last-chunk line
        Head + "5\r\nhello\r\n7\r\n, world\r\n0\r\n", // before the empty line that ends the trailer section
    ];

    [Theory]
    [MemberData(nameof(Cuts))]
    public void ChunkedBody_ClosedAfterAnyPrefix_IsATruncatedBodyError(string prefix)
    {
        _test.Run(async () =>
        {
            MalformedResponseException error = await Assert.ThrowsAsync<MalformedResponseException>(
                () => GetThroughProxyAsync(new FaultSpec { CloseAfterBytes = prefix.Length }));
            Assert.Equal(ResponseError.TruncatedBody, error.Error);
        });
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void ChunkedBody_ResetAfterAnyPrefix_IsAnError(string prefix)
    {
        _test.Run(async () =>
        {
            await Assert.ThrowsAnyAsync<IOException>(() => GetThroughProxyAsync(new FaultSpec { ResetAfterBytes = prefix.Length }));
        });
    }

    [Fact]
    public void ChunkedBody_WholeResponseThroughTheProxy_IsTheBody()
    {
        _test.Run(async () =>
        {
            HttpResponse response = await GetThroughProxyAsync(new FaultSpec { CloseAfterBytes = Wire.Length, SliceSize = 3 });
            Assert.Equal("hello, world", Encoding.ASCII.GetString(response.Body.Span));
        });
    }

    /// <summary>GETs from a server that answers <see cref="Wire"/>, through a proxy with <paramref name="faults"/> on the response.</summary>
    private async Task<HttpResponse> GetThroughProxyAsync(FaultSpec faults)
    {
        await using var server = RawHttpServer.Answering(Wire);
        var options = new FaultProxyOptions { UpstreamToClient = faults };
        await using FaultProxy proxy = await FaultProxy.StartAsync(_test.Loop, new IPEndPoint(IPAddress.Loopback, server.Port), options);
        await using var client = new SimpleHttpClient(_test.Loop);
        return await client.GetAsync($"http://127.0.0.1:{proxy.Port}/");
    }
}
