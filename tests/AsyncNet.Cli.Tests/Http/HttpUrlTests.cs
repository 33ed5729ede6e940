using AsyncNet.Samples.Http;

namespace AsyncNet.Cli.Tests.Http;

public sealed class HttpUrlTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/a/b?x=1#frag", "127.0.0.1", 8080, "127.0.0.1:8080", "/a/b?x=1")]
    [InlineData("http://Example.COM", "example.com", 80, "example.com", "/")]
    [InlineData("http://example.com:80/", "example.com", 80, "example.com", "/")]
    [InlineData("127.0.0.1:9000/x", "127.0.0.1", 9000, "127.0.0.1:9000", "/x")]
    [InlineData("http://[::1]:8080/", "::1", 8080, "[::1]:8080", "/")]
    [InlineData("http://host/a b", "host", 80, "host", "/a%20b")]
    public void Parse_SplitsWhereToConnectAndWhatToSend(string url, string host, int port, string authority, string target)
    {
        HttpUrl parsed = HttpUrl.Parse(url);

        Assert.Equal(host, parsed.Host);
        Assert.Equal(port, parsed.Port);
        Assert.Equal(authority, parsed.Authority);
        Assert.Equal(target, parsed.PathAndQuery);
    }

    [Theory]
    [InlineData("")]
    [InlineData("http://")]
    [InlineData("http://[::1/")]
    [InlineData("http://host:99999/")]
    [InlineData("http://host:0/")]
    public void Parse_BadUrl_ThrowsFormatException(string url)
    {
        Assert.Throws<FormatException>(() => HttpUrl.Parse(url));
    }

    [Fact]
    public void Parse_Https_SaysTlsIsNotPartOfTheSample()
    {
        var ex = Assert.Throws<NotSupportedException>(() => HttpUrl.Parse("https://example.com/"));

        Assert.Contains("TLS is not part of this sample", ex.Message, StringComparison.Ordinal);
        Assert.Contains("plain http only", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OtherScheme_ThrowsNotSupported()
    {
        Assert.Throws<NotSupportedException>(() => HttpUrl.Parse("ftp://example.com/"));
    }

    [Fact]
    public void RequestHeaders_RefuseLineBreaks()
    {
        var request = HttpRequest.Get("http://127.0.0.1/");

        Assert.Throws<ArgumentException>(() => request.Headers.Add("X-Evil", "a\r\nInjected: yes"));
        Assert.Throws<ArgumentException>(() => request.Headers.Add("Bad Name", "v"));
        Assert.Throws<ArgumentException>(() => new HttpRequest("GET /", HttpUrl.Parse("http://h/")));
    }
}
