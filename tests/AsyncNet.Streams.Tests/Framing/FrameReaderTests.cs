using System.Buffers;
using System.Runtime.InteropServices;
using AsyncNet.Buffers;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>FrameReader over a scripted transport: every segment, EOF and loss decided by the test.</summary>
public sealed class FrameReaderTests : IDisposable
{
    private static readonly LengthFieldFormat Varint = new(lengthFieldSize: LengthFieldFormat.Varint);
    private static readonly LengthFieldFormat TypedCrc32C = new(typeFieldSize: 1, lengthFieldOffset: 1, lengthAdjustment: -4, checksum: ChecksumAlgorithm.Crc32C);
    private static readonly LengthFieldFormat SmallMax = new(lengthFieldSize: 2, maxFrameLength: 100);

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    public static TheoryData<string> Formats => ["default", "varint", "typed-crc32c"];

    private static LengthFieldFormat FormatNamed(string name) => name switch
    {
        "default" => LengthFieldFormat.Default,
        "varint" => Varint,
        "typed-crc32c" => TypedCrc32C,
        _ => throw new ArgumentException(name),
    };

    private static byte[] Wire(LengthFieldFormat format, params (uint Type, byte[] Payload)[] frames)
    {
        // A format without a type field carries none: its frames are sent (and read back) as type 0.
        var encoder = new FrameEncoder(format);
        return frames.SelectMany(f => encoder.Encode(format.HasTypeField ? f.Type : 0, f.Payload)).ToArray();
    }

    private static async Task<DecodedFrame?> ReadCopyAsync(FrameReader reader, CancellationToken cancellationToken = default)
    {
        Frame? frame = await reader.ReadFrameAsync(cancellationToken);
        return frame is { } f ? new DecodedFrame(f.Type, f.Payload.ToArray()) : null;
    }

    [Fact]
    public void ReadFrameAsync_FrameBuffered_CompletesSynchronously_WithThePayloadInTheReceiveArray()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(Wire(LengthFieldFormat.Default, (0, Bytes.Ascii("hello")), (0, Bytes.Ascii("world"))));

            ValueTask<Frame?> read = frames.ReadFrameAsync();
            Assert.True(read.IsCompletedSuccessfully);
            Frame frame = (await read)!.Value;
            Assert.Equal("hello", Bytes.Text(frame.Payload.ToArray()));
            Assert.True(MemoryMarshal.TryGetArray(frame.Payload.First, out ArraySegment<byte> array));
            Assert.Equal(4, array.Offset);
            Assert.True(array.Array!.Length >= BufferPool.MinimumLength, "The payload is a slice of the pooled receive array");

