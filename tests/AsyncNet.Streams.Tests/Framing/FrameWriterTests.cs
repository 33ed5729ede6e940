using System.Buffers;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>FrameWriter over a scripted transport: what the kernel took, byte for byte.</summary>
public sealed class FrameWriterTests : IDisposable
{
    private static readonly LengthFieldFormat TypedCrc32C = new(typeFieldSize: 1, lengthFieldOffset: 1, lengthAdjustment: -4, checksum: ChecksumAlgorithm.Crc32C);
    private static readonly LengthFieldFormat Varint = new(lengthFieldSize: LengthFieldFormat.Varint);

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void Write_SendsHeaderPayloadAndTrailer_ExactlyAsTheEncoderLaysThemOut()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameWriter(s.Writer, TypedCrc32C);
            var encoder = new FrameEncoder(TypedCrc32C);
            byte[] payload = Bytes.Random(300);
            frames.Write(7, payload);
            frames.Write(255, ReadOnlyMemory<byte>.Empty);
            Assert.Equal(FramingTestKit.Concat(encoder.Encode(7, payload), encoder.Encode(255, [])), s.Transport.Sent);
            Assert.Same(s.Writer, frames.Writer);
            Assert.Same(TypedCrc32C, frames.Format);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void Write_PayloadAndScratchMayBeReusedAtOnce_EvenWhenTheKernelTakesPartOfIt()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            s.Transport.SendSchedule.Enqueue(3);
            s.Transport.SendSchedule.Enqueue(0);
            var frames = new FrameWriter(s.Writer, Varint);
            var encoder = new FrameEncoder(Varint);
            byte[] payload = Bytes.Ascii("first payload");
            byte[] expected = FramingTestKit.Concat(encoder.Encode(0, payload), encoder.Encode(0, Bytes.Ascii("second")));
            frames.Write(0, payload);
            payload.AsSpan().Fill((byte)'!');
            frames.Write(0, Bytes.Ascii("second"));
            while (s.Transport.WriteBufferSize > 0)
            {
                s.Transport.Pump();
            }

            Assert.Equal(expected, s.Transport.Sent);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void Write_FrameWithPayloadInSegments_SendsEachSegmentInPlace_WithTheRightTrailer()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameWriter(s.Writer, TypedCrc32C);
            byte[] payload = Bytes.Random(100, seed: 5);
            ReadOnlySequence<byte> segmented = FramingTestKit.Sequence(payload[..10], payload[10..11], [], payload[11..]);
            frames.Write(new Frame(42, segmented));
            frames.Write(new Frame(43, payload.AsMemory(0, 5)));
            var encoder = new FrameEncoder(TypedCrc32C);
            Assert.Equal(FramingTestKit.Concat(encoder.Encode(42, payload), encoder.Encode(43, payload[..5])), s.Transport.Sent);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void Write_PayloadTheFormatCannotCarry_ThrowsTheEncodersException_AndWritesNothing()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            var oneByte = new FrameWriter(s.Writer, new LengthFieldFormat(lengthFieldSize: 1));
            ArgumentException tooLong = Assert.Throws<ArgumentException>(() => oneByte.Write(0, new byte[256]));
            Assert.Contains("256", tooLong.Message);
            Assert.Contains("255", tooLong.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => oneByte.Write(1, new byte[1]));
            Assert.Throws<ArgumentException>(() => oneByte.Write(new Frame(0, FramingTestKit.Sequence(new byte[200], new byte[56]))));

