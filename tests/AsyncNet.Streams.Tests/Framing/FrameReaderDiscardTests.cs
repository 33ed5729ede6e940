using System.Buffers;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>A FrameReader over a format that discards oversized frames: where the skipped frame ends decides what comes next.</summary>
public sealed class FrameReaderDiscardTests : IDisposable
{
    private static readonly LengthFieldFormat Discarding = new(lengthFieldSize: 2, maxFrameLength: 10, discardOversizedFrames: true);

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void OversizedFrameEndingExactlyAtTheBuffersEnd_ThenEof_EndsTheStreamCleanly()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, Discarding);
            s.Feed(FramingTestKit.Bytes(0, 12, "0123456789ab"));
            s.Transport.DeliverEof();

            await Assert.ThrowsAsync<FrameTooLargeException>(async () => await frames.ReadFrameAsync());
            Assert.Null(await frames.ReadFrameAsync());
            Assert.Equal(0, s.Reader.BufferedBytes);
        });
    }

    [Fact]
    public void OversizedFrameWhoseRestArrivesByteByByte_IsSkippedExactly_AndTheNextFrameReturned()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            var frames = new FrameReader(s.Reader, Discarding);
            s.Feed(FramingTestKit.Bytes(0, 12, "01"));
            await Assert.ThrowsAsync<FrameTooLargeException>(async () => await frames.ReadFrameAsync());

            ValueTask<Frame?> next = frames.ReadFrameAsync();
            foreach (char c in "23456789ab")
            {
                Assert.False(next.IsCompleted, "Still inside the skipped frame");
                s.Feed(c.ToString());
            }

            s.Feed(FramingTestKit.Bytes(0, 2, "ok"));
            Assert.Equal("ok", Bytes.Text((await next)!.Value.Payload.ToArray()));
            Assert.Equal(0, s.Reader.BufferedBytes);
        });
    }

    [Fact]
    public void EofInsideASkippedFrame_ThrowsIncompleteRead()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameReader(s.Reader, Discarding);
            s.Feed(FramingTestKit.Bytes(0, 12, "0123"));
            await Assert.ThrowsAsync<FrameTooLargeException>(async () => await frames.ReadFrameAsync());
            s.Transport.DeliverEof();

            var incomplete = await Assert.ThrowsAsync<IncompleteReadException>(async () => await frames.ReadFrameAsync());
            Assert.Contains("oversized frame", incomplete.Message, StringComparison.Ordinal);
        });
    }
}