            Assert.Equal("world", Bytes.Text((await frames.ReadFrameAsync())!.Value.Payload.ToArray()));
            Assert.Same(s.Reader, frames.Reader);
            Assert.Same(LengthFieldFormat.Default, frames.Format);
        });
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void ReadFrameAsync_AnyChunking_ReturnsEveryFrameInOrder_ThenNullAtEof(string formatName)
    {
        LengthFieldFormat format = FormatNamed(formatName);
        (uint, byte[])[] sent = [(1, []), (2, [7]), (3, Bytes.Random(300, seed: 3)), (4, Bytes.Ascii("four"))];
        byte[] wire = Wire(format, sent);
        DecodedFrame[] expected = sent.Select(f => new DecodedFrame(format.HasTypeField ? f.Item1 : 0, f.Item2)).ToArray();
        foreach ((string name, int[] cuts) in FramingTestKit.Chunkings(wire.Length).Where((_, i) => i % 37 == 0 || i < 8).Append(("byte by byte", Enumerable.Repeat(1, wire.Length).ToArray())))
        {
            foreach (bool compact in new[] { true, false })
            {
                using var test = new StreamTestLoop();
                test.Run(async () =>
                {
                    Scripted s = test.CreateScripted(compact: compact);
                    var frames = new FrameReader(s.Reader, format);
                    var received = new List<DecodedFrame>();
                    Task reading = ReadAll();
                    int offset = 0;
                    foreach (int cut in cuts)
                    {
                        s.Feed(wire[offset..(offset + cut)]);
                        offset += cut;
                    }

                    s.Transport.DeliverEof();
                    await reading;
                    Assert.True(expected.SequenceEqual(received), $"{name}, compact={compact}: got [{string.Join("; ", received)}]");
                    Assert.Null(await frames.ReadFrameAsync());

                    async Task ReadAll()
                    {
                        while (await ReadCopyAsync(frames) is { } frame)
                        {
                            received.Add(frame);
                        }
                    }
                });
            }
        }
    }

    [Fact]
    public void ReadFrameAsync_FrameLargerThanTheLimit_ResumesReadingInsteadOfDeadlocking()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 16);
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            byte[] payload = Bytes.Random(1000);
            byte[] wire = Wire(LengthFieldFormat.Default, (0, payload));
            s.Feed(wire[..40]);
            Assert.False(s.Transport.IsReading);

            ValueTask<Frame?> read = frames.ReadFrameAsync();
            Assert.True(s.Transport.IsReading, "A frame longer than the limit resumes reading");
            Assert.Equal(wire.Length, s.Reader.Need);
            for (int offset = 40; offset < wire.Length; offset += 50)
            {
                s.Feed(wire[offset..Math.Min(wire.Length, offset + 50)]);
            }

            Assert.Equal(payload, (await read)!.Value.Payload.ToArray());
            Assert.Equal(0, s.Reader.Need);
        });
    }

    [Fact]
    public void ReadFrameAsync_PayloadStaysValidUntilTheNextCall_WhileMoreBytesArrive()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(Wire(LengthFieldFormat.Default, (0, Bytes.Ascii("first"))));
            ReadOnlySequence<byte> payload = (await frames.ReadFrameAsync())!.Value.Payload;

            // More segments arrive meanwhile: they wait in the channel; the reader's queue changes only when a read starts.
            for (int i = 0; i < 50; i++)
            {
                s.Feed(Wire(LengthFieldFormat.Default, (0, Bytes.Ascii($"n{i}"))));
            }

            Assert.Equal("first", Bytes.Text(payload.ToArray()));
            Assert.Equal(50 * 6 + 50 - 10, s.Reader.BufferedBytes);
            Assert.Equal("n0", Bytes.Text((await frames.ReadFrameAsync())!.Value.Payload.ToArray()));
        });
    }

    [Fact]
    public void ReadFrameAsync_TheNextReadOfAnyKind_StartsAfterTheFrame()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(FramingTestKit.Concat(Wire(LengthFieldFormat.Default, (0, Bytes.Ascii("frame"))), Bytes.Ascii("raw line\n")));
            Assert.Equal("frame", Bytes.Text((await frames.ReadFrameAsync())!.Value.Payload.ToArray()));
            Assert.Equal(9, s.Reader.BufferedBytes);
            Assert.Equal("raw line\n", Bytes.Text(await s.Reader.ReadLineAsync()));
        });
    }

    [Fact]
    public void ReadFrameAsync_EofInsideAFrame_ThrowsIncompleteReadWithItsBytes_ThenReturnsNull()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            byte[] wire = Wire(LengthFieldFormat.Default, (0, Bytes.Ascii("whole")), (0, Bytes.Ascii("cut short")));
            s.Feed(wire[..^3]);
            Assert.Equal("whole", Bytes.Text((await frames.ReadFrameAsync())!.Value.Payload.ToArray()));
            ValueTask<Frame?> read = frames.ReadFrameAsync();
            s.Transport.DeliverEof();

            IncompleteReadException e = await Assert.ThrowsAsync<IncompleteReadException>(async () => await read);
            Assert.Equal(wire[9..^3], e.Partial);
            Assert.Equal(13, e.Expected);
            Assert.Equal(0, s.Reader.BufferedBytes);
            Assert.Null(await frames.ReadFrameAsync());
        });
    }

    [Fact]
    public void ReadFrameAsync_EofInsideAHeader_ThrowsIncompleteReadExpectingTheHeader()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(FramingTestKit.Bytes(0, 0));
            s.Transport.DeliverEof();
            IncompleteReadException e = await Assert.ThrowsAsync<IncompleteReadException>(async () => await frames.ReadFrameAsync());
            Assert.Equal([0, 0], e.Partial);
            Assert.Equal(4, e.Expected);
            Assert.Null(await frames.ReadFrameAsync());
        });
    }

    public static TheoryData<string> Faults => ["too-large", "negative", "too-short", "checksum"];

    [Theory]
    [MemberData(nameof(Faults))]
    public void ReadFrameAsync_BadFrame_DeliversEarlierFramesThenThrows_ClosesTheConnection_AndKeepsThrowing(string fault)
    {
        (LengthFieldFormat format, byte[] bad, Type exception) = fault switch
        {
            "too-large" => (SmallMax, FramingTestKit.Bytes(0, 99), typeof(FrameTooLargeException)),
            "negative" => (new LengthFieldFormat(lengthFieldSize: 8), FramingTestKit.Bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), typeof(CorruptFrameException)),
            "too-short" => (new LengthFieldFormat(lengthFieldSize: 2, lengthAdjustment: -4), FramingTestKit.Bytes(0, 1, 0), typeof(CorruptFrameException)),
            _ => (TypedCrc32C, Damaged(Wire(TypedCrc32C, (9, Bytes.Ascii("damaged")))), typeof(ChecksumMismatchException)),
        };

        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, format);
            byte[] earlier = Wire(format, (1, Bytes.Ascii("one")), (1, []));
            s.Feed(FramingTestKit.Concat(earlier, bad, Wire(format, (1, Bytes.Ascii("never")))));

            Assert.Equal("one", Bytes.Text((await frames.ReadFrameAsync())!.Value.Payload.ToArray()));
            Assert.Equal(0, (await frames.ReadFrameAsync())!.Value.Payload.Length);
            Assert.False(s.Transport.IsClosing);
            Exception first = await Assert.ThrowsAnyAsync<InvalidFrameException>(async () => await frames.ReadFrameAsync());
            Assert.IsType(exception, first);
            Assert.True(s.Transport.IsClosing, "A bad frame closes the connection");
            await _test.YieldAsync();
            Assert.True(s.Transport.IsLost);

            Exception again = await Assert.ThrowsAnyAsync<InvalidFrameException>(async () => await frames.ReadFrameAsync());
            Assert.Same(first, again);
            Assert.Contains("Faulted", frames.ToString());
        });

        static byte[] Damaged(byte[] wire)
        {
            wire[6] ^= 0x10;
            return wire;
        }
    }

    [Fact]
    public void ReadFrameAsync_OversizedInADiscardingFormat_ThrowsOnce_SkipsIt_AndStaysOpen()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var format = new LengthFieldFormat(lengthFieldSize: 2, maxFrameLength: 10, discardOversizedFrames: true);
            var frames = new FrameReader(s.Reader, format);
            s.Feed(FramingTestKit.Bytes(0, 1, "a", 0, 30, "0123456789"));

            Assert.Equal("a", Bytes.Text((await frames.ReadFrameAsync())!.Value.Payload.ToArray()));
            FrameTooLargeException e = await Assert.ThrowsAsync<FrameTooLargeException>(async () => await frames.ReadFrameAsync());
            Assert.Equal(32, e.DeclaredLength);
            ValueTask<Frame?> next = frames.ReadFrameAsync();
            Assert.False(next.IsCompleted);
            s.Feed("01234567890123456789");
            s.Feed(FramingTestKit.Bytes(0, 2, "bc"));
            Assert.Equal("bc", Bytes.Text((await next)!.Value.Payload.ToArray()));
            Assert.False(s.Transport.IsClosing);
        });
    }

    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    public void ReadFrameAsync_Cancelled_ConsumesNothing_TheNextCallReturnsTheWholeFrame(int deliveredFirst)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, TypedCrc32C);
            byte[] wire = Wire(TypedCrc32C, (5, Bytes.Ascii("payload")));
            using var cts = new CancellationTokenSource();
            ValueTask<Frame?> read = frames.ReadFrameAsync(cts.Token);
            s.Feed(wire[..deliveredFirst]);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
            Assert.Equal(deliveredFirst, s.Reader.BufferedBytes);
            Assert.Equal(0, s.Reader.Need);

            ValueTask<Frame?> again = frames.ReadFrameAsync();
            s.Feed(wire[deliveredFirst..]);
            Frame frame = (await again)!.Value;
            Assert.Equal(5u, frame.Type);
            Assert.Equal("payload", Bytes.Text(frame.Payload.ToArray()));
        });
    }

    [Fact]
    public void ReadFrameAsync_AlreadyCancelled_ConsumesNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(Wire(LengthFieldFormat.Default, (0, Bytes.Ascii("kept"))));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await frames.ReadFrameAsync(new CancellationToken(true)));
            Assert.Equal("kept", Bytes.Text((await frames.ReadFrameAsync())!.Value.Payload.ToArray()));
        });
    }

    [Fact]
    public void ReadFrameAsync_WhileAnotherReadIsInProgress_ThrowsInvalidOperation()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            ValueTask<Frame?> first = frames.ReadFrameAsync();
            Assert.Throws<InvalidOperationException>(() => frames.ReadFrameAsync());
            Assert.Throws<InvalidOperationException>(() => new FrameReader(s.Reader, Varint).ReadFrameAsync());
            Assert.Throws<InvalidOperationException>(() => s.Reader.ReadAsync(1));
            s.Feed(Wire(LengthFieldFormat.Default, (0, Bytes.Ascii("x"))));
            Assert.Equal("x", Bytes.Text((await first)!.Value.Payload.ToArray()));

            ValueTask<byte[]> raw = s.Reader.ReadAsync(1);
            Assert.Throws<InvalidOperationException>(() => frames.ReadFrameAsync());
            s.Feed("y");
            Assert.Equal("y", Bytes.Text(await raw));
        });
    }

    [Fact]
    public void ReadFrameAsync_ConnectionLostWithError_ThrowsIt()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            ValueTask<Frame?> read = frames.ReadFrameAsync();
            var error = new IOException("reset by peer");
            s.Transport.Lose(error);
            Assert.Same(error, await Assert.ThrowsAsync<IOException>(async () => await read));
        });
    }

    [Fact]
    public void LoopConsumer_ContinuesSynchronouslyInsideTheDelivery()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            bool continued = false;
            Task consumer = Consume();
            s.Feed(Wire(LengthFieldFormat.Default, (0, Bytes.Ascii("ping")))[..6]);
            Assert.False(continued);
            s.Feed(Wire(LengthFieldFormat.Default, (0, Bytes.Ascii("ping")))[6..]);
            Assert.True(continued, "The awaiting consumer ran inside BufferUpdated, with no extra loop iteration");
            await consumer;

            async Task Consume()
            {
                Frame frame = (await frames.ReadFrameAsync())!.Value;
                Assert.Equal("ping", Bytes.Text(frame.Payload.ToArray()));
                Assert.True(AsyncNet.Loop.EventLoop.Current == _test.Loop);
                continued = true;
            }
        });
    }

    [Fact]
    public void ThreadPoolConsumer_ReadsEveryFrame()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 64);
            var frames = new FrameReader(s.Reader, Varint);
            byte[][] payloads = Enumerable.Range(0, 200).Select(i => Bytes.Random(i % 97, seed: i)).ToArray();
            byte[] wire = Wire(Varint, payloads.Select(p => (0u, p)).ToArray());
            Task<List<byte[]>> consumer = Task.Run(async () =>
            {
                var received = new List<byte[]>();
                while (await frames.ReadFrameAsync() is { } frame)
                {
                    received.Add(frame.Payload.ToArray());
                }

                return received;
            });

            int offset = 0;
            while (offset < wire.Length)
            {
                offset += s.Transport.Deliver(wire.AsSpan(offset, Math.Min(37, wire.Length - offset)));
                await _test.YieldAsync(1);
            }

            s.Transport.DeliverEof();
            List<byte[]> received = await consumer;
            Assert.Equal(payloads.Length, received.Count);
            Assert.All(Enumerable.Range(0, payloads.Length), i => Assert.Equal(payloads[i], received[i]));
        });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoopConsumer_SteadyState_AllocatesNothingPerFrame(bool splitFrames)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: !splitFrames);
            var frames = new FrameReader(s.Reader, TypedCrc32C);
            byte[] wire = Wire(TypedCrc32C, (3, Bytes.Random(64)));
            // Long enough that a one-off allocation (the JIT's tier-up, a pool growing under a loaded machine) stays
            // far below one byte a message, while any real per-message allocation (24 bytes at least) cannot.
            const int warmUp = 1_000;
            const int measured = 20_000;
            long allocated = 0;
            long total = 0;
            Task consumer = Consume();
            for (int i = 0; i < warmUp + measured; i++)
            {
                if (i == warmUp)
                {
                    allocated = GC.GetAllocatedBytesForCurrentThread();
                }

                // The consumer resumes inside this call, reads the frame and waits for the next before it returns.
                if (splitFrames)
                {
                    s.Transport.Deliver(wire.AsSpan(0, 30));
                    s.Transport.Deliver(wire.AsSpan(30));
                }
                else
                {
                    s.Transport.Deliver(wire);
                }
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            s.Transport.DeliverEof();
            await consumer;
            Assert.Equal((warmUp + measured) * 64L, total);
            Assert.True(allocated < measured, $"{allocated} bytes allocated for {measured} frames read (split: {splitFrames})");

            async Task Consume()
            {
                while (await frames.ReadFrameAsync() is { } frame)
                {
                    total += frame.Payload.Length;
                }
            }
        });
    }

    [Fact]
    public void ToString_ShowsTheDecoderAndTheReader()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(FramingTestKit.Bytes(0, 0, 0, 9, "ab"));
            ValueTask<Frame?> read = frames.ReadFrameAsync();
            Assert.Equal("FrameReader(Payload, Type=0, FrameLength=13, BytesNeeded=13; StreamReader(Buffered=6, Limit=65536, Waiting=13))", frames.ToString());
            s.Feed("cdefghi");
            Assert.Equal("abcdefghi", Bytes.Text((await read)!.Value.Payload.ToArray()));
        });
    }
}
