using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// <see cref="FrameReader.TryReadFrame"/>: every whole frame already buffered, in order, without waiting; false when no
/// whole frame is there or the stream has ended (the awaited read then waits or reports); a malformed frame throws as
/// the awaited read would; never during another read. And which frames it marks as lying whole in one array, header
/// before payload, so that a writer may forward them in place.
/// </summary>
public sealed class FrameReaderTryReadTests : IDisposable
{
    private static readonly LengthFieldFormat Small = new(lengthFieldSize: 2, maxFrameLength: 12);

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    private static byte[] Wire(LengthFieldFormat format, params string[] payloads)
    {
        var encoder = new FrameEncoder(format);
        return payloads.SelectMany(p => encoder.Encode(0, Bytes.Ascii(p))).ToArray();
    }

    private static string Text(Frame frame) => Bytes.Text(System.Buffers.BuffersExtensions.ToArray(frame.Payload));

    [Fact]
    public void FramesArrivingTogether_AreAllReturnedInOrder_ThenFalse_AndTheNextAwaitedReadWaits()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            s.Feed(Wire(LengthFieldFormat.Default, "one", "two", "three"));

            Assert.Equal("one", Text((await frames.ReadFrameAsync())!.Value));
            Assert.True(frames.TryReadFrame(out Frame second));
            Assert.Equal("two", Text(second));
            Assert.True(frames.TryReadFrame(out Frame third));
            Assert.Equal("three", Text(third));
            Assert.False(frames.TryReadFrame(out _));
            Assert.Equal(0, s.Reader.BufferedBytes);

            ValueTask<Frame?> next = frames.ReadFrameAsync();
            Assert.False(next.IsCompleted, "Nothing is buffered: the awaited read waits");
            s.Feed(Wire(LengthFieldFormat.Default, "four"));
            Assert.Equal("four", Text((await next)!.Value));
        });
    }

    [Fact]
    public void APartialFrame_IsFalse_AndStaysBuffered_UntilItsRestArrives_AcrossArrays()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            byte[] wire = Wire(LengthFieldFormat.Default, "split");
            s.Feed(wire[..6]);
            Assert.False(frames.TryReadFrame(out _));
            Assert.Equal(6, s.Reader.BufferedBytes);

            // The rest in an array of its own: the frame is read across the two, off the fast path.
            s.Feed(wire[6..]);
            Assert.True(frames.TryReadFrame(out Frame frame));
            Assert.Equal("split", Text(frame));
            Assert.Equal(0, frames.FastPathFrames);
            Assert.Equal(0, frame.HeaderInPlace);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void AtTheEnd_IsFalse_AndTheAwaitedReadReportsTheCleanEndOrTheTruncatedFrame()
    {
        _test.Run(async () =>
        {
            Scripted clean = _test.CreateScripted();
            var cleanFrames = new FrameReader(clean.Reader, LengthFieldFormat.Default);
            clean.Feed(Wire(LengthFieldFormat.Default, "last"));
            clean.Transport.DeliverEof();
            Assert.True(cleanFrames.TryReadFrame(out Frame last));
            Assert.Equal("last", Text(last));
            Assert.False(cleanFrames.TryReadFrame(out _));
            Assert.Null(await cleanFrames.ReadFrameAsync());

            Scripted truncated = _test.CreateScripted();
            var truncatedFrames = new FrameReader(truncated.Reader, LengthFieldFormat.Default);
            truncated.Feed(Wire(LengthFieldFormat.Default, "cut")[..5]);
            truncated.Transport.DeliverEof();
            Assert.False(truncatedFrames.TryReadFrame(out _));
            await Assert.ThrowsAsync<IncompleteReadException>(async () => await truncatedFrames.ReadFrameAsync());
        });
    }

    [Fact]
    public void AMalformedFrame_ThrowsAfterTheFramesBeforeIt_AndAgainOnTheNextCall()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, Small);
            s.Feed(FramingTestKit.Concat(Wire(Small, "ok"), [0, 200]));

            Assert.True(frames.TryReadFrame(out Frame ok));
            Assert.Equal("ok", Text(ok));
            var tooLarge = Assert.Throws<FrameTooLargeException>(() => frames.TryReadFrame(out _));
            Assert.Same(tooLarge, Assert.Throws<FrameTooLargeException>(() => frames.TryReadFrame(out _)));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void DuringAnAwaitedRead_Throws_AndTheAwaitedReadStillGetsItsFrame()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, LengthFieldFormat.Default);
            ValueTask<Frame?> waiting = frames.ReadFrameAsync();

            Assert.Throws<InvalidOperationException>(() => frames.TryReadFrame(out _));
            s.Feed(Wire(LengthFieldFormat.Default, "mine"));
            Assert.Equal("mine", Text((await waiting)!.Value));
        });
    }

    [Fact]
    public void FramesWholeInOneArray_AreMarkedWithTheirHeaderInPlace_ByEitherPath()
    {
        _test.Run(async () =>
        {
            var typed = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: 2);
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, typed);

            // The first frame completes a read that waited (the general path), the second comes by the fast path.
            ValueTask<Frame?> waiting = frames.ReadFrameAsync();
            s.Feed(Wire(typed, "general", "fast"));
            Frame general = (await waiting)!.Value;
            Assert.Equal(3, general.HeaderInPlace);
            Assert.True(frames.TryReadFrame(out Frame fast));
            Assert.Equal(3, fast.HeaderInPlace);
            Assert.Equal(1, frames.FastPathFrames);

            // A frame made by hand is not the reader's: its header is nowhere.
            Assert.Equal(0, new Frame(0, "x"u8.ToArray().AsMemory()).HeaderInPlace);
        });
    }
}
