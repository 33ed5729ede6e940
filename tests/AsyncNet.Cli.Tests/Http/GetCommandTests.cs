using System.Text;
using AsyncNet.Samples.Http;
using SamplesProgram = AsyncNet.Samples.Program;

namespace AsyncNet.Cli.Tests.Http;

/// <summary>The samples program's <c>get</c> end to end: its own event loop against a raw responder on 127.0.0.1.</summary>
public sealed class GetCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("asyncnet-get-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Get_PrintsTheBody_ExitsZero_DecodingACharacterSplitAcrossSegments()
    {
        byte[] body = Encoding.UTF8.GetBytes("hello, w\u00f6rld");
        await using var server = new RawHttpServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.SendAsync($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\n\r\n");

            // 9 bytes end inside the two-byte 'ö'.
            await c.SendSegmentedAsync(body, 9, delayMilliseconds: 20);
            await c.ReadRequestAsync();
        });

        (int code, string stdout, string stderr) = await RunAsync(server.Url("/greeting"));

        Assert.Equal(GetCommand.ExitOk, code);
        Assert.Equal("hello, w\u00f6rld", stdout);
        Assert.Equal(string.Empty, stderr);
        Assert.StartsWith("GET /greeting HTTP/1.1", server.Requests.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Include_PrintsStatusLineAndHeadersBeforeTheBody()
    {
        await using var server = RawHttpServer.Answering("HTTP/1.1 404 Not Found\r\nX-Test: yes\r\nContent-Length: 4\r\n\r\nnope");

        (int code, string stdout, _) = await RunAsync(server.Url(), "--include");

        Assert.Equal(GetCommand.ExitOk, code);
        Assert.Equal("HTTP/1.1 404 Not Found\r\nX-Test: yes\r\nContent-Length: 4\r\n\r\nnope", stdout);
    }

    [Fact]
    public async Task Output_WritesTheBodyByteForByte()
    {
        byte[] body = new byte[300_000];
        new Random(4).NextBytes(body);
        await using var server = new RawHttpServer(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await c.SendAsync($"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{body.Length:x}\r\n");
                await c.SendAsync(body);
                await c.SendAsync("\r\n0\r\n\r\n");
            }
        });
        string file = Path.Combine(_directory, "body.bin");

        (int code, string stdout, _) = await RunAsync(server.Url("/bin"), "-o", file);

        Assert.Equal(GetCommand.ExitOk, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Equal(body, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task Repeat_UsesOneKeptAliveConnection_AndReportsIt()
    {
        await using var server = RawHttpServer.Answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");

        (int code, string stdout, string stderr) = await RunAsync(server.Url(), "--repeat", "4");

        Assert.Equal(GetCommand.ExitOk, code);
        Assert.Equal("okokokok", stdout);
        Assert.Equal("get: 4 requests over 1 connection", stderr.Trim());
        Assert.Equal(1, server.Connections);
        Assert.Equal(4, server.Requests.Count);
    }

    [Fact]
    public async Task Repeat_AgainstAServerThatCloses_ReportsEveryConnection()
    {
        await using var server = new RawHttpServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.SendAsync("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
            c.Close();
        });

        (int code, _, string stderr) = await RunAsync(server.Url(), "--repeat", "3");

        Assert.Equal(GetCommand.ExitOk, code);
        Assert.Equal("get: 3 requests over 3 connections", stderr.Trim());
    }

    [Fact]
    public async Task RefusedPort_ExitsWithConnectionRefused_AndSaysSo()
    {
        (int code, string stdout, string stderr) = await RunAsync($"http://127.0.0.1:{RawHttpServer.FreePort()}/");

        Assert.Equal(GetCommand.ExitConnectionRefused, code);
        Assert.Equal(string.Empty, stdout);
        Assert.StartsWith("get: ", stderr, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reset_ExitsWithConnectionFailed()
    {
        await using var server = new RawHttpServer(async c =>
        {
            await c.ReadRequestAsync();
            await c.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npart");
            await Task.Delay(50);
            c.Reset();
        });

        (int code, _, string stderr) = await RunAsync(server.Url());

        Assert.Equal(GetCommand.ExitConnectionFailed, code);
        Assert.StartsWith("get: ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedResponse_ExitsWithProtocolError()
    {
        await using var server = RawHttpServer.Answering("HTTP/1.1 twohundred OK\r\n\r\n");

        (int code, _, string stderr) = await RunAsync(server.Url());

        Assert.Equal(GetCommand.ExitProtocolError, code);
        Assert.Contains("status", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Https_ExitsWithUnsupportedScheme_AndExplains()
    {
        (int code, _, string stderr) = await RunAsync("https://127.0.0.1/");

        Assert.Equal(GetCommand.ExitUnsupportedScheme, code);
        Assert.Contains("TLS is not part of this sample", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadUrl_ExitsWithBadUrl()
    {
        (int code, _, string stderr) = await RunAsync("http://[::1/");

        Assert.Equal(GetCommand.ExitBadUrl, code);
        Assert.Contains("not a valid URL", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnwritableOutput_ExitsWithOutputError()
    {
        var stderr = new StringWriter();

        int code = SamplesProgram.Run(["get", "http://127.0.0.1:1/", "-o", Path.Combine(_directory, "missing", "dir", "f")], new StringWriter(), stderr);

        Assert.Equal(GetCommand.ExitOutputError, code);
        Assert.Contains("cannot write", stderr.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--include")]
    [InlineData("http://127.0.0.1/ --bogus")]
    [InlineData("http://127.0.0.1/ --repeat")]
    [InlineData("http://127.0.0.1/ --repeat 0")]
    [InlineData("http://127.0.0.1/ --repeat x")]
    [InlineData("http://127.0.0.1/ -o")]
    [InlineData("http://127.0.0.1/a http://127.0.0.1/b")]
    public void BadArguments_ExitWithUsage(string commandLine)
    {
        string[] args = ["get", .. commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        var stderr = new StringWriter();

        Assert.Equal(GetCommand.ExitUsage, SamplesProgram.Run(args, new StringWriter(), stderr));
        Assert.NotEmpty(stderr.ToString());
    }

    /// <summary>Runs the command on another thread (it blocks on its own loop), bounded in time.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Task.Run(() => SamplesProgram.Run(["get", .. args], stdout, stderr)).WaitAsync(TimeSpan.FromSeconds(30));
        return (code, stdout.ToString(), stderr.ToString());
    }
}
