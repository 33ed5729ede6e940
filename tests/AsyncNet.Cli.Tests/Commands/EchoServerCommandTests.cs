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
    public async Task EchoServer_BadArguments_ExitWith2_NamingTheOption(string[] args, string message)
    {
        (int code, string stdout, string stderr) = await BenchCommandTests.RunAsync(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith(message, stderr);
        Assert.Empty(stdout);
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex Listening();
}
