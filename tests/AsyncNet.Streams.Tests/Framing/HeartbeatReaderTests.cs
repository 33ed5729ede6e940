using System.Buffers;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// The reading half of a heartbeat on a scripted transport: which received frames a <see cref="FrameReader"/> skips as
/// pings, in every chunking, and how skipping combines with EOF, faults and cancellation; and the ping sender's rules.
/// </summary>
public sealed class HeartbeatReaderTests : IDisposable
{
    private static readonly LengthFieldFormat s_typed = new(typeFieldSize: 1, lengthFieldOffset: 1, checksum: ChecksumAlgorithm.Crc32C);
    private static readonly LengthFieldFormat s_discarding = new(lengthFieldSize: 2, maxFrameLength: 64, discardOversizedFrames: true);

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    private static HeartbeatOptions Heartbeat(uint type, byte[] payload, bool hide = true) =>
        new() { Interval = TimeSpan.FromSeconds(1), PingType = type, PingPayload = payload, HidePings = hide };

    private static byte[] Wire(LengthFieldFormat format, params (uint Type, byte[] Payload)[] frames)
    {
        var encoder = new FrameEncoder(format);
        return frames.SelectMany(f => encoder.Encode(f.Type, f.Payload)).ToArray();
    }

    private static async Task<DecodedFrame?> ReadCopyAsync(FrameReader reader, CancellationToken cancellationToken = default)
    {
        Frame? frame = await reader.ReadFrameAsync(cancellationToken);
        return frame is { } f ? new DecodedFrame(f.Type, f.Payload.ToArray()) : null;
    }

    public static TheoryData<int> ChunkSizes => [1, 3, 7, 1000];

    [Theory]
    [MemberData(nameof(ChunkSizes))]
    public void HidePings_SkipsExactlyThePing_NotFramesThatMerelyShareItsTypeOrPayload(int chunk)
    {
        byte[] ping = Bytes.Ascii("hb");
        (uint, byte[])[] frames =
        [
            (7, ping),                // a ping
            (1, Bytes.Ascii("one")),
            (7, ping), (7, ping),     // pings back to back
            (7, Bytes.Ascii("hc")),   // the ping's type, another payload: application data
            (8, ping),                // the ping's payload, another type: application data
            (7, []),
            (2, Bytes.Random(300, seed: 4)),
            (7, ping),                // a ping last, then EOF
        ];
        _test.Run(async () =>
        {
            // Segments kept apart (no compaction), so payloads cross segment boundaries when the chunks are small.
            Scripted s = _test.CreateScripted(compact: false);
            var reader = new FrameReader(s.Reader, s_typed, Heartbeat(7, ping));
            byte[] wire = Wire(s_typed, frames);

            // Reading while the chunks arrive, as a connection would: each chunk wakes the pending read.
            Task<List<DecodedFrame>> reading = HeartbeatTestKit.ReadAllAsync(reader);
            for (int offset = 0; offset < wire.Length; offset += chunk)
            {
                s.Feed(wire[offset..Math.Min(wire.Length, offset + chunk)]);
            }

            s.Transport.DeliverEof();
            List<DecodedFrame> read = await reading;

            DecodedFrame[] expected =
            [
                new(1, Bytes.Ascii("one")), new(7, Bytes.Ascii("hc")), new(8, ping), new(7, []), new(2, Bytes.Random(300, seed: 4)),
            ];
            Assert.Equal(expected, read);
            Assert.Equal(4, reader.PingsSkipped);
            Assert.Contains("PingsSkipped=4", reader.ToString());
        });
    }

    public static TheoryData<string> ReadersThatShowPings => ["hide-pings-off", "null-heartbeat", "no-heartbeat"];

    [Theory]
    [MemberData(nameof(ReadersThatShowPings))]
    public void HidePingsOff_OrNoHeartbeat_ReturnsPingsLikeAnyFrame(string kind)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            FrameReader reader = kind switch
            {
                "hide-pings-off" => new FrameReader(s.Reader, LengthFieldFormat.Default, Heartbeat(0, [], hide: false)),
                "null-heartbeat" => new FrameReader(s.Reader, LengthFieldFormat.Default, heartbeat: null),
                _ => new FrameReader(s.Reader, LengthFieldFormat.Default),
            };
            s.Feed(Wire(LengthFieldFormat.Default, (0, []), (0, Bytes.Ascii("x")), (0, [])));

