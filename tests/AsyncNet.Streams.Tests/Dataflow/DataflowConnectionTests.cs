using System.Net.Sockets;
using System.Threading.Tasks.Dataflow;
using AsyncNet.Errors;
using AsyncNet.Streams.Dataflow;
using AsyncNet.Transports;
using static AsyncNet.Streams.Tests.Dataflow.DataflowTestKit;

namespace AsyncNet.Streams.Tests.Dataflow;

/// <summary>
/// DataflowConnection: the source's order and bounds, the target's drain, and how completion and faults end the
/// connection. Scripted transports pin the exact backpressure steps; loopback sockets run the same rules for real.
/// </summary>
public sealed class DataflowConnectionTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    /// <summary>A scripted pair whose "kernel" takes nothing until <see cref="Send"/> says so.</summary>
    private Scripted CreateStalled(int high, int low, int limit = StreamOptions.DefaultLimit)
    {
        Scripted s = _test.CreateScripted(limit: limit, compact: false);
        s.Transport.SetWriteBufferLimits(high, low);
        Stall(s);
        return s;
    }

    private static void Stall(Scripted s)
    {
        for (int i = 0; i < 1000; i++)
        {
            s.Transport.SendSchedule.Enqueue(0);
        }
    }

    private static void Send(Scripted s, int bytes)
    {
        s.Transport.SendSchedule.Clear();
        s.Transport.SendSchedule.Enqueue(bytes);
        s.Transport.Pump();
        Stall(s);
    }

    [Fact]
    public void Target_WhileADrainIsPending_PostponesOffers()
    {
        _test.Run(async () =>
        {
            Scripted s = CreateStalled(high: 100, low: 40);
            var connection = new DataflowConnection(s.Reader, s.Writer);
            Task<bool> first = connection.Target.SendAsync(new byte[50]);
            Task<bool> second = connection.Target.SendAsync(Enumerable.Repeat((byte)2, 50).ToArray());
            Task<bool> third = connection.Target.SendAsync(Enumerable.Repeat((byte)3, 50).ToArray());
            await SettleAsync(_test.Loop, () => s.Transport.WriteBufferSize == 50);

            Assert.True(first.IsCompletedSuccessfully && first.Result);
            Assert.False(second.IsCompleted, "50 buffered is above the low mark: the drain is pending, so the offer waits");

            Send(s, 9);
            await SettleAsync(_test.Loop, () => s.Transport.WriteBufferSize == 41);
            Assert.False(second.IsCompleted, "41 buffered is still above the low mark");

            Send(s, 1);
            await SettleAsync(_test.Loop, () => second.IsCompleted);
            Assert.True(second.Result);
            Assert.Equal(90, s.Transport.WriteBufferSize);
            Assert.False(third.IsCompleted);

            Send(s, 90);
            await SettleAsync(_test.Loop, () => third.IsCompleted);
            Assert.True(third.Result);
            Assert.Equal(50, s.Transport.WriteBufferSize);
            Send(s, 50);
            Assert.Equal(150, s.Transport.Sent.Length);
            Assert.Equal([0, 2, 3], s.Transport.Sent.Where((_, i) => i % 50 == 0));
        });
    }

    [Fact]
    public void Source_FullBuffer_StopsReadingAndTheReaderPauses()
    {
        _test.Run(async () =>
        {
            Scripted s = CreateStalled(high: 1000, low: 100, limit: 20);
            var connection = new DataflowConnection(s.Reader, s.Writer, new DataflowConnectionOptions { ReceiveCapacity = 2, MaxSegmentLength = 10 });
            await _test.YieldAsync();

            int delivered = 0;
            byte next = 0;
            while (true)
            {
                byte[] chunk = new byte[10];
                for (int i = 0; i < chunk.Length; i++)
                {
                    chunk[i] = next++;
                }

                if (s.Transport.Deliver(chunk) == 0)
                {
                    break;
                }

                delivered += 10;
                Assert.True(delivered < 1000, "Reading must pause when nobody takes the segments");
                await _test.YieldAsync();
            }

            // Two segments in the source, one in the pump's SendAsync, and the reader at its limit plus one segment.
            Assert.Equal(2, connection.ReceivedCount);
            Assert.True(s.Reader.IsPaused);
            Assert.InRange(s.Reader.BufferedBytes, 21, 30);
            Assert.Equal(2 * 10 + 10 + s.Reader.BufferedBytes, delivered);

            // Taking the segments lets everything through, in order.
            s.Transport.DeliverEof();
            List<ReadOnlyMemory<byte>> segments = await DrainAsync(connection.Source);
            byte[] bytes = Concat(segments);
            Assert.Equal(delivered, bytes.Length);
            Assert.All(segments, segment => Assert.InRange(segment.Length, 1, 10));
            Assert.Equal(Enumerable.Range(0, delivered).Select(i => (byte)i), bytes);
            await connection.Source.Completion.WaitAsync(TestTimeout);
        });
    }

    [Fact]
    public void Source_OverLoopback_DeliversEveryByteInOrder()
    {
        _test.Run(async () =>
        {
            await using Loopback loopback = await Loopback.OpenAsync(_test.Loop);
            var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
            byte[] data = Bytes.Random(1024 * 1024, seed: 5);
            Task<List<ReadOnlyMemory<byte>>> received = DrainAsync(connection.Source);
            foreach (byte[] chunk in Chunk(data, maxChunk: 50_000, seed: 9))
            {
                loopback.ClientWriter.Write(chunk);
                await loopback.ClientWriter.DrainAsync();
            }

            loopback.ClientWriter.WriteEof();
            Assert.Equal(data, Concat(await received));
            await connection.Source.Completion.WaitAsync(TestTimeout);
        });
    }

    [Fact]
    public void Source_SlowConsumerOverLoopback_StaysBoundedPausesReadingAndLosesNothing()
    {
        _test.Run(async () =>
        {
            const int limit = 8 * 1024;
            const int readSize = 4096;
            const int capacity = 2;
            const int maxSegment = 4096;
            await using Loopback loopback = await Loopback.OpenAsync(
                _test.Loop,
                serverStreams: new StreamOptions { Limit = limit },
                serverOptions: new ServerOptions { ReadBufferSize = readSize });
            var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter, new DataflowConnectionOptions { ReceiveCapacity = capacity, MaxSegmentLength = maxSegment });
            byte[] data = Bytes.Random(2 * 1024 * 1024, seed: 8);
            Task sending = SendAllAsync(loopback.ClientWriter, data);

            // Nobody takes anything for a while: the source fills and reading pauses.
            await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(200));
            Assert.True(loopback.ServerReader.IsPaused, loopback.ServerReader.ToString());
            Assert.Equal(capacity, connection.ReceivedCount);

            var received = new List<byte>();
            int segments = 0;
            bool sawPaused = false;
            var source = connection.Source;
            while (await source.OutputAvailableAsync().WaitAsync(TestTimeout))
            {
                Assert.InRange(connection.ReceivedCount, 0, capacity);
                Assert.InRange(loopback.ServerReader.BufferedBytes, 0, limit + readSize);
                sawPaused |= loopback.ServerReader.IsPaused;
                Assert.True(source.TryReceive(out ReadOnlyMemory<byte> segment));
                Assert.InRange(segment.Length, 1, maxSegment);
                received.AddRange(segment.ToArray());
                if (++segments % 32 == 0)
                {
                    // Slow, not stalled: the bounds must hold while the consumer keeps falling behind.
                    await Task.Delay(1);
                }
            }

            Assert.True(sawPaused);
            Assert.Equal(data.Length, received.Count);
            Assert.True(data.AsSpan().SequenceEqual(received.ToArray()));
            await sending.WaitAsync(TestTimeout);
        });

        static async Task SendAllAsync(StreamWriter writer, byte[] data)
        {
            foreach (byte[] chunk in Chunk(data, maxChunk: 32 * 1024, seed: 2))
            {
                writer.Write(chunk);
                await writer.DrainAsync();
            }

            writer.WriteEof();
        }
    }

    [Fact]
    public void Target_TinyHighWaterMarkOverLoopback_HonoursDrainAndDeliversInOrder()
    {
        _test.Run(async () =>
        {
            const int high = 2048;
            const int low = 512;
            const int segmentLength = 1000;
            await using Loopback loopback = await Loopback.OpenAsync(
                _test.Loop,
                serverOptions: new ServerOptions { SendBufferSize = 4096, WriteBufferHighWaterMark = high, WriteBufferLowWaterMark = low },
                clientStreams: new StreamOptions { Limit = 4096 },
                clientOptions: new ConnectionOptions { ReceiveBufferSize = 4096, ReadBufferSize = 4096 });
            var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
            byte[] data = Bytes.Random(2000 * segmentLength, seed: 4);

            // Sampled on the loop thread, between the target's writes: a segment is written only once the previous
            // drain found the buffer at or below the low mark, so it never holds more than low + one segment.
            int maxBuffered = 0;
            void Sample()
            {
                int buffered = loopback.ServerWriter.Transport.WriteBufferSize;
                Assert.InRange(buffered, 0, low + segmentLength);
                maxBuffered = Math.Max(maxBuffered, buffered);
            }

            Task<byte[]> peer = ReadSlowlyAsync(loopback.ClientReader, Sample);
            for (int offset = 0; offset < data.Length; offset += segmentLength)
            {
                Assert.True(await connection.Target.SendAsync(data.AsMemory(offset, segmentLength)).WaitAsync(TestTimeout));
                Sample();
            }

            connection.Target.Complete();
            await connection.Target.Completion.WaitAsync(TestTimeout);
            Assert.Equal(data, await peer.WaitAsync(TestTimeout));
            Assert.True(maxBuffered > low, $"The slow peer must have made drains wait (at most {maxBuffered} bytes were buffered)");
        });

        async Task<byte[]> ReadSlowlyAsync(StreamReader reader, Action sample)
        {
            var received = new List<byte>();
            int reads = 0;
            while (true)
            {
                byte[] chunk = await reader.ReadAsync(1500);
                if (chunk.Length == 0)
                {
                    return received.ToArray();
                }

                received.AddRange(chunk);
                sample();
                if (++reads % 8 == 0)
                {
                    await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(1));
                }
            }
        }
    }

    [Fact]
    public void TargetComplete_PeerSeesEof_AndTheSourceGoesOnUntilThePeerCloses()
    {
        _test.Run(async () =>
        {
            await using Loopback loopback = await Loopback.OpenAsync(_test.Loop);
            var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
            Assert.True(await connection.Target.SendAsync("hello, "u8.ToArray()));
            Assert.True(await connection.Target.SendAsync("peer"u8.ToArray()));
            connection.Target.Complete();

            // The peer reads everything, then EOF: the target flushed and half-closed.
            Assert.Equal("hello, peer", Bytes.Text(await loopback.ClientReader.ReadToEndAsync().AsTask().WaitAsync(TestTimeout)));
            await connection.Target.Completion.WaitAsync(TestTimeout);
            Assert.False(connection.Completion.IsCompleted, "Half-closed: the connection still receives");

            Task<List<ReadOnlyMemory<byte>>> received = DrainAsync(connection.Source);
            loopback.ClientWriter.Write("bye"u8);
            loopback.ClientWriter.Close();
            Assert.Equal("bye", Bytes.Text(Concat(await received)));
            await connection.Completion.WaitAsync(TestTimeout);
            Assert.True(loopback.ServerWriter.Transport.IsClosing);
        });
    }

    [Fact]
    public void SourceEof_ThenTargetComplete_ClosesTheConnection()
    {
        _test.Run(async () =>
        {
            await using Loopback loopback = await Loopback.OpenAsync(_test.Loop);
            var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
            loopback.ClientWriter.Write("request"u8);
            loopback.ClientWriter.WriteEof();
            Assert.Equal("request", Bytes.Text(Concat(await DrainAsync(connection.Source))));

            // Half-open the other way: the server still answers after the peer's EOF.
            Assert.True(await connection.Target.SendAsync("response"u8.ToArray()));
            connection.Target.Complete();
            Assert.Equal("response", Bytes.Text(await loopback.ClientReader.ReadToEndAsync().AsTask().WaitAsync(TestTimeout)));
            await connection.Completion.WaitAsync(TestTimeout);
            await loopback.ServerWriter.WaitClosedAsync().WaitAsync(TestTimeout);
        });
    }

    [Fact]
    public void SourceComplete_StopsReceiving_AndLeavesTheTargetWorking()
    {
        _test.Run(async () =>
        {
            await using Loopback loopback = await Loopback.OpenAsync(_test.Loop);
            var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
            connection.Source.Complete();
            await connection.Source.Completion.WaitAsync(TestTimeout);

            Assert.True(await connection.Target.SendAsync("still here"u8.ToArray()));
            connection.Target.Complete();
            Assert.Equal("still here", Bytes.Text(await loopback.ClientReader.ReadToEndAsync().AsTask().WaitAsync(TestTimeout)));
            await connection.Completion.WaitAsync(TestTimeout);
        });
    }

    [Fact]
    public void PeerReset_FaultsTheSourceAndTheConnection()
    {
        _test.Run(async () =>
        {
            (Loopback loopback, Socket peer) = await Loopback.OpenRawAsync(_test.Loop);
            await using (loopback)
            {
                var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
                await peer.SendAsync("some bytes"u8.ToArray());
                await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(50));

                // SO_LINGER 0: closing sends a reset instead of a FIN.
                peer.LingerState = new LingerOption(true, 0);
                peer.Close();

                await Assert.ThrowsAnyAsync<NetworkException>(() => connection.Source.Completion.WaitAsync(TestTimeout));
                Assert.IsType<ConnectionResetException>(FaultOf(connection.Source.Completion));
                await Assert.ThrowsAsync<ConnectionResetException>(() => connection.Completion.WaitAsync(TestTimeout));
                Assert.True(connection.Target.Completion.IsFaulted);
                Assert.False(connection.Target.Post(new byte[1]));
            }
        });
    }

    [Fact]
    public void TargetFault_AbortsTheConnection()
    {
        _test.Run(async () =>
        {
            (Loopback loopback, Socket peer) = await Loopback.OpenRawAsync(_test.Loop);
            await using (loopback)
            using (peer)
            {
                var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
                Assert.True(await connection.Target.SendAsync("sent before"u8.ToArray()));
                Assert.Equal("sent before", Bytes.Text(await ReceiveExactlyAsync(peer, 11)));
                var boom = new InvalidOperationException("the producer failed");
                connection.Target.Fault(boom);

                (byte[] bytes, _) = await ReadToEndAsync(peer);
                Assert.Empty(bytes);
                Assert.Same(boom, await Assert.ThrowsAsync<InvalidOperationException>(() => connection.Completion.WaitAsync(TestTimeout)));
                Assert.Same(boom, FaultOf(connection.Source.Completion));
                Assert.Same(boom, FaultOf(connection.Target.Completion));
                await loopback.ServerWriter.WaitClosedAsync().WaitAsync(TestTimeout);
            }
        });
    }

    [Fact]
    public void LinkedTargetFaults_AbortsTheConnection()
    {
        _test.Run(async () =>
        {
            (Loopback loopback, Socket peer) = await Loopback.OpenRawAsync(_test.Loop);
            await using (loopback)
            using (peer)
            {
                var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
                var consumer = new ActionBlock<ReadOnlyMemory<byte>>(_ => throw new FormatException("cannot parse"));
                connection.Source.LinkTo(consumer, new DataflowLinkOptions { PropagateCompletion = true });
                await peer.SendAsync("garbage"u8.ToArray());

                await Assert.ThrowsAsync<FormatException>(() => connection.Completion.WaitAsync(TestTimeout));
                (byte[] bytes, _) = await ReadToEndAsync(peer);
                Assert.Empty(bytes);
                Assert.IsType<FormatException>(FaultOf(connection.Source.Completion));
            }
        });
    }

    [Fact]
    public void ConnectionClosedElsewhere_TargetCompletesAndDeclines()
    {
        _test.Run(async () =>
        {
            await using Loopback loopback = await Loopback.OpenAsync(_test.Loop);
            var connection = new DataflowConnection(loopback.ServerReader, loopback.ServerWriter);
            loopback.ServerWriter.Close();

            await connection.Target.Completion.WaitAsync(TestTimeout);
            await connection.Source.Completion.WaitAsync(TestTimeout);
            await connection.Completion.WaitAsync(TestTimeout);
            Assert.False(connection.Target.Post(new byte[1]));
        });
    }

    [Fact]
    public void Constructor_ChecksItsArguments()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            Assert.Throws<ArgumentNullException>(() => new DataflowConnection(null!, s.Writer));
            Assert.Throws<ArgumentNullException>(() => new DataflowConnection(s.Reader, null!));
            Assert.Throws<ArgumentOutOfRangeException>(() => new DataflowConnection(s.Reader, s.Writer, new DataflowConnectionOptions { ReceiveCapacity = 0 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new DataflowConnection(s.Reader, s.Writer, new DataflowConnectionOptions { MaxSegmentLength = 0 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new DataflowConnection(s.Reader, s.Writer, new DataflowConnectionOptions { SendCapacity = 0 }));

            using var other = new StreamTestLoop();
            Scripted elsewhere = other.CreateScripted();
            Assert.Throws<ArgumentException>(() => new DataflowConnection(s.Reader, elsewhere.Writer));
            return Task.CompletedTask;
        });
    }
}
