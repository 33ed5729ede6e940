using System.Buffers;
using System.Net.Sockets;
using System.Threading.Tasks.Dataflow;
using AsyncNet.Streams.Dataflow;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using static AsyncNet.Streams.Tests.Dataflow.DataflowTestKit;

namespace AsyncNet.Streams.Tests.Dataflow;

/// <summary>The framing blocks linked to a real connection: chunking from a raw peer, and faults and completion crossing between blocks and connection.</summary>
public sealed class FramingPipelineTests : IDisposable
{
    private static readonly LengthFieldFormat s_format = new(typeFieldSize: 1, lengthFieldOffset: 1, checksum: ChecksumAlgorithm.Crc32C);
    private static readonly DataflowLinkOptions s_propagate = new() { PropagateCompletion = true };

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    /// <summary>Sends <paramref name="bytes"/> from a raw peer in random chunks, pausing now and then so they arrive as separate reads.</summary>
    private async Task SendChunkedAsync(Socket peer, byte[] bytes, int maxChunk, int seed)
    {
        int i = 0;
        foreach (byte[] chunk in Chunk(bytes, maxChunk, seed))
        {
            await peer.SendAsync(chunk);
            if (++i % 5 == 0)
            {
                await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(2));
            }
        }
    }

    [Fact]
    public void Decoder_OverAConnection_ChunkedByARawPeer_OffersEveryFrameInOrder()
    {
        _test.Run(async () =>
        {
            (Loopback loopback, Socket peer) = await Loopback.OpenRawAsync(_test.Loop);
            await using (loopback)
            using (peer)
            {
                var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
                IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(s_format);
                connection.Source.LinkTo(decoder, s_propagate);
                Task<List<Frame>> decoded = DrainAsync(decoder);

                List<(uint Type, byte[] Payload)> frames = Frames(s_format, count: 200, maxPayload: 3000, seed: 12);
                await SendChunkedAsync(peer, Encode(s_format, frames), maxChunk: 2500, seed: 3);
                peer.Shutdown(SocketShutdown.Send);

                List<Frame> received = await decoded;
                Assert.Equal(frames.Count, received.Count);
                for (int i = 0; i < frames.Count; i++)
                {
                    Assert.Equal(frames[i].Type, received[i].Type);
                    Assert.Equal(frames[i].Payload, received[i].Payload.ToArray());
                }

                await decoder.Completion.WaitAsync(TestTimeout);
                await connection.Source.Completion.WaitAsync(TestTimeout);
            }
        });
    }

    [Fact]
    public void ChecksumCorruptFrameFromARawPeer_EarlierFramesDelivered_DecoderFaults_ConnectionClosed()
    {
        _test.Run(async () =>
        {
            (Loopback loopback, Socket peer) = await Loopback.OpenRawAsync(_test.Loop);
            await using (loopback)
            using (peer)
            {
                var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
                IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(s_format, new DataflowBlockOptions { BoundedCapacity = 2 });
                connection.Source.LinkTo(decoder, s_propagate);
                Task<List<Frame>> decoded = DrainAsync(decoder);

                List<(uint Type, byte[] Payload)> good = Frames(s_format, count: 30, maxPayload: 500, seed: 6);
                byte[] corrupt = new FrameEncoder(s_format).Encode(7, "damaged on the way"u8);
                corrupt[10] ^= 0x20;
                await SendChunkedAsync(peer, [.. Encode(s_format, good), .. corrupt], maxChunk: 700, seed: 8);
                try
                {
                    await SendChunkedAsync(peer, Encode(s_format, good), maxChunk: 700, seed: 9);
                }
                catch (SocketException)
                {
                    // The server may have aborted already (broken pipe, reset): what follows a corrupt frame is not read.
                }

                List<Frame> received = await decoded;
                Assert.Equal(good.Select(f => f.Payload), received.Select(f => f.Payload.ToArray()));
                await Assert.ThrowsAsync<ChecksumMismatchException>(() => decoder.Completion.WaitAsync(TestTimeout));

                // The decoder's fault reaches the connection through the watched link: it is aborted.
                await Assert.ThrowsAsync<ChecksumMismatchException>(() => connection.Completion.WaitAsync(TestTimeout));
                Assert.IsType<ChecksumMismatchException>(FaultOf(connection.Source.Completion));
                (byte[] bytes, _) = await ReadToEndAsync(peer);
                Assert.Empty(bytes);
                await loopback.ServerWriter.WaitClosedAsync().WaitAsync(TestTimeout);
            }
        });
    }

    [Fact]
    public void EncoderFault_AbortsTheConnection()
    {
        _test.Run(async () =>
        {
            (Loopback loopback, Socket peer) = await Loopback.OpenRawAsync(_test.Loop);
            await using (loopback)
            using (peer)
            {
                var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
                IPropagatorBlock<Frame, ReadOnlyMemory<byte>> encoder = FramingBlocks.CreateEncoder(s_format);
                encoder.LinkTo(connection.Target, s_propagate);
                Assert.True(encoder.Post(new Frame(1, "first"u8.ToArray())));
                byte[] expected = new FrameEncoder(s_format).Encode(1, "first"u8);
                Assert.Equal(expected, await ReceiveExactlyAsync(peer, expected.Length));

                var boom = new InvalidDataException("the handler broke");
                encoder.Fault(boom);

                (byte[] bytes, _) = await ReadToEndAsync(peer);
                Assert.Empty(bytes);
                Assert.Same(boom, await Assert.ThrowsAsync<InvalidDataException>(() => connection.Completion.WaitAsync(TestTimeout)));
                Assert.Same(boom, FaultOf(connection.Target.Completion));
                Assert.Same(boom, FaultOf(connection.Source.Completion));
                await loopback.ServerWriter.WaitClosedAsync().WaitAsync(TestTimeout);
            }
        });
    }

    [Fact]
    public void EncoderComplete_FlushesEveryFrame_ThenThePeerSeesEof()
    {
        _test.Run(async () =>
        {
            await using Loopback loopback = await Loopback.OpenAsync(_test.Loop);
            var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
            IPropagatorBlock<Frame, ReadOnlyMemory<byte>> encoder = FramingBlocks.CreateEncoder(s_format);
            encoder.LinkTo(connection.Target, s_propagate);

            List<(uint Type, byte[] Payload)> frames = Frames(s_format, count: 500, maxPayload: 2000, seed: 21);
            Task<byte[]> peer = loopback.ClientReader.ReadToEndAsync().AsTask();
            foreach ((uint type, byte[] payload) in frames)
            {
                Assert.True(await encoder.SendAsync(new Frame(type, payload)).WaitAsync(TestTimeout));
            }

            encoder.Complete();
            Assert.Equal(Encode(s_format, frames), await peer.WaitAsync(TestTimeout));
            await connection.Target.Completion.WaitAsync(TestTimeout);

            // Half-closed: the peer can still send, and its EOF ends the connection.
            loopback.ClientWriter.Close();
            Assert.Empty(await DrainAsync(connection.Source));
            await connection.Completion.WaitAsync(TestTimeout);
        });
    }
}
