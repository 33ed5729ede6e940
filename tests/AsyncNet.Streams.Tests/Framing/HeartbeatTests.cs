using System.Buffers;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;
using static AsyncNet.Streams.Tests.Framing.HeartbeatTestKit;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// Heartbeats over real connections (loopback TCP and Unix sockets) with short timeouts: quiet connections with a
/// heartbeat at both ends stay open, silent peers are closed with <see cref="IdleTimeoutException"/>, pings are the
/// configured frames on the wire, and never split an application frame.
/// </summary>
public sealed class HeartbeatTests : IDisposable
{
    private static readonly LengthFieldFormat s_typed = new(typeFieldSize: 1, lengthFieldOffset: 1, checksum: ChecksumAlgorithm.Crc32C);

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Theory]
    [MemberData(nameof(Families), MemberType = typeof(HeartbeatTestKit))]
    public void BothEndsWithHeartbeat_QuietConnection_StaysOpenPastSeveralDeadlines_AndThePingsStayHidden(string family)
    {
        var heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(50), Deadline = TimeSpan.FromMilliseconds(250), PingType = 9 };
        _test.Run(async () =>
        {
            var serverSide = new TaskCompletionSource<(List<DecodedFrame> Frames, long PingsSkipped)>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await StartFramedServerAsync(_test.Loop, family, async connection =>
            {
                // An echo: whatever the application sends comes back; pings never reach this loop.
                var frames = new List<DecodedFrame>();
                while (await connection.Reader.ReadFrameAsync() is { } frame)
                {
                    frames.Add(new DecodedFrame(frame.Type, frame.Payload.ToArray()));
                    await connection.Writer.WriteAsync(frame);
                }

                serverSide.SetResult((frames, connection.Reader.PingsSkipped));
            }, s_typed, heartbeat);

            await using FramedConnection client = await OpenFramedAsync(_test.Loop, server, s_typed, heartbeat);
            Assert.Same(heartbeat, client.Heartbeat);

            // Quiet for three deadlines: only the pings keep it open.
            await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(750));

            await client.Writer.WriteAsync(1, Bytes.Ascii("still there?"));
            Frame echo = (await client.Reader.ReadFrameAsync())!.Value;
            Assert.Equal((1u, "still there?"), (echo.Type, Bytes.Text(echo.Payload.ToArray())));
            Assert.True(client.Reader.PingsSkipped > 0, $"The server's pings were skipped by the client's reader: {client.Reader}");

            client.Writer.Writer.WriteEof();
            Assert.Null(await client.Reader.ReadFrameAsync());
            (List<DecodedFrame> frames, long serverSkipped) = await serverSide.Task;
            Assert.Equal([new DecodedFrame(1, Bytes.Ascii("still there?"))], frames);
            Assert.True(serverSkipped > 0, "The client's pings were skipped by the server's reader");

            client.Close();
            await client.WaitClosedAsync();
            Assert.Empty(_test.HandlerReports);
        });
    }

    [Fact]
    public void SilentRawPeer_PendingReadFrameThrowsIdleTimeout_AndSoDoDrainAndWaitClosed()
    {
        var heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(50), Deadline = TimeSpan.FromMilliseconds(200) };
        _test.Run(async () =>
        {
            (FramedConnection client, Socket peer) = await ConnectToRawPeerAsync(_test.Loop, LengthFieldFormat.Default, heartbeat);
            using (peer)
            await using (client)
            {
                // The peer reads (and so gets the pings) but never sends: the deadline ends the connection.
                Task<byte[]> peerReceived = ReceiveAtLeastAsync(peer, int.MaxValue);
                var timeout = await Assert.ThrowsAsync<IdleTimeoutException>(async () => await client.Reader.ReadFrameAsync());
                Assert.Equal(IdleKind.Read, timeout.Kind);
                Assert.Equal(TimeSpan.FromMilliseconds(200), timeout.Timeout);

                Assert.Same(timeout, await Assert.ThrowsAsync<IdleTimeoutException>(async () => await client.Reader.ReadFrameAsync()));
                Assert.Same(timeout, await Assert.ThrowsAsync<IdleTimeoutException>(async () => await client.Writer.DrainAsync()));
                Assert.Same(timeout, await Assert.ThrowsAsync<IdleTimeoutException>(() => client.WaitClosedAsync()));

                // What the peer got before the end: pings only, each the default format's empty frame.
                List<DecodedFrame> pings = DecodeAll(LengthFieldFormat.Default, await peerReceived);
                Assert.NotEmpty(pings);
                Assert.All(pings, p => Assert.Equal(new DecodedFrame(0, []), p));
            }
        });
    }

    [Fact]
    public void SilentRawPeerThatDoesNotRead_PendingDrainThrowsIdleTimeout_AndNoPingsPileUpMeanwhile()
    {
        var heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(20), Deadline = TimeSpan.FromMilliseconds(250) };
        _test.Run(async () =>
        {
            (FramedConnection client, Socket peer) = await ConnectToRawPeerAsync(
                _test.Loop, s_typed, heartbeat, new ConnectionOptions { SendBufferSize = 4096 }, peerReceiveBufferSize: 4096);
            using (peer)
            await using (client)
            {
                ValueTask<Frame?> read = client.Reader.ReadFrameAsync();

                // More than the kernels hold while nobody reads, so the drain waits; the peer's silence ends it.
                byte[] payload = Bytes.Random(64 * 1024, seed: 3);
                for (int i = 0; i < 64; i++)
                {
                    client.Writer.Write(1, payload);
                }

                int buffered = client.Writer.Writer.Transport.WriteBufferSize;
                ValueTask drain = client.Writer.DrainAsync();
                Assert.False(drain.IsCompleted, "The drain should wait: the peer reads nothing");

                // Write-idle is reported every 20 ms while the buffer stays full, and no ping is added to it.
                await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(100));
                Assert.True(client.Writer.Writer.Transport.WriteBufferSize <= buffered, "No ping was queued behind the stuck frames");

                var timeout = await Assert.ThrowsAsync<IdleTimeoutException>(async () => await drain);
                Assert.Equal(IdleKind.Read, timeout.Kind);
                Assert.Equal(TimeSpan.FromMilliseconds(250), timeout.Timeout);
                Assert.Same(timeout, await Assert.ThrowsAsync<IdleTimeoutException>(async () => await read));
            }
        });
    }

    public static TheoryData<string> PingShapes => ["default-empty", "typed-crc32c", "varint-one-byte"];

    [Theory]
    [MemberData(nameof(PingShapes))]
    public void Pings_OnTheWire_AreFramesOfTheConfiguredTypeAndPayload_UntilTheSilentPeerIsClosed(string shape)
    {
        (LengthFieldFormat format, uint type, byte[] payload) = shape switch
        {
            "default-empty" => (LengthFieldFormat.Default, 0u, Array.Empty<byte>()),
            "typed-crc32c" => (s_typed, 0xEEu, Bytes.Ascii("hb!")),
            "varint-one-byte" => (new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint), 0u, new byte[] { 0x7F }),
            _ => throw new ArgumentException(shape),
        };
        var heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(40), Deadline = TimeSpan.FromMilliseconds(300), PingType = type, PingPayload = payload };
        byte[] pingWire = new FrameEncoder(format).Encode(type, payload);

        _test.Run(async () =>
        {
            var serverRead = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await StartFramedServerAsync(
                _test.Loop, "tcp4", async connection => serverRead.SetResult(await Record.ExceptionAsync(async () => await connection.Reader.ReadFrameAsync())), format, heartbeat);

            using Socket peer = await ConnectRawAsync(server);
            byte[] wire = await ReceiveAtLeastAsync(peer, int.MaxValue);

            // Only whole pings, byte for byte, one per quiet interval until the deadline closed the connection.
            Assert.True(wire.Length >= 2 * pingWire.Length, $"At least two pings before the deadline; got {wire.Length} bytes");
            Assert.Equal(0, wire.Length % pingWire.Length);
            for (int offset = 0; offset < wire.Length; offset += pingWire.Length)
            {
                Assert.Equal(pingWire, wire[offset..(offset + pingWire.Length)]);
            }

            Assert.All(DecodeAll(format, wire), p => Assert.Equal(new DecodedFrame(type, payload), p));
            var timeout = Assert.IsType<IdleTimeoutException>(await serverRead.Task);
            Assert.Equal(TimeSpan.FromMilliseconds(300), timeout.Timeout);
        });
    }

    [Fact]
    public void HidePingsOff_ReceivedPingsComeOutOfReadFrameAsync_AsFramesOfThePingType()
    {
        var pinging = new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(30), Deadline = TimeSpan.FromMilliseconds(300), PingType = 0x7E, PingPayload = Bytes.Ascii("ping") };
        var showing = new HeartbeatOptions { Interval = pinging.Interval, Deadline = pinging.Deadline, PingType = pinging.PingType, PingPayload = pinging.PingPayload, HidePings = false };
        _test.Run(async () =>
        {
            var seen = new TaskCompletionSource<(List<DecodedFrame> Frames, long Skipped)>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await StartFramedServerAsync(_test.Loop, "tcp4", async connection =>
            {
                var frames = new List<DecodedFrame>();
                for (int i = 0; i < 3; i++)
                {
                    Frame frame = (await connection.Reader.ReadFrameAsync())!.Value;
                    frames.Add(new DecodedFrame(frame.Type, frame.Payload.ToArray()));
                }

                seen.SetResult((frames, connection.Reader.PingsSkipped));
            }, s_typed, showing);

            await using FramedConnection client = await OpenFramedAsync(_test.Loop, server, s_typed, pinging);
            (List<DecodedFrame> frames, long skipped) = await seen.Task;
            Assert.All(frames, f => Assert.Equal(new DecodedFrame(0x7E, Bytes.Ascii("ping")), f));
            Assert.Equal(0, skipped);
        });
    }

    [Fact]
    public void TinyInterval_ManyFramesFromTheLoopAndFromAnotherThread_AllArriveIntact_WithPingsBetweenThem()
    {
        // A 1 ms interval: every pause between writes is long enough for a ping, so pings and frames alternate often.
        var heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromMilliseconds(1), Deadline = TimeSpan.FromMilliseconds(300), PingType = 0xFF };
        var random = new Random(17);
        List<(uint Type, byte[] Payload)> onLoop = Enumerable.Range(0, 600).Select(i => ((uint)(i % 200), Bytes.Random(random.Next(0, 3000), seed: i))).ToList();
        List<(uint Type, byte[] Payload)> offLoop = Enumerable.Range(0, 600).Select(i => ((uint)(200 + (i % 50)), Bytes.Random(random.Next(0, 3000), seed: 1000 + i))).ToList();

        _test.Run(async () =>
        {
            // The handler runs once per connection, on the loop thread; the two results come in either order.
            var results = new List<(List<DecodedFrame> Frames, long PingsSkipped)>();
            var bothDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await StartFramedServerAsync(_test.Loop, "tcp4", async connection =>
            {
                List<DecodedFrame> frames = await ReadAllAsync(connection.Reader);
                results.Add((frames, connection.Reader.PingsSkipped));
                if (results.Count == 2)
                {
                    bothDone.SetResult();
                }
            }, s_typed, heartbeat);

            // Two writers, two connections: one writes on the loop thread, one from a thread-pool thread (each frame
            // one queued entry that the loop replays while it also writes pings).
            await using FramedConnection loopClient = await OpenFramedAsync(_test.Loop, server, s_typed, heartbeat);
            await using FramedConnection threadClient = await OpenFramedAsync(_test.Loop, server, s_typed, heartbeat);
            Task offLoopWriting = Task.Run(async () =>
            {
                for (int i = 0; i < offLoop.Count; i++)
                {
                    threadClient.Writer.Write(offLoop[i].Type, offLoop[i].Payload);
                    if (i % 7 == 0)
                    {
                        await threadClient.Writer.DrainAsync();
                        Thread.Sleep(2);
                    }
                }

                await threadClient.Writer.DrainAsync();
            });

            for (int i = 0; i < onLoop.Count; i++)
            {
                await loopClient.Writer.WriteAsync(onLoop[i].Type, onLoop[i].Payload);
                if (i % 5 == 0)
                {
                    await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(2));
                }
            }

            await offLoopWriting;
            loopClient.Writer.Writer.WriteEof();
            threadClient.Writer.Writer.WriteEof();

            await bothDone.Task;

            // The loop client's frame types are below 200, the other's from 200 up.
            (List<DecodedFrame> fromLoop, long loopPings) = results.Single(r => r.Frames.Count > 0 && r.Frames[0].Type < 200);
            (List<DecodedFrame> fromThread, long threadPings) = results.Single(r => r.Frames.Count > 0 && r.Frames[0].Type >= 200);
            Assert.Equal(onLoop.Select(f => new DecodedFrame(f.Type, f.Payload)), fromLoop);
            Assert.Equal(offLoop.Select(f => new DecodedFrame(f.Type, f.Payload)), fromThread);
            Assert.True(loopPings > 0 && threadPings > 0, $"Pings went between the frames on both connections ({loopPings}, {threadPings})");
            Assert.Empty(_test.HandlerReports);
        }, seconds: 60);
    }
}