            var small = new FrameWriter(s.Writer, new LengthFieldFormat(maxFrameLength: 10));
            Assert.Throws<ArgumentException>(() => small.WriteAsync(0, new byte[7]));
            Assert.Empty(s.Transport.Sent);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void Write_AfterClose_ThrowsInvalidOperation_AndWriteAsyncFailsItsTask()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameWriter(s.Writer, LengthFieldFormat.Default);
            s.Writer.Close();
            Assert.Throws<InvalidOperationException>(() => frames.Write(0, new byte[1]));
            ValueTask write = frames.WriteAsync(0, new byte[1]);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await write);
        });
    }

    [Fact]
    public void WriteAsync_CompletesWhenTheBufferDrainsToTheLowMark()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Transport.SetWriteBufferLimits(high: 64, low: 16);
            s.Transport.SendSchedule.Enqueue(0);
            var frames = new FrameWriter(s.Writer, LengthFieldFormat.Default);
            ValueTask write = frames.WriteAsync(0, new byte[100]);
            Assert.False(write.IsCompleted);
            Assert.False(frames.DrainAsync().IsCompleted);
            s.Transport.Pump();
            await write;
            Assert.Equal(104, s.Transport.Sent.Length);
            Assert.True(frames.DrainAsync().IsCompletedSuccessfully);
        });
    }

    [Fact]
    public void WriteAsync_AlreadyCancelled_WritesNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameWriter(s.Writer, LengthFieldFormat.Default);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await frames.WriteAsync(0, new byte[3], new CancellationToken(true)));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await frames.WriteAsync(new Frame(0, new byte[3]), new CancellationToken(true)));
            Assert.Empty(s.Transport.Sent);
        });
    }

    [Fact]
    public void Write_FromOtherThreads_EachFrameArrivesWhole()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            const int Threads = 4;
            const int PerThread = 200;

            // One FrameWriter per thread (a writer serves one call at a time), all on the same connection.
            Task[] writers = Enumerable.Range(0, Threads).Select(t => Task.Run(async () =>
            {
                var frames = new FrameWriter(s.Writer, TypedCrc32C);
                for (int i = 0; i < PerThread; i++)
                {
                    frames.Write((uint)t, Bytes.Random(i % 50, seed: i));
                    if (i % 20 == 0)
                    {
                        await frames.DrainAsync();
                    }
                }
            })).ToArray();
            await Task.WhenAll(writers);
            await new FrameWriter(s.Writer, TypedCrc32C).DrainAsync();
            await _test.YieldAsync();

            DecodeOutcome outcome = FramingTestKit.DecodeWhole(TypedCrc32C, s.Transport.Sent);
            Assert.Null(outcome.Fault);
            Assert.Equal(0, outcome.Unconsumed);
            for (int t = 0; t < Threads; t++)
            {
                DecodedFrame[] mine = outcome.Frames.Where(f => f.Type == t).ToArray();
                Assert.Equal(PerThread, mine.Length);
                Assert.All(Enumerable.Range(0, PerThread), i => Assert.Equal(Bytes.Random(i % 50, seed: i), mine[i].Payload));
            }
        });
    }

    [Fact]
    public void LoopWriter_SteadyState_AllocatesNothingPerFrame()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Transport.RecordSent = false;
            var frames = new FrameWriter(s.Writer, TypedCrc32C);
            byte[] payload = Bytes.Random(64);
            ReadOnlySequence<byte> segmented = FramingTestKit.Sequence(payload[..20], payload[20..]);
            // Long enough that a one-off allocation (the JIT's tier-up, a pool growing under a loaded machine) stays
            // far below one byte a message, while any real per-message allocation (24 bytes at least) cannot.
            const int warmUp = 1_000;
            const int measured = 20_000;
            long allocated = 0;
            for (int i = 0; i < warmUp + measured; i++)
            {
                if (i == warmUp)
                {
                    allocated = GC.GetAllocatedBytesForCurrentThread();
                }

                await frames.WriteAsync(3, payload);
                await frames.WriteAsync(new Frame(4, segmented));
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Assert.True(allocated < measured, $"{allocated} bytes allocated for {2 * measured} frames written and drained");
        });
    }

    [Fact]
    public void OnTheLoop_AFrameWithoutATrailer_GoesAsOneTwoPartWrite_ThePayloadFromWhereItLies()
    {
        _test.Run(() =>
        {
            // No layout copy: the transport gets the header and the caller's own payload bytes in one call.
            byte[] payload = Bytes.Random(1024);
            var transport = new TwoPartRecorder { Payload = payload };
            var protocol = new StreamProtocol(_test.Loop);
            protocol.ConnectionMade(transport);
            var format = new LengthFieldFormat();
            var frames = new FrameWriter(protocol.Writer, format);

            frames.Write(new Frame(0, new ReadOnlySequence<byte>(payload)));
            frames.Write(0, payload.AsMemory(0, 10));

            Assert.Equal(["two-part 4+1024 (payload in place)", "two-part 4+10 (payload in place)"], transport.Calls);
            Assert.Equal([.. new FrameEncoder(format).Encode(0, payload), .. new FrameEncoder(format).Encode(0, payload.AsSpan(0, 10))], transport.Bytes);
            return Task.CompletedTask;
        });
    }

    /// <summary>A transport that records which write each call was and what it carried; it sends nothing.</summary>
    private sealed class TwoPartRecorder : IStreamTransport
    {
        private readonly List<byte> _bytes = [];

        public List<string> Calls { get; } = [];

        public byte[] Bytes => [.. _bytes];

        /// <summary>The payload the test wrote, to tell "in place" from "copied".</summary>
        public byte[]? Payload { get; set; }

        public bool IsClosing => false;

        public bool IsReading => true;

        public int WriteBufferSize => 0;

        public int WriteBufferHighWaterMark => 64 * 1024;

        public int WriteBufferLowWaterMark => 16 * 1024;

        public bool CanWriteEof => true;

        public void Write(ReadOnlySpan<byte> data)
        {
            Calls.Add($"one-part {data.Length}");
            _bytes.AddRange(data);
        }

        public void Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
        {
            string where = Payload is { } payload && payload.AsSpan().Overlaps(second) ? "payload in place" : "copied";
            Calls.Add($"two-part {first.Length}+{second.Length} ({where})");
            _bytes.AddRange(first);
            _bytes.AddRange(second);
        }

        public void WriteLines(IEnumerable<ReadOnlyMemory<byte>> buffers)
        {
            Calls.Add("lines");
            foreach (ReadOnlyMemory<byte> buffer in buffers)
            {
                _bytes.AddRange(buffer.Span);
            }
        }

        public void PauseReading()
        {
        }

        public void ResumeReading()
        {
        }

        public void WriteEof()
        {
        }

        public void Close()
        {
        }

        public void Abort()
        {
        }

        public void SetWriteBufferLimits(int? high = null, int? low = null)
        {
        }

        public bool PauseWritingUntilLowWater() => false;

        public object? GetExtraInfo(string name, object? defaultValue = null) => defaultValue;
    }
}
