using AsyncNet.Diagnostics;
using AsyncNet.Loop;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Streams.Tests.Framing;
using AsyncNet.Tests.Shared;

namespace AsyncNet.Streams.Tests.Diagnostics;

/// <summary>
/// AsyncNet.Streams' instruments of the "AsyncNet" meter (frames decoded and rejected, drain waits) over real sockets,
/// and what a framed server writes when a client sends a bad frame.
/// </summary>
public sealed class FramingMetricsTests : IDisposable
{
    private readonly StringWriter _output = new();
    private readonly StreamTestLoop _test;
    private readonly MetricsRecorder _metrics;

    public FramingMetricsTests()
    {
        // The loop's own default handler writes here: the bad-frame tests read what it wrote.
        _test = new StreamTestLoop(new EventLoopOptions { ErrorOutput = _output }, collectReports: false);
        _metrics = new MetricsRecorder(_test.Loop);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _test.Dispose();
    }

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void FramesDecoded_CountsEveryFrameEachReaderReturned(string familyName) => _test.Run(async () =>
    {
        StreamFamily family = StreamFamily.Get(familyName);
        LengthFieldFormat format = LengthFieldFormat.Default;
        StreamServer server = await family.StartServerAsync(_test.Loop, (reader, writer) => EchoFramesAsync(reader, writer, format));
        (StreamReader reader, StreamWriter writer) = await family.OpenAsync(_test.Loop, server);
        var frames = new FrameReader(reader, format);
        var output = new FrameWriter(writer, format);

        const int Count = 50;
        for (int i = 0; i < Count; i++)
        {
            output.Write(0, Bytes.Random(100 + i, seed: i));
        }

        await output.DrainAsync();
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(100 + i, (await frames.ReadFrameAsync())!.Value.Payload.Length);
        }

        writer.Close();
        Assert.Null(await frames.ReadFrameAsync());
        await server.ShutdownAsync();

        // The server's reader and the client's: 50 each.
        Assert.Equal(2 * Count, _metrics.Sum(AsyncNetMetrics.FramesDecoded));
        Assert.Empty(_metrics.Of(AsyncNetMetrics.FramesRejected));
        Assert.Equal(string.Empty, _output.ToString());
    });

    public static TheoryData<string> Faults => ["too_large", "corrupt", "checksum"];

    [Theory]
    [MemberData(nameof(Faults))]
    public void ABadFrame_CountsUnderItsReason_AndTheServerWritesOneLineWithoutStackTrace(string reason) => _test.Run(async () =>
    {
        var crc = new LengthFieldFormat(checksum: ChecksumAlgorithm.Crc32C);
        (LengthFieldFormat Format, byte[] Bad, string Exception) fault = reason switch
        {
            // A hostile client's 14 bytes: a header that declares 2 GiB, and a few bytes more.
            "too_large" => (LengthFieldFormat.Default, FramingTestKit.Bytes(0x7F, 0xFF, 0xFF, 0xFF, "0123456789"), nameof(FrameTooLargeException)),
            "corrupt" => (new LengthFieldFormat(lengthFieldSize: 2, lengthAdjustment: -4), FramingTestKit.Bytes(0, 1, 0), nameof(CorruptFrameException)),
            _ => (crc, Damaged(new FrameEncoder(crc).Encode(0, Bytes.Ascii("damaged"))), nameof(ChecksumMismatchException)),
        };
        (LengthFieldFormat format, byte[] bad, string exception) = fault;
        StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, (reader, writer) => EchoFramesAsync(reader, writer, format));
        (StreamReader client, StreamWriter clientWriter) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);

        byte[] good = new FrameEncoder(format).Encode(0, Bytes.Ascii("fine"));
        clientWriter.Write(FramingTestKit.Concat(good, bad));

        // The good frame comes back, then the server closes the connection.
        Assert.Equal(good, await client.ReadToEndAsync());
        await server.ShutdownAsync();

        Assert.Equal(1, _metrics.Sum(AsyncNetMetrics.FramesRejected, (AsyncNetMetrics.ReasonTag, reason)));
        Assert.Equal(1, _metrics.Sum(AsyncNetMetrics.FramesRejected));
        Assert.Equal(1, _metrics.Sum(AsyncNetMetrics.FramesDecoded));

        string written = _output.ToString();
        string line = Assert.Single(written.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("AsyncNet event loop: Unhandled exception in a stream server's handler (source: StreamServer(", line, StringComparison.Ordinal);
        Assert.Contains($"): {exception}: ", line, StringComparison.Ordinal);
        Assert.True(written.Length < 400, $"one short line, not a stack trace: {written.Length} characters");

        static byte[] Damaged(byte[] wire)
        {
            wire[5] ^= 0x10;
            return wire;
        }
    });

    [Fact]
    public void DrainWaits_CountsADrainThatWaitsForTheLowMark_AndNotOneThatDoesNot() => _test.Run(async () =>
    {
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StreamServer server = await StreamFamily.Unix.StartServerAsync(_test.Loop, async (reader, writer) =>
        {
            await reading.Task;
            await reader.ReadToEndAsync();
        });
        (StreamReader _, StreamWriter writer) = await StreamFamily.Unix.OpenAsync(_test.Loop, server);

        writer.Write(Bytes.Random(100));
        await writer.DrainAsync(); // at once: nothing is left above the low mark
        Assert.Equal(0, _metrics.Sum(AsyncNetMetrics.DrainWaits));

        // The server does not read yet: 8 MiB cannot all leave, so the drain waits.
        writer.Write(Bytes.Random(8 * 1024 * 1024));
        ValueTask drain = writer.DrainAsync();
        Assert.False(drain.IsCompleted);
        reading.SetResult();
        await drain;
        Assert.Equal(1, _metrics.Sum(AsyncNetMetrics.DrainWaits));

        writer.Close();
        await server.ShutdownAsync();
    });

    /// <summary>The framed echo as the CLI's framed echo server does it: a client that stops inside a frame ends quietly.</summary>
    private static async Task EchoFramesAsync(StreamReader reader, StreamWriter writer, LengthFieldFormat format)
    {
        var frames = new FrameReader(reader, format);
        var output = new FrameWriter(writer, format);
        try
        {
            while (await frames.ReadFrameAsync() is { } frame)
            {
                output.Write(frame);
                await output.DrainAsync();
            }
        }
        catch (IncompleteReadException)
        {
            // The client closed inside a frame.
        }
    }
}
