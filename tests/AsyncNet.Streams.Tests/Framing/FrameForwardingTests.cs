using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// A frame a <see cref="FrameReader"/> read, written back by a <see cref="FrameWriter"/>, goes out as the bytes it
/// arrived as only when those are exactly what the writer would write for it: another format, another type or a header
/// the writer would encode differently (a gap byte that is not zero) is written as the writer encodes it. From any
/// thread the output is the same.
/// </summary>
public sealed class FrameForwardingTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    /// <summary>Feeds <paramref name="wire"/>, reads every frame with <paramref name="readFormat"/> and writes each, as <paramref name="rewrite"/> makes it, with <paramref name="writeFormat"/>.</summary>
    private byte[] Forward(byte[] wire, LengthFieldFormat readFormat, LengthFieldFormat writeFormat, Func<Frame, Frame>? rewrite = null, bool fromAnotherThread = false)
    {
        byte[] sent = [];
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, readFormat);
            var output = new FrameWriter(s.Writer, writeFormat);
            s.Feed(wire);
            s.Transport.DeliverEof();
            while (await frames.ReadFrameAsync() is { } frame)
            {
                Frame written = rewrite?.Invoke(frame) ?? frame;
                if (fromAnotherThread)
                {
                    await Task.Run(() => output.Write(written));
                }
                else
                {
                    output.Write(written);
                }

                await output.DrainAsync();
            }

            sent = s.Transport.Sent;
        });
        return sent;
    }

    [Fact]
    public void AFrameWrittenBackInItsOwnFormat_GoesOutAsItArrived_FromTheLoopOrAnotherThread()
    {
        var typed = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: 2);
        var encoder = new FrameEncoder(typed);
        byte[] wire = FramingTestKit.Concat(encoder.Encode(3, "abc"u8), encoder.Encode(250, []), encoder.Encode(9, new byte[700]));

        Assert.Equal(wire, Forward(wire, typed, typed));
        Assert.Equal(wire, Forward(wire, typed, typed, fromAnotherThread: true));
    }

    [Fact]
    public void AnotherFormat_IsWrittenAsThatFormatEncodes()
    {
        var twoByteLength = new LengthFieldFormat(lengthFieldSize: 2);
        byte[] wire = FramingTestKit.Concat(new FrameEncoder(LengthFieldFormat.Default).Encode(0, "hello"u8), new FrameEncoder(LengthFieldFormat.Default).Encode(0, "x"u8));

        byte[] expected = FramingTestKit.Concat(new FrameEncoder(twoByteLength).Encode(0, "hello"u8), new FrameEncoder(twoByteLength).Encode(0, "x"u8));
        Assert.Equal(expected, Forward(wire, LengthFieldFormat.Default, twoByteLength));
    }

    [Fact]
    public void AnotherType_IsWrittenWithThatType()
    {
        var typed = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: 2);
        var encoder = new FrameEncoder(typed);

        byte[] sent = Forward(encoder.Encode(1, "ping"u8), typed, typed, frame => new Frame(2, frame.Payload));

        Assert.Equal(encoder.Encode(2, "ping"u8), sent);
    }

    [Fact]
    public void AReceivedHeaderTheWriterWouldEncodeDifferently_IsWrittenAsTheWriterEncodesIt()
    {
        // Byte 0 is a gap the decoder ignores and the encoder writes as zero: the forwarded frame must carry the zero.
        var gapped = new LengthFieldFormat(lengthFieldOffset: 1, lengthFieldSize: 2);
        byte[] canonical = new FrameEncoder(gapped).Encode(0, "data"u8);
        byte[] received = [.. canonical];
        received[0] = 0xFF;

        Assert.Equal(canonical, Forward(received, gapped, gapped));
    }
}
