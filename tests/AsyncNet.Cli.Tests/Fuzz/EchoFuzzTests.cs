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

    private static readonly WireFormat<FrameSpec> Frames = EchoFuzz.frames(Format, 8);

    private static EchoFuzzOptions Options(ThreadedFramedEchoServer server, int maxCases, ulong seed = 42) =>
        new(server.EndPoint, maxCases, TimeSpan.FromSeconds(30), seed, TimeSpan.FromSeconds(5));

    [Fact]
    public void CorrectServer_PassesEveryCase_AndEveryMessageIsCounted()
    {
        using var server = new ThreadedFramedEchoServer(Format, frame => frame.Payload.ToArray());
        int progressCalls = 0;

        EchoFuzzReport<FrameSpec> report = EchoFuzz.run(Frames, Options(server, maxCases: 60), _ => progressCalls++, CancellationToken.None);

        Assert.Null(report.Failure);
        Assert.Equal(60, report.Cases);
        Assert.Equal(60, progressCalls);
        Assert.Equal(60, server.Connections);
        Assert.True(report.MessagesVerified >= 60, $"only {report.MessagesVerified} frames in 60 cases");
        Assert.True(report.BytesVerified >= report.MessagesVerified * 9, "every frame has at least a 9-byte header and trailer");
    }

    [Fact]
    public void ServerThatTruncatesLongPayloads_IsCaught_AndShrunkToOneFrameJustOverTheEdge()
    {
        // The planted bug: payloads over 40 bytes lose their last byte.
        using var server = new ThreadedFramedEchoServer(Format, frame =>
            frame.Payload.Length > 40 ? frame.Payload.Slice(0, frame.Payload.Length - 1).ToArray() : frame.Payload.ToArray());

        EchoFuzzReport<FrameSpec> report = EchoFuzz.run(Frames, Options(server, maxCases: 500), null, CancellationToken.None);

        EchoFuzzFailure<FrameSpec> failure = Assert.IsType<EchoFuzzFailure<FrameSpec>>(report.Failure?.Value);
        EchoFuzzCase<FrameSpec> smallest = failure.Smallest;
        FrameSpec frame = Assert.Single(smallest.Messages);
        Assert.Equal(41, frame.Payload.Length);
        Assert.Equal(0u, frame.Type);
        Assert.Equal([int.MaxValue], smallest.Writes);
        Assert.Empty(smallest.PausesMs);
        Assert.Contains("1 message(s) [0:", EchoFuzz.describe(Frames, smallest));
        Assert.Contains("(50 B)", EchoFuzz.describe(Frames, smallest));

        // Type 0, then the length field, which counts the payload and the 4-byte trailer: 45 (0x2D) came back as 44.
        Assert.Equal("echoed byte 4 (message 0, byte 4 of its 50) is 0x2C instead of 0x2D", failure.Reason);
        Assert.True(failure.Shrinks > 0);
        EchoFuzzWrite write = Assert.Single(failure.Writes);
        Assert.Equal(50, write.Bytes.Length);
        Assert.Equal(0, write.PauseMs);
    }

    [Fact]
    public void ServerThatFlipsAByte_IsReportedWithTheMessageAndTheOffset_AndItsWritesReplayTheFailure()
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

        EchoFuzzReport<FrameSpec> report = EchoFuzz.run(Frames, Options(server, maxCases: 500, seed: 7), null, CancellationToken.None);

        EchoFuzzFailure<FrameSpec> failure = Assert.IsType<EchoFuzzFailure<FrameSpec>>(report.Failure?.Value);
        Assert.Equal(4, Assert.Single(failure.Smallest.Messages).Payload.Length);
        Assert.StartsWith("echoed byte 8 (message 0, byte 8 of its 13) is 0x", failure.Reason);
        string replayed = Assert.IsType<string>(EchoFuzz.replay(Options(server, 1), failure.Writes)?.Value);
        Assert.StartsWith("echoed byte 8 is 0x", replayed);
    }

    [Fact]
    public void Replay_OfWritesACorrectServerEchoes_FindsNothing()
    {
        using var server = new ThreadedFramedEchoServer(Format, frame => frame.Payload.ToArray());
        byte[] frame = new FrameEncoder(Format).Encode(3, "abc"u8);

        FSharpOption<string>? verdict = EchoFuzz.replay(Options(server, 1), [new EchoFuzzWrite(frame[..2], 1), new EchoFuzzWrite(frame[2..], 0)]);

        Assert.Null(verdict);
    }

    [Fact]
    public void RefusedConnection_IsAFailureNamingTheEndpoint()
    {
        using var server = new ThreadedFramedEchoServer(Format, frame => frame.Payload.ToArray());
        var endpoint = server.EndPoint;
        server.Dispose();
        var options = new EchoFuzzOptions(endpoint, 5, TimeSpan.FromSeconds(10), 1, TimeSpan.FromSeconds(2));

        EchoFuzzReport<FrameSpec> report = EchoFuzz.run(Frames, options, null, CancellationToken.None);

        EchoFuzzFailure<FrameSpec> failure = Assert.IsType<EchoFuzzFailure<FrameSpec>>(report.Failure?.Value);
        Assert.Contains("ConnectionRefused", failure.Reason);
        Assert.Contains(endpoint.ToString(), failure.Reason);
    }

    [Fact]
    public void FormatThatStripsTheHeader_IsFuzzedByteForByte()
    {
        // The echo is compared as bytes, so a decoder's stripping does not matter: every case round-trips.
        var stripping = new LengthFieldFormat(lengthFieldSize: 2, initialBytesToStrip: 2);
        using var server = new ThreadedFramedEchoServer(stripping, frame => frame.Payload.ToArray());
        var options = new EchoFuzzOptions(server.EndPoint, 20, TimeSpan.FromSeconds(30), 1, TimeSpan.FromSeconds(5));

        EchoFuzzReport<FrameSpec> report = EchoFuzz.run(EchoFuzz.frames(stripping, 4), options, null, CancellationToken.None);

        Assert.Null(report.Failure);
        Assert.Equal(20, report.Cases);
    }
}
