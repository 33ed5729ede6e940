using System.Buffers;
using AsyncNet.Properties;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using Microsoft.FSharp.Core;

namespace AsyncNet.Cli.Tests.Fuzz;

public sealed class EchoFuzzTests
{
    private static readonly LengthFieldFormat Format = new(lengthFieldOffset: 1, lengthFieldSize: 4, typeFieldOffset: 0, typeFieldSize: 1,
        checksum: ChecksumAlgorithm.Crc32C);

    private static EchoFuzzOptions Options(ThreadedFramedEchoServer server, int maxCases, ulong seed = 42) =>
        new(server.EndPoint, Format, maxCases, TimeSpan.FromSeconds(30), 8, seed, TimeSpan.FromSeconds(5));

    [Fact]
    public void CorrectServer_PassesEveryCase_AndEveryFrameIsCounted()
    {
        using var server = new ThreadedFramedEchoServer(Format, frame => frame.Payload.ToArray());
        int progressCalls = 0;

        EchoFuzzReport report = EchoFuzz.run(Options(server, maxCases: 60), _ => progressCalls++, CancellationToken.None);

        Assert.Null(report.Failure);
        Assert.Equal(60, report.Cases);
        Assert.Equal(60, progressCalls);
        Assert.Equal(60, server.Connections);
        Assert.True(report.FramesVerified > 60, $"only {report.FramesVerified} frames in 60 cases");
        Assert.True(report.BytesVerified > report.FramesVerified * 9, "every frame has at least a 9-byte header and trailer");
    }

    [Fact]
    public void ServerThatTruncatesLongPayloads_IsCaught_AndShrunkToOneFrameJustOverTheEdge()
    {
        // The planted bug: payloads over 40 bytes lose their last byte.
        using var server = new ThreadedFramedEchoServer(Format, frame =>
            frame.Payload.Length > 40 ? frame.Payload.Slice(0, frame.Payload.Length - 1).ToArray() : frame.Payload.ToArray());

        EchoFuzzReport report = EchoFuzz.run(Options(server, maxCases: 500), null, CancellationToken.None);

        EchoFuzzFailure failure = Assert.IsType<EchoFuzzFailure>(report.Failure?.Value);
        EchoFuzzCase smallest = failure.Smallest;
        FrameSpec frame = Assert.Single(smallest.Frames);
        Assert.Equal(41, frame.Payload.Length);
        Assert.Equal(0u, frame.Type);
        Assert.Equal([int.MaxValue], smallest.Writes);
        Assert.Empty(smallest.PausesMs);
        Assert.Contains("41 B", smallest.ToString());
        Assert.Contains("echoed frame 0 differs: payload of 40 B instead of 41 B", failure.Reason);
        Assert.True(failure.Shrinks > 0);
    }

    [Fact]
    public void ServerThatFlipsAByte_IsReportedWithTheOffset()
    {
        using var server = new ThreadedFramedEchoServer(Format, frame =>
        {
            byte[] payload = frame.Payload.ToArray();
            if (payload.Length > 3)
            {
                payload[3] ^= 0xFF;
            }

            return payload;
        });

        EchoFuzzReport report = EchoFuzz.run(Options(server, maxCases: 500, seed: 7), null, CancellationToken.None);

        EchoFuzzFailure failure = Assert.IsType<EchoFuzzFailure>(report.Failure?.Value);
        Assert.Equal(4, Assert.Single(failure.Smallest.Frames).Payload.Length);
        Assert.Contains("payload byte 3 is 0x", failure.Reason);
    }

    [Fact]
    public void RefusedConnection_IsAFailureNamingTheEndpoint()
    {
        using var server = new ThreadedFramedEchoServer(Format, frame => frame.Payload.ToArray());
        var endpoint = server.EndPoint;
        server.Dispose();
        var options = new EchoFuzzOptions(endpoint, Format, 5, TimeSpan.FromSeconds(10), 4, 1, TimeSpan.FromSeconds(2));

        EchoFuzzReport report = EchoFuzz.run(options, null, CancellationToken.None);

        EchoFuzzFailure failure = Assert.IsType<EchoFuzzFailure>(report.Failure?.Value);
        Assert.Contains("ConnectionRefused", failure.Reason);
        Assert.Contains(endpoint.ToString(), failure.Reason);
    }

    [Fact]
    public void FormatThatStripsTheHeader_IsRejected()
    {
        var stripping = new LengthFieldFormat(lengthFieldSize: 2, initialBytesToStrip: 2);
        using var server = new ThreadedFramedEchoServer(Format, frame => frame.Payload.ToArray());
        var options = new EchoFuzzOptions(server.EndPoint, stripping, 5, TimeSpan.FromSeconds(10), 4, 1, TimeSpan.FromSeconds(2));

        var e = Assert.Throws<ArgumentException>(() => EchoFuzz.run(options, null, CancellationToken.None));
        Assert.Contains("strips header bytes", e.Message);
    }
}
