using System.Buffers;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Cli.Tests.Fuzz;

public sealed class FuzzCommandTests
{
    private static (int Code, string Out, string Err) Fuzz(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(["fuzz", .. args], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void AgainstACorrectServer_EveryCasePasses_AndTheFiguresAreReported()
    {
        using var server = new ThreadedFramedEchoServer(LengthFieldFormat.Default, frame => frame.Payload.ToArray());

        (int code, string output, string progress) = Fuzz("--port", server.EndPoint.Port.ToString(), "--cases", "40", "--seed", "3");

        Assert.True(code == 0, output + progress);
        Assert.Matches(@"fuzz: 40 cases passed: [\d,]+ frames, [\d,]+ bytes echoed intact in [\d.]+ s \(seed 3\)", output);
        Assert.Contains("40 of 40 cases", progress);
        Assert.Equal(1 + 40, server.Connections); // the reachability probe, then one connection a case
    }

    [Fact]
    public void AgainstABrokenServer_FailsWithTheShrunkCaseAndTheSeedToRepeatIt()
    {
        // The planted bug: a payload whose first byte is 0x7F comes back with it cleared.
        using var server = new ThreadedFramedEchoServer(LengthFieldFormat.Default, frame =>
        {
            byte[] payload = frame.Payload.ToArray();
            if (payload.Length > 0 && payload[0] == 0x7F)
            {
                payload[0] = 0;
            }

            return payload;
        });

        (int code, string output, _) = Fuzz("--port", server.EndPoint.Port.ToString(), "--cases", "2000", "--seconds", "60", "--seed", "11");

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("echoed frame 0 differs: payload byte 0 is 0x00 instead of 0x7F", output);
        Assert.Contains("smallest failing case", output);
        Assert.Contains("1 frame(s) [type 0, 1 B]", output); // shrunk to the one byte that triggers it
        Assert.Contains("frame 0: type 0, payload 7F", output);
        Assert.Contains($"--port {server.EndPoint.Port} --frames 8 --seed 11", output);
    }

    [Fact]
    public void RefusedConnection_ExitsWithItsOwnCode()
    {
        int port;
        using (var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        }

        (int code, _, string err) = Fuzz("--port", port.ToString(), "--cases", "5");

        Assert.Equal(ExitCodes.ConnectionRefused, code);
        Assert.Contains($"fuzz: connection refused: 127.0.0.1:{port}", err);
    }

    [Theory]
    [InlineData(new[] { "--cases", "5" }, "Option '--port' is required.")]
    [InlineData(new[] { "--port", "1", "--seed", "abc" }, "--seed must be a whole number")]
    [InlineData(new[] { "--port", "1", "--cases", "0" }, "--cases must be a whole number from 1")]
    [InlineData(new[] { "--port", "1", "--bogus", "1" }, "Unrecognized command or argument '--bogus'")]
    public void BadArguments_AreUsageErrorsNamingTheOption(string[] args, string message)
    {
        (int code, string output, string error) = Fuzz(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith($"asyncnet: fuzz: {message}", error);
        Assert.Empty(output);
    }
}
