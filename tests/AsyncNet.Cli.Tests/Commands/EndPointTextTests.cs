using System.Net;
using System.Net.Sockets;

namespace AsyncNet.Cli.Tests.Commands;

public sealed class EndPointTextTests
{
    [Theory]
    [InlineData("127.0.0.1:9000", "127.0.0.1:9000")]
    [InlineData("[::1]:80", "[::1]:80")]
    [InlineData("localhost:8080", "localhost:8080")]
    [InlineData("unix:/tmp/echo.sock", "unix:/tmp/echo.sock")]
    public void TryParse_ReadsAnAddress_ThatShowsAsWritten(string text, string shown)
    {
        Assert.True(EndPointText.TryParse(text, listening: false, out EndPoint? endPoint, out string? error), error);

        Assert.Equal(shown, EndPointText.Show(endPoint));
    }

    [Fact]
    public void TryParse_KeepsNamesForLater_AndLiteralsAsAddresses()
    {
        EndPointText.TryParse("localhost:1", listening: false, out EndPoint? name, out _);
        EndPointText.TryParse("10.0.0.1:1", listening: false, out EndPoint? literal, out _);
        EndPointText.TryParse("unix:s", listening: false, out EndPoint? unix, out _);

        Assert.IsType<DnsEndPoint>(name);
        Assert.IsType<IPEndPoint>(literal);
        Assert.IsType<UnixDomainSocketEndPoint>(unix);
    }

    [Theory]
    [InlineData("127.0.0.1:0", true, true)]
    [InlineData("127.0.0.1:0", false, false)]
    [InlineData("127.0.0.1", true, false)]
    [InlineData(":80", true, false)]
    [InlineData("host:-1", true, false)]
    [InlineData("host:65536", true, false)]
    [InlineData("unix:", true, false)]
    public void TryParse_AcceptsPortZero_OnlyToListenOn(string text, bool listening, bool valid)
    {
        Assert.Equal(valid, EndPointText.TryParse(text, listening, out _, out string? error));
        Assert.Equal(valid, error is null);
    }
}
