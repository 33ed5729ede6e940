using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AsyncNet.Cli.Fuzz;
using AsyncNet.Echo;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Cli.Tests.Fuzz;

public sealed partial class FuzzCommandTests : IDisposable
{
    private readonly string _replay = Path.Combine(Path.GetTempPath(), $"asyncnet-fuzz-test-{Guid.NewGuid():N}.replay");

    public void Dispose() => File.Delete(_replay);

    [Fact]
    public void AgainstACorrectServer_EveryCasePasses_AndTheFiguresAreReported()
    {
        using var server = new ThreadedFramedEchoServer(LengthFieldFormat.Default, frame => frame.Payload.ToArray());

        (int code, string output, string progress) = Fuzz("--port", Port(server), "--cases", "40", "--seed", "3");

        Assert.True(code == 0, output + progress);
        Assert.Matches(@"fuzz: 40 cases passed: [\d,]+ messages, [\d,]+ bytes echoed intact in [\d.]+ s \(length-field frames \(Length=u32 BE at 0.*\), seed 3\)", output);
        Assert.Contains("40 of 40 cases", progress);
        Assert.Equal(1 + 40, server.Connections); // the reachability probe, then one connection a case
    }

    [Fact]
    public void AgainstABrokenServer_FailsWithTheShrunkCaseAsBytes_AndTheSeedToRepeatIt()
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

        (int code, string output, _) = Fuzz("--port", Port(server), "--cases", "2000", "--seconds", "60", "--seed", "11", "--save", _replay);

