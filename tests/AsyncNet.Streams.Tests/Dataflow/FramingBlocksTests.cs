using System.Buffers;
using System.Threading.Tasks.Dataflow;
using AsyncNet.Streams.Dataflow;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Streams.Tests.Framing;
using static AsyncNet.Streams.Tests.Dataflow.DataflowTestKit;

namespace AsyncNet.Streams.Tests.Dataflow;

/// <summary>The decoder and encoder blocks on their own (no connection): chunking, ownership, bounds, faults and completion.</summary>
public sealed class FramingBlocksTests
{
    public static TheoryData<string> FormatNames => ["u32", "type+crc32c", "varint", "u16le+crc32"];

    private static LengthFieldFormat Format(string name) => name switch
    {
        "u32" => LengthFieldFormat.Default,
        "type+crc32c" => new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthAdjustment: 0, checksum: ChecksumAlgorithm.Crc32C),
        "varint" => new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint),
        "u16le+crc32" => new LengthFieldFormat(lengthFieldSize: 2, byteOrder: ByteOrder.LittleEndian, checksum: ChecksumAlgorithm.Crc32),
        _ => throw new ArgumentException(name),
    };

    private static readonly LengthFieldFormat s_crc = new(typeFieldSize: 2, lengthFieldOffset: 2, checksum: ChecksumAlgorithm.Crc32);

    /// <summary>Posts the chunks (waiting while the decoder is full), completes it, and returns what it offered.</summary>
    private static async Task<List<Frame>> DecodeAsync(IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder, IEnumerable<byte[]> chunks)
    {
        Task<List<Frame>> frames = DrainAsync(decoder);
        foreach (byte[] chunk in chunks)
        {
            Assert.True(await decoder.SendAsync(chunk).WaitAsync(TestTimeout));
        }

        decoder.Complete();
        return await frames;
    }

    private static void AssertFrames(List<(uint Type, byte[] Payload)> expected, List<Frame> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Type, actual[i].Type);
            Assert.Equal(expected[i].Payload, actual[i].Payload.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(FormatNames))]
    public async Task Decoder_AnyChunking_OffersEveryFrameInOrder(string formatName)
    {
        LengthFieldFormat format = Format(formatName);
        List<(uint Type, byte[] Payload)> frames = Frames(format, count: 60, maxPayload: 300, seed: 7);
        byte[] wire = Encode(format, frames);
        var chunkings = new List<(string, List<byte[]>)>
        {
            ("whole", [wire]),
            ("byte by byte", wire.Select(b => new[] { b }).ToList()),
        };
        for (int seed = 1; seed <= 6; seed++)
        {
            chunkings.Add(($"random {seed}", Chunk(wire, maxChunk: seed * 37, seed)));
        }

        foreach ((string name, List<byte[]> chunks) in chunkings)
        {
            IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(format);
            List<Frame> decoded = await DecodeAsync(decoder, chunks);
            AssertFrames(frames, decoded);
            await decoder.Completion.WaitAsync(TestTimeout);
            Assert.True(decoder.Completion.IsCompletedSuccessfully, name);
        }
    }

    [Theory]
    [MemberData(nameof(FormatNames))]
    public async Task EncoderThenDecoder_RechunkedArbitrarily_RoundTrips(string formatName)
    {
        LengthFieldFormat format = Format(formatName);
        List<(uint Type, byte[] Payload)> frames = Frames(format, count: 40, maxPayload: 1000, seed: 3);
        IPropagatorBlock<Frame, ReadOnlyMemory<byte>> encoder = FramingBlocks.CreateEncoder(format);
        Task<List<ReadOnlyMemory<byte>>> encoded = DrainAsync(encoder);
        for (int i = 0; i < frames.Count; i++)
        {
            (uint type, byte[] payload) = frames[i];

            // Every other frame's payload is a multi-segment sequence: the encoder's gathered path.
            Frame frame = i % 2 == 0 || payload.Length < 2
                ? new Frame(type, payload)
                : new Frame(type, FramingTestKit.Sequence(payload[..(payload.Length / 2)], payload[(payload.Length / 2)..]));
            Assert.True(await encoder.SendAsync(frame).WaitAsync(TestTimeout));
        }

        encoder.Complete();
        List<ReadOnlyMemory<byte>> segments = await encoded;
        Assert.Equal(frames.Count, segments.Count);
        byte[] wire = Concat(segments);
        Assert.Equal(Encode(format, frames), wire);

        List<Frame> decoded = await DecodeAsync(FramingBlocks.CreateDecoder(format), Chunk(wire, maxChunk: 700, seed: 11));
        AssertFrames(frames, decoded);
        await encoder.Completion.WaitAsync(TestTimeout);
    }

    [Fact]
    public async Task Decoder_Payload_IsOwnedByTheFrame()
    {
        byte[] wire = Encode(LengthFieldFormat.Default, [(0u, "hello"u8.ToArray()), (0u, "world"u8.ToArray())]);
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(LengthFieldFormat.Default);
        Assert.True(decoder.Post(wire));
        Frame first = await decoder.ReceiveAsync().WaitAsync(TestTimeout);
        Frame second = await decoder.ReceiveAsync().WaitAsync(TestTimeout);

        // The frames no longer refer to the segment: scribbling over it changes nothing.
        Array.Fill(wire, (byte)'X');
        Assert.Equal("hello"u8.ToArray(), first.Payload.ToArray());
        Assert.Equal("world"u8.ToArray(), second.Payload.ToArray());
        Assert.True(second.Payload.IsSingleSegment);
        Assert.Equal(5, second.Payload.First.Length);
    }

    [Fact]
    public async Task Decoder_ChecksumMismatch_OffersEveryEarlierFrameThenFaults()
    {
        List<(uint Type, byte[] Payload)> good = Frames(s_crc, count: 5, maxPayload: 50, seed: 2);
        byte[] corrupt = new FrameEncoder(s_crc).Encode(9, "corrupt"u8);
        corrupt[^1] ^= 0xFF;
        byte[] wire = [.. Encode(s_crc, good), .. corrupt, .. Encode(s_crc, good)];

        // A small capacity, so the earlier frames still wait in the output when the corrupt one is read.
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(s_crc, new DataflowBlockOptions { BoundedCapacity = 2 });
        Task<List<Frame>> frames = DrainAsync(decoder);
        foreach (byte[] chunk in Chunk(wire, maxChunk: 9, seed: 5))
        {
            // Offers after the fault are declined: what follows a corrupt frame is dropped.
            if (!await decoder.SendAsync(chunk).WaitAsync(TestTimeout))
            {
                break;
            }
        }

        AssertFrames(good, await frames);
        await Assert.ThrowsAsync<ChecksumMismatchException>(() => decoder.Completion.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task Decoder_ChecksumMismatch_TargetAcceptsEveryEarlierFrameBeforeTheFault()
    {
        List<(uint Type, byte[] Payload)> good = Frames(s_crc, count: 20, maxPayload: 50, seed: 4);
        byte[] corrupt = new FrameEncoder(s_crc).Encode(1, "x"u8);
        corrupt[6] ^= 0x01; // the payload byte, after the 2-byte type and the 4-byte length
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(s_crc, new DataflowBlockOptions { BoundedCapacity = 1 });
        var accepted = new List<Frame>();
        var faultSeenAfter = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new RecordingTarget<Frame>(accepted, faultSeenAfter);
        decoder.LinkTo(recorder, new DataflowLinkOptions { PropagateCompletion = true });

        Assert.True(decoder.Post(Encode(s_crc, good).Concat(corrupt).ToArray()));
        Assert.Equal(good.Count, await faultSeenAfter.Task.WaitAsync(TestTimeout));
        AssertFrames(good, accepted);
        Assert.IsType<ChecksumMismatchException>(recorder.Fault);
    }

    [Fact]
    public async Task Decoder_InputEndsInsideAFrame_FaultsWithIncompleteRead()
    {
        byte[] wire = Encode(LengthFieldFormat.Default, [(0u, "complete"u8.ToArray()), (0u, "truncated"u8.ToArray())]);
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(LengthFieldFormat.Default);
        Task<List<Frame>> frames = DrainAsync(decoder);
        Assert.True(decoder.Post(wire[..^3]));
        decoder.Complete();

        Frame only = Assert.Single(await frames);
        Assert.Equal("complete"u8.ToArray(), only.Payload.ToArray());
        IncompleteReadException error = await Assert.ThrowsAsync<IncompleteReadException>(() => decoder.Completion.WaitAsync(TestTimeout));
        Assert.Equal(4 + 6, error.Partial.Length);
        Assert.Equal(4 + 9, error.Expected);
    }

    [Fact]
    public async Task Decoder_DiscardOversizedFrames_SkipsThemAndGoesOn()
    {
        var format = new LengthFieldFormat(maxFrameLength: 4 + 10, discardOversizedFrames: true);
        var encoder = new FrameEncoder(LengthFieldFormat.Default);
        byte[] wire = [.. encoder.Encode(0, "small"u8), .. encoder.Encode(0, new byte[100]), .. encoder.Encode(0, "after"u8)];
        List<Frame> frames = await DecodeAsync(FramingBlocks.CreateDecoder(format), Chunk(wire, maxChunk: 13, seed: 1));
        Assert.Equal(["small", "after"], frames.Select(f => Bytes.Text(f.Payload.ToArray())));
    }

    [Fact]
    public async Task Decoder_SlowConsumer_FillsItsBoundsThenPostpones()
    {
        byte[] frame = new FrameEncoder(LengthFieldFormat.Default).Encode(0, "ab"u8);
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(LengthFieldFormat.Default, new DataflowBlockOptions { BoundedCapacity = 2 });
        int posted = 0;
        while (decoder.Post(frame))
        {
            posted++;
            Assert.True(posted < 100, "A bounded decoder with nobody taking its frames must stop accepting");
            await Task.Delay(1);
        }

        // Two frames wait in the output, one segment waits in processing for room, one more waits in the input.
        Assert.InRange(posted, 2, 4);
        decoder.Complete();
        List<Frame> frames = await DrainAsync(decoder);
        Assert.Equal(posted, frames.Count);
    }

    [Fact]
    public async Task Encoder_FrameTooLarge_FaultsAfterEarlierSegmentsAreTaken()
    {
        var format = new LengthFieldFormat(lengthFieldSize: 1);
        IPropagatorBlock<Frame, ReadOnlyMemory<byte>> encoder = FramingBlocks.CreateEncoder(format, new DataflowBlockOptions { BoundedCapacity = 1 });
        Task<List<ReadOnlyMemory<byte>>> segments = DrainAsync(encoder);
        Assert.True(await encoder.SendAsync(new Frame(0, "one"u8.ToArray())).WaitAsync(TestTimeout));
        Assert.True(await encoder.SendAsync(new Frame(0, "two"u8.ToArray())).WaitAsync(TestTimeout));
        await encoder.SendAsync(new Frame(0, new byte[300])).WaitAsync(TestTimeout);

        Assert.Equal(2, (await segments).Count);
        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => encoder.Completion.WaitAsync(TestTimeout));
        Assert.Contains("300", error.Message);
    }

    [Fact]
    public async Task Fault_FromOutside_DropsEverythingAtOnce()
    {
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(LengthFieldFormat.Default);
        var downstream = new BufferBlock<Frame>();
        decoder.LinkTo(downstream, new DataflowLinkOptions { PropagateCompletion = true });
        Assert.True(decoder.Post(Encode(LengthFieldFormat.Default, [(0u, "kept?"u8.ToArray())])[..5]));
        var boom = new InvalidOperationException("boom");
        decoder.Fault(boom);

        Assert.Same(boom, await Assert.ThrowsAsync<InvalidOperationException>(() => decoder.Completion.WaitAsync(TestTimeout)));
        Assert.False(decoder.Post(new byte[1]));
        await Assert.ThrowsAnyAsync<Exception>(() => downstream.Completion.WaitAsync(TestTimeout));
        Assert.Same(boom, FaultOf(downstream.Completion));
    }

    [Fact]
    public async Task Complete_PropagatesAlongLinks_AndDisposedLinksAreLeftAlone()
    {
        IPropagatorBlock<Frame, ReadOnlyMemory<byte>> encoder = FramingBlocks.CreateEncoder(LengthFieldFormat.Default);
        var linked = new BufferBlock<ReadOnlyMemory<byte>>();
        var unlinked = new BufferBlock<ReadOnlyMemory<byte>>();
        encoder.LinkTo(linked, new DataflowLinkOptions { PropagateCompletion = true });
        encoder.LinkTo(unlinked, new DataflowLinkOptions { PropagateCompletion = true }).Dispose();
        Assert.True(encoder.Post(new Frame(0, "x"u8.ToArray())));
        encoder.Complete();

        await encoder.Completion.WaitAsync(TestTimeout);
        Assert.Equal(5, (await linked.ReceiveAsync().WaitAsync(TestTimeout)).Length);
        await linked.Completion.WaitAsync(TestTimeout);
        await Task.Delay(50);
        Assert.False(unlinked.Completion.IsCompleted);
    }

    [Fact]
    public async Task ReceiveAsyncInALoop_LeavesNoPropagatingLinksBehind()
    {
        IPropagatorBlock<Frame, ReadOnlyMemory<byte>> encoder = FramingBlocks.CreateEncoder(LengthFieldFormat.Default);
        for (int i = 0; i < 100; i++)
        {
            Assert.True(encoder.Post(new Frame(0, new byte[i])));
            Assert.True(await encoder.OutputAvailableAsync().WaitAsync(TestTimeout));
            Assert.Equal(4 + i, (await encoder.ReceiveAsync().WaitAsync(TestTimeout)).Length);
        }

        // ReceiveAsync and OutputAvailableAsync link with PropagateCompletion and unlink when done (just after they complete).
        var block = (SequentialPropagatorBlock<Frame, ReadOnlyMemory<byte>>)encoder;
        Assert.True(SpinWait.SpinUntil(() => block.PropagatingLinkCount == 0, TestTimeout), $"{block.PropagatingLinkCount} links left");
        encoder.Complete();
        await encoder.Completion.WaitAsync(TestTimeout);
    }

    [Fact]
    public async Task LinkTo_AfterCompletion_PropagatesAtOnce()
    {
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(LengthFieldFormat.Default);
        decoder.Complete();
        await decoder.Completion.WaitAsync(TestTimeout);
        var late = new BufferBlock<Frame>();
        decoder.LinkTo(late, new DataflowLinkOptions { PropagateCompletion = true });
        await late.Completion.WaitAsync(TestTimeout);
    }

    [Fact]
    public async Task CancellationToken_CancelsTheBlock()
    {
        using var cts = new CancellationTokenSource();
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(LengthFieldFormat.Default, new DataflowBlockOptions { CancellationToken = cts.Token, BoundedCapacity = 4 });
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => decoder.Completion.WaitAsync(TestTimeout));
    }

    [Fact]
    public void Create_NullFormat_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => FramingBlocks.CreateDecoder(null!));
        Assert.Throws<ArgumentNullException>(() => FramingBlocks.CreateEncoder(null!));
    }

    /// <summary>A target that accepts everything synchronously and records when it is faulted, so nothing is dropped.</summary>
    private sealed class RecordingTarget<T>(List<T> accepted, TaskCompletionSource<int> faulted) : ITargetBlock<T>
    {
        private readonly TaskCompletionSource _completion = new();

        public Exception? Fault { get; private set; }

        public Task Completion => _completion.Task;

        public DataflowMessageStatus OfferMessage(DataflowMessageHeader messageHeader, T messageValue, ISourceBlock<T>? source, bool consumeToAccept)
        {
            if (consumeToAccept)
            {
                messageValue = source!.ConsumeMessage(messageHeader, this, out bool consumed)!;
                if (!consumed)
                {
                    return DataflowMessageStatus.NotAvailable;
                }
            }

            lock (accepted)
            {
                accepted.Add(messageValue);
            }

            return DataflowMessageStatus.Accepted;
        }

        public void Complete()
        {
            _completion.TrySetResult();
            faulted.TrySetResult(-1);
        }

        void IDataflowBlock.Fault(Exception exception)
        {
            Fault = Assert.Single(((AggregateException)exception).Flatten().InnerExceptions);
            lock (accepted)
            {
                faulted.TrySetResult(accepted.Count);
            }

            _completion.TrySetException(exception);
        }
    }
}
