using System.Buffers;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// The framing fast paths are taken where they apply and step aside where they do not. Each returns what the general
/// path would, so only their counters show that they ran; the edges here are where a shortcut's bounds could slip.
/// </summary>
public sealed class FastPathTests : IDisposable
{
    private static readonly LengthFieldFormat Small = new(lengthFieldSize: 2, maxFrameLength: 12);
    private static readonly LengthFieldFormat TypedCrc32 = new(typeFieldSize: 1, lengthFieldOffset: 1, lengthAdjustment: -4, checksum: ChecksumAlgorithm.Crc32);
    private static readonly LengthFieldFormat TypedCrc32C = new(typeFieldSize: 1, lengthFieldOffset: 1, lengthAdjustment: -4, checksum: ChecksumAlgorithm.Crc32C);

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    private static byte[] Wire(LengthFieldFormat format, params byte[][] payloads)
    {
        var encoder = new FrameEncoder(format);
        return payloads.SelectMany(p => encoder.Encode(format.HasTypeField ? 7u : 0u, p)).ToArray();
    }

    private static List<byte[]> DecodeAll(FrameDecoder decoder, ReadOnlySequence<byte> buffer)
    {
        var payloads = new List<byte[]>();
        while (decoder.TryDecode(ref buffer, out Frame frame))
        {
            payloads.Add(frame.Payload.ToArray());
        }

        Assert.True(buffer.IsEmpty, $"{buffer.Length} bytes left undecoded");
        return payloads;
    }

    [Theory]
    [InlineData("default")]
    [InlineData("typed-crc32")]
    [InlineData("typed-crc32c")]
    public void Decoder_WholeFramesInOneSegment_AllTakeTheFastPath(string name)
    {
        LengthFieldFormat format = name switch { "typed-crc32" => TypedCrc32, "typed-crc32c" => TypedCrc32C, _ => LengthFieldFormat.Default };
        byte[][] payloads = [[], "a"u8.ToArray(), Bytes.Random(300, seed: 3)];
        var decoder = new FrameDecoder(format);

        List<byte[]> decoded = DecodeAll(decoder, new ReadOnlySequence<byte>(Wire(format, payloads)));

        Assert.Equal(payloads, decoded);
        Assert.Equal(3, decoder.FastPathFrames);
    }

    [Fact]
    public void Decoder_FrameAcrossSegments_TakesTheGeneralPath_AndTheNextWholeFrameTheFastOne()
    {
        byte[] wire = Wire(LengthFieldFormat.Default, "first"u8.ToArray(), "second"u8.ToArray());
        var decoder = new FrameDecoder(LengthFieldFormat.Default);

        // The first frame ends 2 bytes into the second segment, which then holds the whole second frame.
        List<byte[]> decoded = DecodeAll(decoder, FramingTestKit.Sequence([wire.AsMemory(0, 7), wire.AsMemory(7)]));

        Assert.Equal(["first"u8.ToArray(), "second"u8.ToArray()], decoded);
        Assert.Equal(1, decoder.FastPathFrames);
    }

    [Fact]
    public void Decoder_FrameOfExactlyTheMaximumLength_FillingTheSegment_TakesTheFastPath()
    {
        // A 12-byte frame (2-byte header, 10-byte payload) in a 12-byte buffer: both bounds at their edge.
        byte[] wire = Wire(Small, Bytes.Random(10, seed: 4));
        Assert.Equal(Small.MaxFrameLength, wire.Length);
        var decoder = new FrameDecoder(Small);

        List<byte[]> decoded = DecodeAll(decoder, new ReadOnlySequence<byte>(wire));

        Assert.Single(decoded);
        Assert.Equal(1, decoder.FastPathFrames);
    }

    [Fact]
    public void Decoder_FrameOneByteShortInTheSegment_WaitsWithoutTheFastPath()
    {
        byte[] wire = Wire(Small, Bytes.Random(10, seed: 4));
        var decoder = new FrameDecoder(Small);
        var buffer = new ReadOnlySequence<byte>(wire, 0, wire.Length - 1);

        Assert.False(decoder.TryDecode(ref buffer, out _));
        Assert.Equal(wire.Length, decoder.BytesNeeded);
        Assert.Equal(0, decoder.FastPathFrames);
    }

    [Theory]
    [InlineData("typed-crc32")]
    [InlineData("typed-crc32c")]
    public void Decoder_DamagedChecksum_LeavesTheFastPath_AndTheGeneralOneNamesTheMismatch(string name)
    {
        LengthFieldFormat format = name == "typed-crc32" ? TypedCrc32 : TypedCrc32C;
        byte[] wire = Wire(format, "payload"u8.ToArray());
        wire[^1] ^= 0x01;
        var decoder = new FrameDecoder(format);
        var buffer = new ReadOnlySequence<byte>(wire);

        var mismatch = Assert.Throws<ChecksumMismatchException>(() => decoder.TryDecode(ref buffer, out _));

        Assert.Equal(format.Checksum, mismatch.Algorithm);
        Assert.Equal(0, decoder.FastPathFrames);
    }

