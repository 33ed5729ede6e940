using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using AsyncNet.Errors;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Testing.Faults;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// Framed connections through the fault proxy (loopback has no netem, so this is how the network misbehaves here):
/// frames survive slicing, latency and bandwidth limits byte for byte; heartbeats reap a blackholed peer within their
/// deadline; a reset in the middle of a frame surfaces as a reset after the frames that arrived whole.
/// </summary>
public sealed class FramingUnderFaultsTests : IDisposable
{
    private static readonly LengthFieldFormat s_format = new(typeFieldSize: 1, lengthFieldOffset: 1, checksum: ChecksumAlgorithm.Crc32C);

    /// <summary>The most a loaded 2-core machine may add to a deadline before a test calls it missed.</summary>
    private static readonly TimeSpan s_slack = TimeSpan.FromSeconds(3);

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    public static TheoryData<string, int, int> Networks => new()
    {
        // fault spec on both directions, frames, largest payload
        { "slice=7,slice-variation=5", 300, 2048 },
        { "slice=50,slice-variation=40,slice-delay=1ms", 40, 512 },
        { "latency=20ms,jitter=15ms", 300, 2048 },
        { "bandwidth=512KiB/s", 100, 4096 },
        { "latency=5ms,jitter=5ms,slice=100,slice-variation=60,bandwidth=1MiB/s", 200, 2048 },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void FramedEcho_ThroughSlicingLatencyAndBandwidth_ArrivesWithEqualSha256(string faults, int frameCount, int maxPayload)
    {
        var random = new Random(frameCount);
        byte[][] payloads = Enumerable.Range(0, frameCount).Select(_ => Bytes.Random(random.Next(0, maxPayload + 1), random.Next())).ToArray();
        string sentHash = Hash(payloads.Select((p, i) => ((uint)(i % 200), p)));
        _test.Run(
            async () =>
            {
                var serverHash = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                await using StreamServer server = await _test.Loop.StartFramedServerAsync(
                    async connection =>
                    {
                        var received = new List<(uint, byte[])>();
                        while (await connection.Reader.ReadFrameAsync() is { } frame)
                        {
                            received.Add((frame.Type, frame.Payload.ToArray()));
                            await connection.Writer.WriteAsync(frame);
                        }

                        serverHash.SetResult(Hash(received));
                    },
                    "127.0.0.1",
                    0,
                    s_format);
                var spec = FaultSpec.Parse(faults);
                var options = new FaultProxyOptions { ClientToUpstream = spec, UpstreamToClient = spec, Seed = 5 };
                await using FaultProxy proxy = await FaultProxy.StartAsync(_test.Loop, server.Sockets[0].LocalEndPoint!, options);
                await using FramedConnection client = await _test.Loop.OpenFramedConnectionAsync("127.0.0.1", proxy.Port, s_format);

                Task<List<(uint, byte[])>> echoes = ReadAllAsync(client.Reader);
                for (int i = 0; i < payloads.Length; i++)
                {
                    await client.Writer.WriteAsync((uint)(i % 200), payloads[i]);
                }

                client.Writer.Writer.WriteEof();
                Assert.Equal(sentHash, await serverHash.Task);
                Assert.Equal(sentHash, Hash(await echoes));

                long wireBytes = payloads.Sum(p => p.Length + 9L);
                Assert.Equal(wireBytes, proxy.GetForwardedBytes(FaultDirection.ClientToUpstream));
                Assert.Equal(wireBytes, proxy.GetForwardedBytes(FaultDirection.UpstreamToClient));
            },
            seconds: 60);
    }

    [Fact]
    public void Heartbeat_PeerBlackholed_ClosesWithinTheDeadline_AndPendingReadAndDrainThrowIdleTimeout()
    {
        var heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(100), Deadline = TimeSpan.FromMilliseconds(600) };
        _test.Run(async () =>
        {
            await using StreamServer server = await _test.Loop.StartFramedServerAsync(
                async connection =>
                {
                    while (await connection.Reader.ReadFrameAsync() is { } frame)
                    {
                        await connection.Writer.WriteAsync(frame);
                    }
                },
                "127.0.0.1",
                0,
                s_format,
                heartbeat);

            // Small kernel buffers between the client and the proxy, so the client's writes back up once nothing is read.
            var options = new FaultProxyOptions { ServerOptions = new ServerOptions { ReceiveBufferSize = 8 * 1024 } };
            await using FaultProxy proxy = await FaultProxy.StartAsync(_test.Loop, server.Sockets[0].LocalEndPoint!, options);
            FramedConnection client = await _test.Loop.OpenFramedConnectionAsync(
                "127.0.0.1", proxy.Port, s_format, heartbeat, connectionOptions: new ConnectionOptions { SendBufferSize = 8 * 1024 });
            await using (client)
            {
                // Healthy first: frames and pings flow; three deadlines of quiet pass without a close.
                await client.Writer.WriteAsync(1, Bytes.Ascii("hello"));
                Assert.Equal("hello", Bytes.Text((await client.Reader.ReadFrameAsync())!.Value.Payload.ToArray()));
                await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(1200));
                Assert.False(client.Writer.Writer.Transport.IsClosing, "The heartbeats keep a quiet connection open");

                proxy.SetFaults(FaultSpec.Parse("blackhole"));
                await _test.YieldAsync();
                TimeSpan blackholed = _test.Loop.Time;
                ValueTask<Frame?> read = client.Reader.ReadFrameAsync();
                byte[] payload = Bytes.Random(64 * 1024, seed: 9);
                for (int i = 0; i < 64; i++)
                {
                    client.Writer.Write(2, payload);
                }

                ValueTask drain = client.Writer.DrainAsync();
                Assert.False(drain.IsCompleted, "The drain waits: nothing the client sends is read any more");

                var timeout = await Assert.ThrowsAsync<IdleTimeoutException>(async () => await read);
                TimeSpan closedAfter = _test.Loop.Time - blackholed;
                Assert.Equal(IdleKind.Read, timeout.Kind);
                Assert.Equal(heartbeat.Deadline, timeout.Timeout);

                // The last byte (a ping) came about one interval before the blackhole, so the deadline runs out some 500–600 ms
                // after it: not at once (half the deadline leaves room for a late ping), and never much later than the deadline.
                Assert.InRange(closedAfter, heartbeat.Deadline!.Value / 2, heartbeat.Deadline.Value + s_slack);
                Assert.Same(timeout, await Assert.ThrowsAsync<IdleTimeoutException>(async () => await drain));
                Assert.Same(timeout, await Assert.ThrowsAsync<IdleTimeoutException>(() => client.WaitClosedAsync()));
            }
        });
    }

    [Fact]
    public void ResetMidFrame_ReaderWaiting_GetsEveryWholeFrame_ThenTheReadThrowsConnectionReset() => ResetMidFrame(readerBehind: false);

    // Issue 17 asks for the whole frames first in this case too. The stream reader throws a connection error before the
    // bytes it still buffers (asyncio's set_exception rule, StreamReader.Prepare and TryBeginImmediateRead), so a reader
    // that lags behind the network loses the frames that arrived whole before the reset. Reported to the lead.
    [Fact]
    public void ResetMidFrame_ReaderBehind_GetsEveryWholeFrameStillBuffered_ThenTheReadThrowsConnectionReset() => ResetMidFrame(readerBehind: true);

    /// <param name="readerBehind">
    /// False: the client reads as the bytes come (the frames are taken before the reset lands). True: the client starts
    /// reading only once the reset has reached its connection, with the whole frames still buffered.
    /// </param>
    private void ResetMidFrame(bool readerBehind)
    {
        byte[][] payloads = Enumerable.Range(1, 5).Select(i => Bytes.Random(100 * i, seed: i)).ToArray();

        // Frames 1–3 whole, then half of frame 4: each frame is 9 bytes of header and trailer around its payload.
        long cut = payloads.Take(3).Sum(p => p.Length + 9L) + ((payloads[3].Length + 9) / 2);
        _test.Run(async () =>
        {
            await using StreamServer server = await _test.Loop.StartFramedServerAsync(
                async connection =>
                {
                    foreach (byte[] payload in payloads)
                    {
                        connection.Writer.Write(7, payload);
                    }

                    await connection.Writer.DrainAsync();
                    await connection.Reader.ReadFrameAsync();
                },
                "127.0.0.1",
                0,
                s_format);
            var options = new FaultProxyOptions { UpstreamToClient = new FaultSpec { ResetAfterBytes = cut } };
            await using FaultProxy proxy = await FaultProxy.StartAsync(_test.Loop, server.Sockets[0].LocalEndPoint!, options);
            await using FramedConnection client = await _test.Loop.OpenFramedConnectionAsync("127.0.0.1", proxy.Port, s_format);
            if (readerBehind)
            {
                while (client.Reader.Reader.Exception is null)
                {
                    await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(2));
                }
            }

            var frames = new List<byte[]>();
            var reset = await Assert.ThrowsAsync<ConnectionResetException>(async () =>
            {
                while (await client.Reader.ReadFrameAsync() is { } frame)
                {
                    frames.Add(frame.Payload.ToArray());
                }
            });
            Assert.Equal(payloads.Take(3), frames);
            Assert.Equal(cut, proxy.GetForwardedBytes(FaultDirection.UpstreamToClient));
            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await client.Reader.ReadFrameAsync()));
        });
    }

    private static async Task<List<(uint, byte[])>> ReadAllAsync(FrameReader reader)
    {
        var frames = new List<(uint, byte[])>();
        while (await reader.ReadFrameAsync() is { } frame)
        {
            frames.Add((frame.Type, frame.Payload.ToArray()));
        }

        return frames;
    }

    /// <summary>SHA-256 over the frames in order: each type (4 bytes), payload length (4 bytes) and payload.</summary>
    private static string Hash(IEnumerable<(uint Type, byte[] Payload)> frames)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[8];
        foreach ((uint type, byte[] payload) in frames)
        {
            BitConverter.TryWriteBytes(header, type);
            BitConverter.TryWriteBytes(header[4..], payload.Length);
            sha.AppendData(header);
            sha.AppendData(payload);
        }

        return Convert.ToHexString(sha.GetHashAndReset());
    }
}
