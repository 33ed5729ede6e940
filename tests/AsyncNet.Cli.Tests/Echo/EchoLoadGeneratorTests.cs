using AsyncNet.Echo;
using AsyncNet.Errors;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Cli.Tests.Echo;

public sealed class EchoLoadGeneratorTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    public static TheoryData<EchoServerKind> AllKinds => [.. EchoServerKinds.All];

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task RunAsync_AgainstEachServer_VerifiesEveryByte_AndMeasures(EchoServerKind kind)
    {
        await using IEchoServer server = await EchoServers.StartAsync(kind);
        int progressCalls = 0;
        var options = Options(server, kind.IsFramed() ? EchoFraming.DefaultFormat : null);

        EchoLoadResult result = await EchoLoadGenerator.RunAsync(options, _ => progressCalls++).WaitAsync(s_bound);

        Assert.True(result.Messages > 0, $"no message echoed in {result.Elapsed}");
        Assert.True(result.VerifiedBytes >= result.Messages * options.MessageSize);
        Assert.True(result.MessagesPerSecond > 0);
        Assert.True(result.LatencyP50 > TimeSpan.Zero);
        Assert.True(result.LatencyP99 >= result.LatencyP50);
        Assert.True(result.LatencyMax >= result.LatencyP99);
        Assert.Equal(kind.IsFramed(), result.Framed);
        Assert.True(progressCalls > 0);
    }

    [Fact]
    public async Task Framed_WithATypedChecksummedFormat_RoundTripsThroughTheFramedServer()
    {
        var format = new LengthFieldFormat(lengthFieldOffset: 1, typeFieldSize: 1, checksum: ChecksumAlgorithm.Crc32C);
        await using IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Framed, options: new EchoServerOptions { FrameFormat = format });

        EchoLoadResult result = await EchoLoadGenerator.RunAsync(Options(server, format)).WaitAsync(s_bound);

        Assert.True(result.Messages > 0);
    }

    [Fact]
    public async Task Framed_AgainstAByteEcho_AlsoVerifies()
    {
        // A byte echo returns frames unchanged too, so the framed load passes against it: what is checked is the bytes.
        await using IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Protocol);

        EchoLoadResult result = await EchoLoadGenerator.RunAsync(Options(server, EchoFraming.DefaultFormat)).WaitAsync(s_bound);

        Assert.True(result.Messages > 0);
    }

    [Fact]
    public async Task AFlippedByte_FailsAtOnce_NamingConnectionOffsetAndBothBytes()
    {
        using var server = new FaultyEchoServer(EchoFault.FlipByte, offset: 1000);
        var options = new EchoLoadOptions { Port = server.Port, Connections = 1, MessageSize = 64, Depth = 4, Duration = TimeSpan.FromSeconds(20) };

        var mismatch = await Assert.ThrowsAsync<EchoMismatchException>(() => EchoLoadGenerator.RunAsync(options).WaitAsync(s_bound));

        Assert.Equal(0, mismatch.Connection);
        Assert.Equal(1000, mismatch.Offset);
        Assert.Equal(mismatch.Expected ^ 0xFF, mismatch.Actual);
        Assert.Contains("connection 0 at byte 1,000 (message 15, byte 40 of 64)", mismatch.Message);
        Assert.Contains($"expected 0x{mismatch.Expected:X2}, got 0x{mismatch.Actual:X2}", mismatch.Message);
    }

    [Fact]
    public async Task MoreBytesBackThanSent_IsAMismatch()
    {
        using var server = new FaultyEchoServer(EchoFault.ExtraByte, offset: 64);
        var options = new EchoLoadOptions { Port = server.Port, Connections = 1, MessageSize = 64, Depth = 1, Duration = TimeSpan.FromSeconds(20) };

        var mismatch = await Assert.ThrowsAsync<EchoMismatchException>(() => EchoLoadGenerator.RunAsync(options).WaitAsync(s_bound));

        Assert.Contains("connection 0", mismatch.Message);
    }

    [Fact]
    public async Task ServerClosingMidRun_FailsWithConnectionReset_NamingTheConnection()
    {
        using var server = new FaultyEchoServer(EchoFault.CloseAfter, offset: 640);
        var options = new EchoLoadOptions { Port = server.Port, Connections = 2, MessageSize = 64, Depth = 2, Duration = TimeSpan.FromSeconds(20) };

        var reset = await Assert.ThrowsAsync<ConnectionResetException>(() => EchoLoadGenerator.RunAsync(options).WaitAsync(s_bound));

        Assert.Contains("closed connection", reset.Message);
        Assert.Contains("(EOF) after echoing 640 of the", reset.Message);
    }

    [Fact]
    public async Task NothingListening_FailsWithConnectionRefused()
    {
        int port;
        await using (IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Protocol))
        {
            port = server.EndPoint.Port;
        }

        var refused = await Assert.ThrowsAsync<ConnectionRefusedException>(
            () => EchoLoadGenerator.RunAsync(new EchoLoadOptions { Port = port, Duration = TimeSpan.FromSeconds(1) }).WaitAsync(s_bound));

        Assert.Contains($"127.0.0.1:{port}", refused.Message);
    }

    [Fact]
    public async Task Cancellation_StopsTheRun()
    {
        await using IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Protocol);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        Task<EchoLoadResult> run = EchoLoadGenerator.RunAsync(Options(server, null), null, cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(s_bound));
    }

    [Fact]
    public async Task StartBeginWindowStop_MeasuresOnlyTheWindow()
    {
        await using IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Stream);
        using EchoLoadGenerator load = await EchoLoadGenerator.StartAsync(Options(server, null));
        var deadline = DateTime.UtcNow + s_bound;
        while (load.Messages < 100 && !load.Completion.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        long before = load.Messages;
        load.BeginWindow();
        await Task.Delay(200);
        EchoLoadResult result = load.Stop();

        Assert.True(result.Messages > 0);
        Assert.True(result.Messages <= load.Messages - before, "the warm-up's messages are not counted");
        Assert.True(load.VerifiedBytes > 0);
        Assert.True(load.Completion.IsCompletedSuccessfully);
    }

    [Theory]
    [InlineData(0, 64, 1, "Connections")]
    [InlineData(1, 0, 1, "MessageSize")]
    [InlineData(1, 64, 0, "Depth")]
    [InlineData(1, 16 * 1024 * 1024, 16, "Depth")]
    public void Validate_NamesTheSettingOutOfRange(int connections, int size, int depth, string name)
    {
        var options = new EchoLoadOptions { Port = 1, Connections = connections, MessageSize = size, Depth = depth };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void Validate_AFrameAboveTheFormatsMaximum_Throws()
    {
        var options = new EchoLoadOptions { Port = 1, MessageSize = 2000, FrameFormat = new LengthFieldFormat(maxFrameLength: 1000) };

        Assert.Equal("MessageSize", Assert.Throws<ArgumentException>(options.Validate).ParamName);
    }

    private static EchoLoadOptions Options(IEchoServer server, LengthFieldFormat? format) => new()
    {
        Port = server.EndPoint.Port,
        Connections = 4,
        MessageSize = 256,
        Depth = 4,
        Warmup = TimeSpan.FromMilliseconds(100),
        Duration = TimeSpan.FromMilliseconds(500),
        ProgressInterval = TimeSpan.FromMilliseconds(50),
        FrameFormat = format,
    };
}
