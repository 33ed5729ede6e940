using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using AsyncNet.Echo;
using AsyncNet.Testing.Faults;

namespace AsyncNet.Cli.Tests.Commands;

public sealed partial class ProxyCommandTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("raw", "latency=1ms,jitter=1ms,slice=5,slice-variation=4")]
    [InlineData("framed", "slice=3,slice-delay=0ms")]
    public async Task Proxy_WithSlicingAndLatency_BetweenEchoServerAndBench_EveryByteIsVerified(string kind, string faults)
    {
        var serverOut = new LineCapture();
        using var stopServer = new CancellationTokenSource();
        Task<int> server = Task.Run(() => Program.Run(["echo-server", "--kind", kind], serverOut, TextWriter.Null, stopServer.Token));
        string serverPort = Port().Match(serverOut.WaitForLine("listening on", s_bound)).Groups[1].Value;

        var proxyOut = new LineCapture();
        var proxyErr = new LineCapture();
        using var stopProxy = new CancellationTokenSource();
        Task<int> proxy = Task.Run(() => Program.Run(["proxy", "--upstream", $"127.0.0.1:{serverPort}", "--fault", faults, "--seed", "7"], proxyOut, proxyErr, stopProxy.Token));
        string listening = proxyOut.WaitForLine("proxy: listening on", s_bound);
        Assert.Contains($", forwarding to 127.0.0.1:{serverPort}; faults up: {FaultSpec.Parse(faults)}; down: {FaultSpec.Parse(faults)} (Ctrl-C to stop)", listening);

        string[] bench = ["bench", "--port", Port().Match(listening).Groups[1].Value, "--connections", "4", "--size", "300", "--depth", "3", "--seconds", "0.5", "--warmup", "0"];
        (int benchCode, string benchOut, string benchErr) = await BenchCommandTests.RunAsync(kind == "framed" ? [.. bench, "--framed"] : bench);
        Assert.True(benchCode == 0, $"bench exited {benchCode}: {benchErr}");
        Assert.Contains("(every echoed byte matched)", benchOut);

        await stopProxy.CancelAsync();
        Assert.Equal(ExitCodes.Ok, await proxy.WaitAsync(s_bound));
        Match stopped = Stopped().Match(proxyOut.ToString());
        Assert.True(stopped.Success, proxyOut.ToString());
        Assert.Equal("4", stopped.Groups[1].Value);
        long up = long.Parse(stopped.Groups[2].Value, CultureInfo.InvariantCulture);
        long down = long.Parse(stopped.Groups[3].Value, CultureInfo.InvariantCulture);

        // An echo: what came down went up first; bench stops with echoes still delayed in the proxy, which it drops.
        Assert.InRange(down, 1, up);
        Assert.Equal(string.Empty, proxyErr.ToString());
        await stopServer.CancelAsync();
        Assert.Equal(ExitCodes.Ok, await server.WaitAsync(s_bound));
    }

    [Fact]
    public async Task Proxy_FaultsFromInput_ChangeWhileRunning()
    {
        await using IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Protocol);
        using var commands = new LineFeed();
        var stdout = new LineCapture();
        var stderr = new LineCapture();
        using var stop = new CancellationTokenSource();
        Task<int> proxy = Task.Run(() => ProxyCommand.Run(server.EndPoint, FaultProxyOptions.Default, commands, stdout, stderr, stop.Token));
        int port = int.Parse(Port().Match(stdout.WaitForLine("proxy: listening on", s_bound)).Groups[1].Value, CultureInfo.InvariantCulture);

        commands.Send("down close-after=3");
        stdout.WaitForLine("proxy: faults up: none; down: close-after=3", s_bound);
        Assert.Equal("hel", await EchoThroughAsync(port, "hello"));

        commands.Send("latency=fast");
        Assert.StartsWith("proxy: ignored 'latency=fast': Fault item \"latency=fast\": expected a duration", stderr.WaitForLine("ignored", s_bound));

        commands.Send("both none");
        stdout.WaitForLine("proxy: faults up: none; down: none", s_bound);
        Assert.Equal("hello", await EchoThroughAsync(port, "hello"));

        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Ok, await proxy.WaitAsync(s_bound));
        Assert.Contains("proxy: stopped: 2 connection(s); forwarded 10 B up, 8 B down; dropped 0 B up, 2 B down; 0 upstream connect(s) failed", stdout.ToString());
    }

    [Fact]
    public async Task Proxy_ToAnUpstreamThatRefuses_ResetsTheClient_AndReportsTheFailedConnect()
    {
        int closedPort;
        using (var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closedPort = ((IPEndPoint)listener.LocalEndPoint!).Port;
        }

        var stdout = new LineCapture();
        var stderr = new LineCapture();
        using var stop = new CancellationTokenSource();
        Task<int> proxy = Task.Run(() => Program.Run(["proxy", "--upstream", $"127.0.0.1:{closedPort}"], stdout, stderr, stop.Token));
        int port = int.Parse(Port().Match(stdout.WaitForLine("proxy: listening on", s_bound)).Groups[1].Value, CultureInfo.InvariantCulture);

        Assert.Equal(string.Empty, await EchoThroughAsync(port, "anyone?"));
        Assert.Contains("proxy: 1 upstream connect(s) failed, so their clients were reset: ", stderr.WaitForLine("upstream connect", s_bound));

        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Ok, await proxy.WaitAsync(s_bound));
        Assert.Contains("1 upstream connect(s) failed", stdout.ToString());
    }

    [Fact]
    public async Task Proxy_ToAUnixSocketUpstream_ForwardsBothWays()
    {
        string path = Path.Combine(Path.GetTempPath(), $"asyncnet-proxy-{Guid.NewGuid():N}.sock");
        await using AsyncNet.Loop.EventLoop loop = AsyncNet.Loop.EventLoop.StartOnNewThread();
        await using AsyncNet.Streams.StreamServer upstream = await AsyncNet.Streams.StreamEndpoints.StartUnixServerAsync(loop, async (reader, writer) =>
        {
            byte[] buffer = new byte[256];
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                writer.Write(buffer.AsSpan(0, n));
                await writer.DrainAsync();
            }

            writer.Close();
        }, path);
        var stdout = new LineCapture();
        using var stop = new CancellationTokenSource();
        Task<int> proxy = Task.Run(() => Program.Run(["proxy", "--upstream", $"unix:{path}", "--fault-up", "slice=1"], stdout, TextWriter.Null, stop.Token));
        string listening = stdout.WaitForLine("proxy: listening on", s_bound);
        Assert.Contains($"forwarding to unix:{path}; faults up: slice=1; down: none", listening);

        Assert.Equal("through a Unix socket", await EchoThroughAsync(int.Parse(Port().Match(listening).Groups[1].Value, CultureInfo.InvariantCulture), "through a Unix socket"));

        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Ok, await proxy.WaitAsync(s_bound));
    }

    [Fact]
    public async Task Proxy_OnATakenPort_ExitsWithAddressInUse()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen(1);

        (int code, string stdout, string stderr) = await BenchCommandTests.RunAsync(["proxy", "--listen", taken.LocalEndPoint!.ToString()!, "--upstream", "127.0.0.1:9"]);

        Assert.Equal(ExitCodes.AddressInUse, code);
        Assert.StartsWith("proxy: address in use: ", stderr);
        Assert.Empty(stdout);
    }

    [Theory]
    [InlineData(new[] { "proxy" }, "asyncnet: proxy: Option '--upstream' is required.")]
    [InlineData(new[] { "proxy", "--upstream", "localhost" }, "asyncnet: proxy: --upstream: expected HOST:PORT (a port from 1 to 65535) or unix:PATH (got 'localhost')")]
    [InlineData(new[] { "proxy", "--upstream", "unix:" }, "asyncnet: proxy: --upstream: a Unix socket needs a path after 'unix:' (got 'unix:')")]
    [InlineData(new[] { "proxy", "--upstream", "127.0.0.1:9", "--listen", "127.0.0.1:70000" }, "asyncnet: proxy: --listen: expected HOST:PORT (a port from 0 to 65535) or unix:PATH (got '127.0.0.1:70000')")]
    [InlineData(new[] { "proxy", "--upstream", "127.0.0.1:9", "--fault", "latency=fast" }, "asyncnet: proxy: --fault: Fault item \"latency=fast\": expected a duration")]
    [InlineData(new[] { "proxy", "--upstream", "127.0.0.1:9", "--fault-down", "reset-after=1,close-after=2" }, "asyncnet: proxy: --fault-down: Fault description \"reset-after=1,close-after=2\" is not valid")]
    [InlineData(new[] { "proxy", "--upstream", "127.0.0.1:9", "--fault-sideways", "none" }, "asyncnet: proxy: Unrecognized command or argument '--fault-sideways'.")]
    public async Task Proxy_BadArguments_ExitWith2_NamingTheOption(string[] args, string message)
    {
        (int code, string stdout, string stderr) = await BenchCommandTests.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith(message, stderr);
        Assert.Empty(stdout);
    }

    [Fact]
    public async Task Proxy_Help_ShowsTheFaultOptionsAndExitCodes()
    {
        (int code, string stdout, _) = await BenchCommandTests.RunAsync(["proxy", "--help"]);

        Assert.Equal(ExitCodes.Ok, code);
        foreach (string option in new[] { "--listen <HOST:PORT|unix:PATH>", "--upstream <HOST:PORT|unix:PATH>", "--fault <SPEC>", "--fault-up <SPEC>", "--fault-down <SPEC>", "--faults-from-stdin", "--seed" })
        {
            Assert.Contains(option, stdout);
        }

        Assert.Matches(@"\n  10 +the listening address is in use", stdout);
    }

    /// <summary>Sends <paramref name="text"/> through the proxy, half-closes, and returns what came back before the end.</summary>
    private static async Task<string> EchoThroughAsync(int port, string text)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var received = new MemoryStream();
        try
        {
            // A proxy that resets at once may do it before the connect's completion is seen: that is the answer too.
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(s_bound);
            await client.SendAsync(Encoding.ASCII.GetBytes(text));
            client.Shutdown(SocketShutdown.Send);
            byte[] buffer = new byte[256];
            int n;
            while ((n = await client.ReceiveAsync(buffer).WaitAsync(s_bound)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        }
        catch (SocketException)
        {
            // A reset ends the stream too: what came before it is the answer.
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }

    [GeneratedRegex(@"(?:listening on|on) 127\.0\.0\.1:(\d+)")]
    private static partial Regex Port();

    [GeneratedRegex(@"proxy: stopped: (\d+) connection\(s\); forwarded (\d+) B up, (\d+) B down")]
    private static partial Regex Stopped();
}