            Assert.Equal(new DecodedFrame(0, []), await ReadCopyAsync(reader));
            Assert.Equal(new DecodedFrame(0, Bytes.Ascii("x")), await ReadCopyAsync(reader));
            Assert.Equal(new DecodedFrame(0, []), await ReadCopyAsync(reader));
            Assert.Equal(0, reader.PingsSkipped);
            Assert.DoesNotContain("PingsSkipped", reader.ToString());
        });
    }

    [Fact]
    public void OnlyPingsBuffered_TheReadWaits_AndAPingOnlyStreamEndsCleanly()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var reader = new FrameReader(s.Reader, LengthFieldFormat.Default, Heartbeat(0, []));
            s.Feed(Wire(LengthFieldFormat.Default, (0, []), (0, [])));
            Task<DecodedFrame?> read = ReadCopyAsync(reader);
            Assert.False(read.IsCompleted, "Pings are no frames to return");
            Assert.Equal(2, reader.PingsSkipped);
            Assert.Equal(0, s.Reader.BufferedBytes);

            s.Feed(Wire(LengthFieldFormat.Default, (0, []), (0, Bytes.Ascii("data"))));
            Assert.Equal(new DecodedFrame(0, Bytes.Ascii("data")), await read);

            s.Feed(Wire(LengthFieldFormat.Default, (0, [])));
            s.Transport.DeliverEof();
            Assert.Null(await ReadCopyAsync(reader));
            Assert.Equal(4, reader.PingsSkipped);
        });
    }

    [Fact]
    public void CancelledRead_KeepsTheFrameAfterThePings()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var reader = new FrameReader(s.Reader, s_typed, Heartbeat(3, Bytes.Ascii("p")));
            byte[] data = Wire(s_typed, (3, Bytes.Ascii("p")), (5, Bytes.Ascii("payload")));
            s.Feed(data[..^4]);

            using var cts = new CancellationTokenSource();
            Task<DecodedFrame?> read = ReadCopyAsync(reader, cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
            Assert.Equal(1, reader.PingsSkipped);

            s.Feed(data[^4..]);
            Assert.Equal(new DecodedFrame(5, Bytes.Ascii("payload")), await ReadCopyAsync(reader));
        });
    }

    [Fact]
    public void CorruptFrameAfterPingsInOneSegment_EarlierFramesFirst_ThenTheFault()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var reader = new FrameReader(s.Reader, s_typed, Heartbeat(3, []));
            byte[] bad = Wire(s_typed, (4, Bytes.Ascii("bad")));
            bad[^1] ^= 0xFF;
            s.Feed([.. Wire(s_typed, (3, []), (4, Bytes.Ascii("good")), (3, []), (3, [])), .. bad]);

            Assert.Equal(new DecodedFrame(4, Bytes.Ascii("good")), await ReadCopyAsync(reader));
            await Assert.ThrowsAsync<ChecksumMismatchException>(async () => await ReadCopyAsync(reader));
            Assert.Equal(3, reader.PingsSkipped);
            await Assert.ThrowsAsync<ChecksumMismatchException>(async () => await ReadCopyAsync(reader));
        });
    }

    [Fact]
    public void OversizedFrameAfterPingsInOneSegment_IsSkipped_AndTheReaderStaysInStep()
    {
        // The throw for the oversized frame comes in the same try that skipped the pings: they must be consumed
        // already, or the next call would see them again while the decoder is past them.
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var reader = new FrameReader(s.Reader, s_discarding, Heartbeat(0, Bytes.Ascii("hb")));
            byte[] oversized = [0, 100, .. Bytes.Random(100, seed: 2)];
            s.Feed([.. Wire(s_discarding, (0, Bytes.Ascii("hb")), (0, Bytes.Ascii("hb"))), .. oversized, .. Wire(s_discarding, (0, Bytes.Ascii("hb")), (0, Bytes.Ascii("after")))]);

            await Assert.ThrowsAsync<FrameTooLargeException>(async () => await ReadCopyAsync(reader));
            Assert.Equal(new DecodedFrame(0, Bytes.Ascii("after")), await ReadCopyAsync(reader));
            Assert.Equal(3, reader.PingsSkipped);
        });
    }

    [Fact]
    public void PingSender_OnWriteIdle_WritesThePingFrame_AndIgnoresOtherReports()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            Action<StreamWriter, IdleEvent> send = Heartbeat(0xAB, Bytes.Ascii("hi")).CreatePingSender(s_typed);
            send(s.Writer, new IdleEvent(IdleKind.Read, true, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3)));
            send(s.Writer, new IdleEvent(IdleKind.All, true, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3)));
            Assert.Empty(s.Transport.Sent);

            send(s.Writer, new IdleEvent(IdleKind.Write, true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
            send(s.Writer, new IdleEvent(IdleKind.Write, false, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
            byte[] ping = new FrameEncoder(s_typed).Encode(0xAB, Bytes.Ascii("hi"));
            Assert.Equal([.. ping, .. ping], s.Transport.Sent);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void PingSender_BytesStillQueued_SendsNothing_UntilTheBufferIsEmpty()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            Action<StreamWriter, IdleEvent> send = Heartbeat(0, []).CreatePingSender(LengthFieldFormat.Default);
            var writeIdle = new IdleEvent(IdleKind.Write, true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

            // The kernel takes 2 of 10 bytes: 8 wait in the buffer, so pinging would only queue behind them.
            s.Transport.SendSchedule.Enqueue(2);
            s.Writer.Write(Bytes.Ascii("0123456789"));
            send(s.Writer, writeIdle);
            Assert.Equal(8, s.Transport.WriteBufferSize);

            s.Transport.Pump();
            Assert.Equal(0, s.Transport.WriteBufferSize);
            send(s.Writer, writeIdle);
            Assert.Equal([.. Bytes.Ascii("0123456789"), 0, 0, 0, 0], s.Transport.Sent);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void PingSender_AfterWriteEofOrClose_SendsNothing_AndDoesNotThrow()
    {
        _test.Run(() =>
        {
            Action<StreamWriter, IdleEvent> send = Heartbeat(0, []).CreatePingSender(LengthFieldFormat.Default);
            var writeIdle = new IdleEvent(IdleKind.Write, true, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

            Scripted halfClosed = _test.CreateScripted();
            halfClosed.Writer.WriteEof();
            send(halfClosed.Writer, writeIdle);
            Assert.Empty(halfClosed.Transport.Sent);

            Scripted closed = _test.CreateScripted();
            closed.Writer.Close();
            send(closed.Writer, writeIdle);
            Assert.Empty(closed.Transport.Sent);
            return Task.CompletedTask;
        });
    }
}
