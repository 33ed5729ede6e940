using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace AsyncNet.Cli.Tests.Commands;

public sealed partial class EchoServerCommandTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("raw", "AsyncNet protocol", false)]
    [InlineData("stream", "AsyncNet stream", false)]
    [InlineData("framed", "AsyncNet framed", true)]
    public async Task EchoServer_ServesBench_UntilCancelled_ThenStopsGracefully(string kind, string name, bool framed)
    {
        var stdout = new LineCapture();
        var stderr = new LineCapture();
        using var stop = new CancellationTokenSource();
        Task<int> server = Task.Run(() => Program.Run(["echo-server", "--kind", kind, "--port", "0"], stdout, stderr, stop.Token));

        string listening = stdout.WaitForLine("listening on", s_bound);
        Assert.StartsWith($"echo-server: {name} echo listening on 127.0.0.1:", listening);
        string port = Listening().Match(listening).Groups[1].Value;
        string[] bench = ["bench", "--port", port, "--connections", "4", "--seconds", "0.5", "--warmup", "0"];
        (int benchCode, string benchOut, string benchErr) = await BenchCommandTests.RunAsync(framed ? [.. bench, "--framed"] : bench);
        Assert.True(benchCode == 0, $"bench exited {benchCode}: {benchErr}");
        Assert.Contains("every echoed byte matched", benchOut);

        await stop.CancelAsync();

        Assert.Equal(ExitCodes.Ok, await server.WaitAsync(s_bound));
        Assert.Contains("echo-server: stopped", stdout.ToString());
        Assert.Equal(string.Empty, stderr.ToString());
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = Assert.Throws<SocketException>(() => probe.Connect(IPAddress.Loopback, int.Parse(port, CultureInfo.InvariantCulture)));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task EchoServer_FourLoopsRoundRobin_SpreadsEightBenchConnections_TwoPerLoop()
    {
        var stdout = new LineCapture();
        var stderr = new LineCapture();
        using var stop = new CancellationTokenSource();
        Task<int> server = Task.Run(() => Program.Run(
            ["echo-server", "--loops", "4", "--distribution", "round-robin", "--spread-every", "0.1"], stdout, stderr, stop.Token));

        string listening = stdout.WaitForLine("listening on", s_bound);
        Assert.Contains(", 4 loops (round-robin) (Ctrl-C to stop)", listening);
        string port = Listening().Match(listening).Groups[1].Value;
        (int benchCode, string benchOut, string benchErr) = await BenchCommandTests.RunAsync(
            ["bench", "--port", port, "--connections", "8", "--seconds", "0.3", "--warmup", "0"]);
        Assert.True(benchCode == 0, $"bench exited {benchCode}: {benchErr}");
        Assert.Contains("accepted per loop: unknown: the server runs in another process", benchOut);

        // The periodic report shows the spread while the server runs, and the report on stop shows it again.
        stdout.WaitForLine("echo-server: accepted per loop: 2, 2, 2, 2 (8 in all)", s_bound);
        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Ok, await server.WaitAsync(s_bound));
        string[] lines = stdout.ToString().Split('\n', StringSplitOptions.TrimEntries);
        int stopping = Array.IndexOf(lines, "echo-server: stopping (closing connections gracefully)");
        Assert.True(stopping > 0, stdout.ToString());
        Assert.Equal("echo-server: accepted per loop: 2, 2, 2, 2 (8 in all)", lines[stopping + 1]);
        Assert.Equal(string.Empty, stderr.ToString());
    }

    [Fact]
    public async Task EchoServer_FourLoopsReusePort_GivesEveryLoopSomeOfAHundredConnections()
    {
        var stdout = new LineCapture();
        using var stop = new CancellationTokenSource();
        Task<int> server = Task.Run(() => Program.Run(["echo-server", "--kind", "stream", "--loops", "4", "--distribution", "reuseport"], stdout, TextWriter.Null, stop.Token));
        string listening = stdout.WaitForLine("listening on", s_bound);
        Assert.Contains(", 4 loops (reuseport)", listening);

        (int benchCode, _, string benchErr) = await BenchCommandTests.RunAsync(
            ["bench", "--port", Listening().Match(listening).Groups[1].Value, "--connections", "100", "--seconds", "0.3", "--warmup", "0"]);
        Assert.True(benchCode == 0, $"bench exited {benchCode}: {benchErr}");
        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Ok, await server.WaitAsync(s_bound));

        // The kernel hashes each connection to one of the four listeners: even over many, not exact, and never none
        // for one of them (the chance that 100 connections miss a loop is 4 × 0.75^100, about 1e-12).
        long[] spread = [.. Spread().Match(stdout.ToString()).Groups[1].Value.Split(", ").Select(long.Parse)];
        Assert.Equal(4, spread.Length);
        Assert.Equal(100, spread.Sum());
        Assert.All(spread, count => Assert.True(count > 0, stdout.ToString()));
    }

    [Fact]
    public async Task EchoServer_FramedWithAFormat_EchoesFramesOfThatLayout()
    {
        var stdout = new LineCapture();
        using var stop = new CancellationTokenSource();
        Task<int> server = Task.Run(() => Program.Run(
            ["echo-server", "--kind", "framed", "--format", "type=1,offset=1,length=2,adjust=-2,checksum=crc32"], stdout, TextWriter.Null, stop.Token));

        string listening = stdout.WaitForLine("listening on", s_bound);
        Assert.Contains("frames: offset=1,length=2,adjust=-2,type=1,checksum=crc32", listening);
        var format = AsyncNet.Echo.FrameFormatText.Parse("offset=1,length=2,adjust=-2,type=1,checksum=crc32");
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, int.Parse(Listening().Match(listening).Groups[1].Value, CultureInfo.InvariantCulture));
        byte[] frame = new AsyncNet.Streams.Framing.Codec.FrameEncoder(format).Encode(9, "framed"u8);
        await client.SendAsync(frame);
        byte[] echo = new byte[frame.Length];
        int received = 0;
        while (received < echo.Length)
        {
            int n = await client.ReceiveAsync(echo.AsMemory(received)).AsTask().WaitAsync(s_bound);
            Assert.NotEqual(0, n);
            received += n;
        }

        Assert.Equal(frame, echo);
        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Ok, await server.WaitAsync(s_bound));
    }

    [Fact]
    public async Task EchoServer_Help_ShowsTheLoopOptions()
    {
        (int code, string stdout, _) = await BenchCommandTests.RunAsync(["echo-server", "--help"]);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("--loops <loops>", stdout);
        Assert.Contains("--distribution <auto|reuseport|round-robin|least-connections>", stdout);
        Assert.Contains("--spread-every <seconds>", stdout);
        Assert.Contains("--format <spec>", stdout);
    }

    [Fact]
    public async Task EchoServer_OnATakenPort_ExitsWithAddressInUse()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen(1);
        string port = ((IPEndPoint)taken.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);

        (int code, string stdout, string stderr) = await BenchCommandTests.RunAsync(["echo-server", "--port", port]);

        Assert.Equal(ExitCodes.AddressInUse, code);
        Assert.StartsWith("echo-server: address in use: ", stderr);
        Assert.Contains(port, stderr);
        Assert.Empty(stdout);
    }

    [Theory]
    [InlineData(new[] { "echo-server", "--kind", "udp" }, "asyncnet: echo-server: --kind must be one of raw (or protocol), stream, zerocopy, framed, socket, pipelines (got 'udp')")]
    [InlineData(new[] { "echo-server", "--port", "65536" }, "asyncnet: echo-server: --port must be a whole number from 0 to 65535 (got '65536')")]
    [InlineData(new[] { "echo-server", "--port" }, "asyncnet: echo-server: Required argument missing for option: '--port'.")]
    [InlineData(new[] { "echo-server", "--framed" }, "asyncnet: echo-server: Unrecognized command or argument '--framed'.")]
    [InlineData(new[] { "echo-server", "9000" }, "asyncnet: echo-server: Unrecognized command or argument '9000'.")]
    [InlineData(new[] { "echo-server", "--loops", "0" }, "asyncnet: echo-server: --loops must be a whole number from 1 to 1024 (got '0')")]
    [InlineData(new[] { "echo-server", "--kind", "socket", "--loops", "2" }, "asyncnet: echo-server: --loops and --distribution apply to the AsyncNet kinds (raw, stream, zerocopy, framed), not to .NET Socket async")]
    [InlineData(new[] { "echo-server", "--distribution", "sideways" }, "asyncnet: echo-server: --distribution must be one of auto, reuseport, round-robin, least-connections (got 'sideways')")]
    [InlineData(new[] { "echo-server", "--format", "length=2" }, "asyncnet: echo-server: --format is the layout of --kind framed")]
    [InlineData(new[] { "echo-server", "--kind", "framed", "--format", "length=5" }, "asyncnet: echo-server: --format: Frame format \"length=5\" is not valid: The length field's size must be 1, 2, 3, 4 or 8 bytes")]
    public async Task EchoServer_BadArguments_ExitWith2_NamingTheOption(string[] args, string message)
    {
        (int code, string stdout, string stderr) = await BenchCommandTests.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith(message, stderr);
        Assert.Empty(stdout);
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex Listening();

    [GeneratedRegex(@"echo-server: accepted per loop: ([\d, ]+) \(")]
    private static partial Regex Spread();
}