    [Fact]
    public void Reader_FramesArrivingTogether_AreAllReadThroughTheImmediateFastPath()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(Wire(LengthFieldFormat.Default, "one"u8.ToArray(), "two"u8.ToArray(), "three"u8.ToArray()));

            foreach (string expected in new[] { "one", "two", "three" })
            {
                ValueTask<Frame?> read = frames.ReadFrameAsync();
                Assert.True(read.IsCompletedSuccessfully, "A buffered whole frame is read without waiting");
                Assert.Equal(expected, Bytes.Text((await read)!.Value.Payload.ToArray()));
            }

            Assert.Equal(3, frames.FastPathFrames);
            Assert.Equal(3, s.Reader.ImmediateReads);
        });
    }

    [Fact]
    public void Reader_FrameSplitAcrossSegments_IsReadThroughTheBufferedRead()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            byte[] wire = Wire(LengthFieldFormat.Default, "split"u8.ToArray());
            s.Feed(wire[..3]);
            s.Feed(wire[3..]);

            Assert.Equal("split", Bytes.Text((await frames.ReadFrameAsync())!.Value.Payload.ToArray()));
            Assert.Equal(0, frames.FastPathFrames);
        });
    }

    [Fact]
    public void Reader_ConnectionLostWithAnError_DeliversTheWholeFramesBufferedFirst_OffTheFastPath_ThenThrowsIt()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(Wire(LengthFieldFormat.Default, "kept"u8.ToArray()));
            var broken = new IOException("the connection broke");
            s.Transport.Lose(broken);
            await _test.YieldAsync();

            // No frame completed before the fault is lost: the buffered one comes first (by the general path: the fast
            // path refuses a failed reader), then the error.
            Frame? kept = await frames.ReadFrameAsync();
            Assert.Equal("kept"u8.ToArray(), System.Buffers.BuffersExtensions.ToArray(kept!.Value.Payload));
            Assert.Same(broken, await Assert.ThrowsAsync<IOException>(async () => await frames.ReadFrameAsync()));
            Assert.Equal(0, frames.FastPathFrames);
        });
    }

    [Fact]
    public void Reader_AfterALineOverrun_SkipsTheRestOfThatLineBeforeTheNextFrame()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 4);
            s.Feed("toolong");
            await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadLineAsync());

            // The rest of the overlong line and a whole frame arrive in one segment: the frame follows the newline. The
            // line's rest would itself parse as a frame (length 1, payload "X"): only skipping it gives the right one.
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(FramingTestKit.Concat([0, 0, 0, 1, (byte)'X', (byte)'\n'], Wire(LengthFieldFormat.Default, "frame"u8.ToArray())));

            Assert.Equal("frame", Bytes.Text((await frames.ReadFrameAsync())!.Value.Payload.ToArray()));
        });
    }

    [Theory]
    [InlineData(10, "the frame exactly at the maximum length")]
    [InlineData(0, "the shortest frame: the header alone")]
    public void Encoder_FramesAtTheEdgesOfTheFormat_ArePlannedOnTheFastPath(int payloadLength, string what)
    {
        var encoder = new FrameEncoder(Small);

        // The span overload plans once (the array overload plans its length first).
        Assert.Equal(2 + payloadLength, encoder.Encode(new byte[64], 0, new byte[payloadLength]));
        Assert.True(encoder.FastPlans == 1, what);
    }

    [Fact]
    public void Encoder_LengthFieldAtItsLargestValue_IsPlannedOnTheFastPath_AndOneMoreIsRefused()
    {
        var oneByte = new LengthFieldFormat(lengthFieldSize: 1, maxFrameLength: 1000);
        var encoder = new FrameEncoder(oneByte);

        Assert.Equal(256, encoder.Encode(new byte[300], 0, new byte[255]));
        Assert.Equal(1, encoder.FastPlans);

        var refused = Assert.Throws<ArgumentException>(() => encoder.Encode(new byte[300], 0, new byte[256]));
        Assert.Contains("holds at most 255", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, encoder.FastPlans);
    }

    [Fact]
    public void Encoder_Varint_IsPlannedOffTheFastPath()
    {
        var encoder = new FrameEncoder(new LengthFieldFormat(lengthFieldSize: LengthFieldFormat.Varint));

        Assert.Equal(1 + 127, encoder.Encode(new byte[200], 0, new byte[127]));
        Assert.Equal(2 + 128, encoder.Encode(new byte[200], 0, new byte[128]));
        Assert.Equal(0, encoder.FastPlans);
    }
}
