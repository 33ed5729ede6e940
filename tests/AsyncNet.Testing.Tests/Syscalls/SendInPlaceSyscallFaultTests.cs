using System.Net;
using AsyncNet.Streams;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Testing.Syscalls;
using AsyncNet.Tests.Support;
using static AsyncNet.Testing.Tests.Support.ProxyTestLoop;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Testing.Tests.Syscalls;

/// <summary>
/// Received bytes written back from where they lie (frames forwarded unchanged, a lent read written back) are sent from
/// the stream reader's receive buffer without a copy. When the kernel takes one byte per send, most of them are still
/// queued as the read callback returns and must be copied then, before the reader's next read gives the buffer back
/// and the next receive reuses it: every byte must still come back as it was sent.
/// </summary>
public sealed class SendInPlaceSyscallFaultTests : IDisposable
{
    private const int FrameCount = 100;
    private readonly ProxyTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void ForwardedFrames_WithOneByteSendsAndWouldBlocks_ComeBackByteForByte()
    {
        // Frames of many sizes, types included so that a forwarded header carries more than a length.
        var format = new LengthFieldFormat(lengthFieldOffset: 1, lengthFieldSize: 2, typeFieldSize: 1);
        var encoder = new FrameEncoder(format);
        byte[][] frames = Enumerable.Range(0, FrameCount)
            .Select(i => encoder.Encode((uint)(i % 200), RawPeer.Pattern(1 + (i * 37 % 700), seed: i)))
            .ToArray();

        // Whole frames per write, so a receive often ends on a frame boundary: the reader then gives its buffer back at
        // the next read, and the next receive reuses it while the forwarded bytes may still be queued.
        byte[][] writes = frames.Chunk(10).Select(chunk => chunk.SelectMany(frame => frame).ToArray()).ToArray();
        RunAgainst((loop, port) => loop.StartFramedServerAsync(ForwardFramesAsync, "127.0.0.1", port, format), writes);
    }

    [Fact]
    public void LentReadsWrittenBack_WithOneByteSendsAndWouldBlocks_ComeBackByteForByte()
    {
        byte[] sent = RawPeer.Pattern(40_000);
        RunAgainst((loop, port) => loop.StartServerAsync(EchoLentAsync, "127.0.0.1", port), sent.Chunk(7000).ToArray());
    }

    private void RunAgainst(Func<Loop.EventLoop, int, Task<StreamServer>> startServer, byte[][] writes)
    {
        _test.Run(async () =>
        {
            await using StreamServer server = await startServer(_test.Loop, 0);
            int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;
            var (reader, writer) = await _test.Loop.OpenConnectionAsync("127.0.0.1", port);
            using SyscallInjection injection = SyscallFaults.Inject(_test.Loop, SyscallSchedule.Combine(
                SyscallSchedule.WouldBlockBeforeEach(SyscallKind.Send, 2),
                SyscallSchedule.PartialTransfers(1, SyscallKind.Send)));
            Task<byte[]> echoed = ReadToEndAsync(reader);
            foreach (byte[] write in writes)
            {
                writer.Write(write);
                await writer.DrainAsync();
            }

            writer.WriteEof();
            Assert.Equal(writes.SelectMany(write => write).ToArray(), await echoed);
            writer.Close();
            await writer.WaitClosedAsync();
        });
        Assert.Empty(_test.HandlerReports);
    }

    /// <summary>Writes back every frame unchanged, each batch that arrived together before one drain; EOF at the end.</summary>
    private static async Task ForwardFramesAsync(FramedConnection connection)
    {
        var (frames, output) = connection;
        while (await frames.ReadFrameAsync() is { } first)
        {
            Frame frame = first;
            do
            {
                output.Write(frame);
            }
            while (frames.TryReadFrame(out frame));

            await output.DrainAsync();
        }

        output.Writer.WriteEof();
    }

    /// <summary>The zero-copy echo: writes back what each lent read shows, then gives it back.</summary>
    private static async Task EchoLentAsync(StreamReader reader, StreamWriter writer)
    {
        while (true)
        {
            var lent = await reader.ReadBufferedAsync();
            if (lent.IsEmpty)
            {
                reader.AdvanceTo(0);
                break;
            }

            writer.Write(lent);
            reader.AdvanceTo(lent.Length);
            await writer.DrainAsync();
        }

        writer.WriteEof();
        await writer.DrainAsync();
    }
}
