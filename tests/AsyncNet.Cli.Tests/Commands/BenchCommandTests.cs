using System.Globalization;
using System.Text.RegularExpressions;
using AsyncNet.Cli.Tests.Echo;
using AsyncNet.Echo;

namespace AsyncNet.Cli.Tests.Commands;

public sealed partial class BenchCommandTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    public static TheoryData<EchoServerKind> AllKinds => [.. EchoServerKinds.All];

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task Bench_AgainstEachServerKind_ReportsVerifiedBytesAndARate(EchoServerKind kind)
    {
        await using IEchoServer server = await EchoServers.StartAsync(kind);
        string[] args = ["bench", "--port", Port(server), "--connections", "8", "--size", "128", "--depth", "4", "--seconds", "1", "--warmup", "0.2"];
        if (kind.IsFramed())
        {
            args = [.. args, "--framed"];
        }

        (int code, string stdout, string stderr) = await RunAsync(args);

        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Contains($"bench: 127.0.0.1:{server.EndPoint.Port}, 8 connections, 128 B {(kind.IsFramed() ? "framed" : "raw")} messages, depth 4", stdout);
        Match rate = MessagesPerSecond().Match(stdout);
        Assert.True(rate.Success, stdout);
        Assert.True(double.Parse(rate.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) > 0, stdout);
        Match verified = VerifiedBytes().Match(stdout);
        Assert.True(verified.Success, stdout);
        Assert.True(long.Parse(verified.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) > 0, stdout);
        Assert.Contains("MB/s: ", stdout);
        Assert.Matches(@"latency: p50 \d+\.\d{3} ms, p99 \d+\.\d{3} ms", stdout);
        Assert.Contains("\r", stderr);
        Assert.Contains("msgs/s", stderr);
        Assert.Contains("accepted per loop: unknown: the server runs in another process", stdout);
    }

    [Theory]
    [InlineData("raw", "round-robin", "AsyncNet protocol")]
    [InlineData("stream", "round-robin", "AsyncNet stream")]
    [InlineData("framed", "round-robin", "AsyncNet framed")]
    public async Task Bench_WithServerLoopsRoundRobin_BenchesItsOwnServer_AndReportsAnExactSpreadBesideTheRate(string kind, string distribution, string name)
    {
        (int code, string stdout, string stderr) = await RunAsync(
            ["bench", "--server-loops", "4", "--server-kind", kind, "--distribution", distribution, "--connections", "8", "--seconds", "0.3", "--warmup", "0"]);

        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Matches($@"bench: serving with the {name} echo in this process on 127\.0\.0\.1:\d+, 4 loops \({distribution}\)", stdout);
        Assert.Contains(kind == "framed" ? "B framed messages" : "B raw messages", stdout);
        Assert.Matches(@"messages/s: [\d,]+ ", stdout);
        Assert.Contains("every echoed byte matched", stdout);

        // The acceptor hands connections out in turn: 8 over 4 loops is exactly 2 each.
        Assert.Contains("accepted per loop: 2, 2, 2, 2 (8 in all)", stdout);
    }

    [Fact]
    public async Task Bench_WithServerLoops_AndFramed_ServesTheFramedEcho()
    {
        (int code, string stdout, string stderr) = await RunAsync(["bench", "--server-loops", "1", "--framed", "--connections", "3", "--seconds", "0.2", "--warmup", "0"]);

        Assert.True(code == 0, $"exit {code}: {stderr}");
        Assert.Contains("bench: serving with the AsyncNet framed echo in this process on 127.0.0.1:", stdout);
        Assert.Contains(", 1 loop\n", stdout.ReplaceLineEndings("\n"));
        Assert.Contains("accepted per loop: 3 (3 in all)", stdout);
    }

    [Fact]
    public async Task Bench_AgainstAServerThatFlipsAByte_FailsLoudly_WithTheMismatch()
    {
        using var server = new FaultyEchoServer(EchoFault.FlipByte, offset: 5000);

        (int code, string stdout, string stderr) = await RunAsync(
            ["bench", "--port", server.Port.ToString(CultureInfo.InvariantCulture), "--connections", "1", "--size", "64", "--depth", "8", "--seconds", "20", "--warmup", "0"]);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("bench: FAILED: Echo mismatch on connection 0 at byte 5,000 (message 78, byte 8 of 64): expected 0x", stderr);
        Assert.DoesNotContain("messages/s:", stdout);
    }

    [Fact]
    public async Task Bench_AgainstAServerThatCloses_ExitsWithConnectionFailed()
    {
        using var server = new FaultyEchoServer(EchoFault.CloseAfter, offset: 1024);

        (int code, _, string stderr) = await RunAsync(
            ["bench", "--port", server.Port.ToString(CultureInfo.InvariantCulture), "--connections", "2", "--seconds", "20", "--warmup", "0"]);

        Assert.Equal(ExitCodes.ConnectionFailed, code);
        Assert.Contains("bench: connection reset: The server closed connection", stderr);
    }

    [Fact]
    public async Task Bench_OnAPortNobodyListensOn_ExitsWithConnectionRefused()
    {
        string port;
        await using (IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Protocol))
        {
            port = Port(server);
        }

        (int code, _, string stderr) = await RunAsync(["bench", "--port", port, "--seconds", "1"]);

        Assert.Equal(ExitCodes.ConnectionRefused, code);
        Assert.Contains($"bench: connection refused: Connection refused: connect to 127.0.0.1:{port} failed", stderr);
    }

    [Fact]
    public async Task Bench_Cancelled_ExitsAsInterrupted()
    {
        await using IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Protocol);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        (int code, _, string stderr) = await RunAsync(["bench", "--port", Port(server), "--connections", "2", "--seconds", "30", "--warmup", "0"], cancel.Token);

        Assert.Equal(ExitCodes.Interrupted, code);
        Assert.Contains("bench: interrupted", stderr);
    }

    [Theory]
    [InlineData(new[] { "bench" }, "asyncnet: bench: Option '--port' is required (or --server-loops to bench a server started in this process).")]
    [InlineData(new[] { "bench", "--port", "9", "--server-loops", "2" }, "asyncnet: bench: --port names a server in another process; --server-loops starts one in this process: give one of them")]
    [InlineData(new[] { "bench", "--port", "9", "--server-kind", "stream" }, "asyncnet: bench: --server-kind and --distribution need --server-loops")]
    [InlineData(new[] { "bench", "--server-loops", "2", "--tls" }, "asyncnet: bench: --server-loops serves plain TCP on 127.0.0.1; --host and --tls are for a server in another process")]
    [InlineData(new[] { "bench", "--server-loops", "2", "--server-kind", "pipelines" }, "asyncnet: bench: --server-kind must be one of raw (or protocol), stream, zerocopy, framed (got 'pipelines')")]
    [InlineData(new[] { "bench", "--server-loops", "0" }, "asyncnet: bench: --server-loops must be a whole number from 1 to 1024 (got '0')")]
    [InlineData(new[] { "bench", "--port", "http" }, "asyncnet: bench: --port must be a whole number from 1 to 65535 (got 'http')")]
    [InlineData(new[] { "bench", "--port", "9", "--size", "0" }, "asyncnet: bench: --size must be a whole number from 1 to")]
    [InlineData(new[] { "bench", "--port", "9", "--connections", "-3" }, "asyncnet: bench: --connections must be a whole number from 1 to 10000 (got '-3')")]
    [InlineData(new[] { "bench", "--port", "9", "--depth", "many" }, "asyncnet: bench: --depth must be a whole number from 1 to 4096 (got 'many')")]
    [InlineData(new[] { "bench", "--port", "9", "--seconds", "0" }, "asyncnet: bench: --seconds must be a number of seconds from 0.1 to")]
    [InlineData(new[] { "bench", "--port", "9", "--size", "16000000", "--depth", "16" }, "asyncnet: bench: --depth: Depth times MessageSize must be at most 64 MiB")]
    [InlineData(new[] { "bench", "--port", "9", "--framed=1" }, "asyncnet: bench: Unrecognized command or argument '1'.")]
    [InlineData(new[] { "bench", "--port", "9", "--speed", "2" }, "asyncnet: bench: Unrecognized command or argument '--speed'.")]
    public async Task Bench_BadArguments_ExitWith2_NamingTheOption(string[] args, string message)
    {
        (int code, string stdout, string stderr) = await RunAsync(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith(message, stderr);
        Assert.Contains("usage: asyncnet", stderr);
        Assert.Empty(stdout);
    }

    internal static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Task.Run(() => Program.Run(args, stdout, stderr, cancellationToken)).WaitAsync(s_bound);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Port(IEchoServer server) => server.EndPoint.Port.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"messages/s: ([\d,]+) ")]
    private static partial Regex MessagesPerSecond();

    [GeneratedRegex(@"verified bytes: ([\d,]+) \(every echoed byte matched\)")]
    private static partial Regex VerifiedBytes();
}