        Assert.Equal(ExitCodes.Failed, code);
        Assert.Contains("echoed byte 4 (message 0, byte 4 of its 5) is 0x00 instead of 0x7F", output);
        Assert.Contains("smallest failing case", output);
        Assert.Contains("1 message(s) [0:7F (5 B)], writes of [2147483647] bytes, pauses [] ms", output); // shrunk to the one byte that triggers it
        Assert.Contains("its 5 bytes in hex, write by write: 000000017f", output);
        Assert.Contains($"as a shell command (in one write): printf '\\000\\000\\000\\001\\177' | nc 127.0.0.1 {server.Port}", output);
        Assert.Contains($"replay file: {_replay} (replay with: asyncnet fuzz --host 127.0.0.1 --port {server.Port} --messages 8 --replay {_replay})", output);
        Assert.Contains($"repeat the run with: asyncnet fuzz --host 127.0.0.1 --port {server.Port} --messages 8 --seed 11", output);
        Assert.Contains("write 000000017f", File.ReadAllLines(_replay));
    }

    [Fact]
    public void LineServer_WithAnOffByOneAtTheLimit_IsFoundAndShrunk_AndItsReplayReproducesIt()
    {
        // The planted bug: a line exactly as long as the limit loses its last byte (the buffer is one byte short).
        const int MaxLine = 16;
        using var broken = new ThreadedLineEchoServer(line => line.Length == MaxLine ? line[..^1] : line);

        (int code, string output, string progress) = Fuzz(
            "--port", Port(broken), "--lines", "--max-line", "16", "--cases", "2000", "--seconds", "60", "--seed", "5", "--save", _replay);

        Assert.True(code == ExitCodes.Failed, output + progress);
        Assert.Contains("fuzz: FAILED at case ", output);
        Assert.Contains("of lines (at most 16 bytes before the newline): ", output);
        Match smallest = SmallestCase().Match(output);
        Assert.True(smallest.Success, output);
        Assert.Equal("1", smallest.Groups[1].Value);   // one message...
        Assert.Equal("17", smallest.Groups[2].Value);  // ...of 16 bytes and its newline
        Assert.Contains("echoed byte 15 (message 0, byte 15 of its 17) is 0x0A instead of 0x", output);
        Assert.Contains($"--lines --max-line 16 --messages 8 --replay {_replay}", output);

        // The replay file sends the same bytes: the broken server still fails; a fixed one passes.
        (int replayCode, string replayOutput, _) = Fuzz("--port", Port(broken), "--replay", _replay);
        Assert.Equal(ExitCodes.Failed, replayCode);
        Assert.Matches(@"fuzz: replay FAILED \(1 write\(s\), 17 bytes, from .*\): echoed byte 15 is 0x0A instead of 0x", replayOutput);
        using var fixedServer = new ThreadedLineEchoServer(line => line);
        (int fixedCode, string fixedOutput, _) = Fuzz("--port", Port(fixedServer), "--replay", _replay);
        Assert.Equal(ExitCodes.Ok, fixedCode);
        Assert.Contains("fuzz: replayed 1 write(s), 17 bytes, from ", fixedOutput);
        Assert.Contains(": the echo matched every byte", fixedOutput);
    }

    [Fact]
    public void FramedServerOfAnotherLayout_ThroughFaults_IsFoundAndShrunk_AndItsReplayReproducesIt()
    {
        // A 1-byte type, a 2-byte length that counts itself and the payload, a CRC-32 trailer. The planted bug: an empty
        // payload comes back as one zero byte (a "no empty frames" rule applied on the way out).
        const string Spec = "offset=1,length=2,adjust=-2,type=1,checksum=crc32";
        LengthFieldFormat format = FrameFormatText.Parse(Spec);
        using var broken = new ThreadedFramedEchoServer(format, frame => frame.Payload.Length == 0 ? [0] : frame.Payload.ToArray());

        (int code, string output, string progress) = Fuzz(
            "--port", Port(broken), "--format", Spec, "--fault", "slice=3,latency=1ms", "--cases", "500", "--seconds", "60", "--seed", "9", "--save", _replay);

        Assert.True(code == ExitCodes.Failed, output + progress);
        Assert.Contains("fuzz: through a fault proxy on 127.0.0.1:", output);
        Assert.Contains("faults up: latency=1ms,slice=3; down: latency=1ms,slice=3", output);
        Assert.Contains("1 message(s) [0: (7 B)], writes of [2147483647] bytes, pauses [] ms", output);

        // Byte 2 is the length field's low byte: it counts itself and the trailer (6), and the planted zero byte made it 7.
        Assert.Contains("echoed byte 2 (message 0, byte 2 of its 7) is 0x07 instead of 0x06", output);
        Assert.Contains($"--format \"{Spec}\" --messages 8 --fault-up \"latency=1ms,slice=3\" --fault-down \"latency=1ms,slice=3\"", output);

        (int replayCode, string replayOutput, _) = Fuzz("--port", Port(broken), "--replay", _replay, "--fault-down", "slice=1");
        Assert.Equal(ExitCodes.Failed, replayCode);
        Assert.Contains("fuzz: through a fault proxy on", replayOutput);
        Assert.Contains("fuzz: replay FAILED (1 write(s), 7 bytes, from ", replayOutput);
    }

    [Fact]
    public void ThroughSlicingFaults_ACorrectServerPassesEveryCase()
    {
        using var server = new ThreadedLineEchoServer(line => line);

        (int code, string output, string progress) = Fuzz("--port", Port(server), "--lines", "--fault-down", "slice=1", "--cases", "30", "--seed", "2");

        Assert.True(code == ExitCodes.Ok, output + progress);
        Assert.Contains("faults up: none; down: slice=1", output);
        Assert.Contains("fuzz: 30 cases passed: ", output);
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

    [Fact]
    public void ReplayFile_ThatDoesNotParse_IsAUsageErrorNamingTheLine()
    {
        using var server = new ThreadedLineEchoServer(line => line);
        File.WriteAllLines(_replay, ["# a comment", "write 0a", "send 0a"]);

        (int code, string output, string error) = Fuzz("--port", Port(server), "--replay", _replay);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith($"asyncnet: fuzz: --replay: {_replay}, line 3: expected 'write HEX'", error);
        Assert.Empty(output);
    }

    [Theory]
    [InlineData(new[] { "--cases", "5" }, "Option '--port' is required.")]
    [InlineData(new[] { "--port", "1", "--seed", "abc" }, "--seed must be a whole number")]
    [InlineData(new[] { "--port", "1", "--cases", "0" }, "--cases must be a whole number from 1")]
    [InlineData(new[] { "--port", "1", "--bogus", "1" }, "Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "--port", "1", "--lines", "--format", "length=2" }, "--format describes frames and --lines lines: give one of them")]
    [InlineData(new[] { "--port", "1", "--max-line", "10" }, "--max-line needs --lines")]
    [InlineData(new[] { "--port", "1", "--format", "length=2,max=1" }, "--format: Frame format \"length=2,max=1\" is not valid: The maximum frame length (1) is shorter")]
    [InlineData(new[] { "--port", "1", "--fault", "slice=x" }, "--fault: Fault item \"slice=x\": expected a byte count")]
    public void BadArguments_AreUsageErrorsNamingTheOption(string[] args, string message)
    {
        (int code, string output, string error) = Fuzz(args);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith($"asyncnet: fuzz: {message}", error);
        Assert.Empty(output);
    }

    [Fact]
    public void OldFramesOption_StillSetsTheMessagesPerCase()
    {
        using var server = new ThreadedFramedEchoServer(LengthFieldFormat.Default, frame => frame.Payload.ToArray());

        (int code, string output, _) = Fuzz("--port", Port(server), "--frames", "1", "--cases", "10", "--seed", "4");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Matches(@"fuzz: 10 cases passed: 10 messages, ", output);
    }

    private static (int Code, string Out, string Err) Fuzz(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(["fuzz", .. args], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Port(Support.ThreadPerConnectionServer server) => server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"smallest failing case \(\d+ shrinks\): (\d+) message\(s\) \[.* \((\d+) B\)\], writes of")]
    private static partial Regex SmallestCase();
}
