using System.Net;
using System.Net.Sockets;
using AsyncNet.Buffers;
using AsyncNet.Errors;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary>The stream transport's contract, run over each family: TCP on 127.0.0.1 and ::1, and Unix sockets.</summary>
public abstract class SocketStreamTransportTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    private protected SocketStreamTransportTests(StreamFamily family) => Family = family;

    public StreamFamily Family { get; }

    public void Dispose() => _test.Dispose();

    [Fact]
    public void Echo_RoundTripsEveryByteInOrder() => _test.Run(async () =>
    {
        var serverProtocols = new List<EchoProtocol>();
        Server server = await Family.CreateServerAsync(_test.Loop, () =>
        {
            var p = new EchoProtocol();
            serverProtocols.Add(p);
            return p;
        });
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        byte[] small = RawPeer.Pattern(100, seed: 1);
        byte[] large = RawPeer.Pattern(3 * 1024 * 1024, seed: 2);
        client.Write(small);
        client.Write(large);
        client.WriteLines([new byte[] { 1, 2, 3 }, new byte[] { 4, 5 }]);
        await protocol.WaitForBytesAsync(small.Length + large.Length + 5);

        Assert.Equal([.. small, .. large, 1, 2, 3, 4, 5], protocol.Received);
        client.Close();
        Assert.Null(await protocol.Lost);
        Assert.Null(await serverProtocols.Single().Lost);
        Assert.Equal(["made", "eof", "lost"], serverProtocols[0].Events.Where(e => e != "data" && e != "pause" && e != "resume"));
        server.Close();
        await server.WaitClosedAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void WriteEof_FromClient_ServerSeesEofAndCanStillReply() => _test.Run(async () =>
    {
        var serverProtocol = new RecordingProtocol
        {
            KeepOpenOnEof = true,
            OnEof = static p =>
            {
                p.Transport.Write("bye"u8);
                p.Transport.Close();
            },
        };
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol);
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        Assert.True(client.CanWriteEof);
        client.Write("hello"u8);
        client.WriteEof();
        Assert.Throws<InvalidOperationException>(() => client.Write("more"u8));
        await serverProtocol.EofTask;
        await protocol.EofTask;

        Assert.Equal("hello"u8.ToArray(), serverProtocol.Received);
        Assert.Equal("bye"u8.ToArray(), protocol.Received);
        Assert.Null(await protocol.Lost);
        Assert.Null(await serverProtocol.Lost);
        Assert.Equal(["made", "data", "eof", "lost"], protocol.Events);
        await server.DisposeAsync();
    });

    [Fact]
    public void WriteEof_FromServer_ClientKeepsWritingWhileHalfOpen() => _test.Run(async () =>
    {
        var serverProtocol = new RecordingProtocol
        {
            OnMade = static p =>
            {
                p.Transport.Write("hello"u8);
                p.Transport.WriteEof();
            },
        };
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol);
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(
            _test.Loop, server, () => new RecordingProtocol { KeepOpenOnEof = true });

        await protocol.EofTask;
        Assert.Equal("hello"u8.ToArray(), protocol.Received);
        Assert.False(client.IsClosing);

        client.Write("reply"u8);
        await serverProtocol.WaitForBytesAsync(5);
        Assert.Equal("reply"u8.ToArray(), serverProtocol.Received);
        client.Close();

        // The server's protocol returns false from EofReceived: the transport closes itself.
        await serverProtocol.EofTask;
        Assert.Null(await serverProtocol.Lost);
        Assert.Null(await protocol.Lost);
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void Abort_DropsQueuedBytesAndLosesTheConnectionOnce() => _test.Run(async () =>
    {
        (Socket listener, var connect) = Family.Listen();
        using (listener)
        {
            listener.ReceiveBufferSize = 4096;
            Task<Socket> accepting = RawPeer.AcceptAsync(listener);
            (IStreamTransport client, RecordingProtocol protocol) = await connect(_test.Loop, () => new RecordingProtocol(), new ConnectionOptions { SendBufferSize = 4096 });
            using Socket peer = await accepting;

            byte[] data = RawPeer.Pattern(4 * 1024 * 1024);
            client.Write(data);
            Assert.True(client.WriteBufferSize > 0, "a peer that does not read leaves bytes queued");

            client.Abort();
            Assert.True(client.IsClosing);
            Assert.Equal(0, client.WriteBufferSize);
            Assert.Equal(0, protocol.LostCount);
            client.Abort();
            Assert.Throws<InvalidOperationException>(() => client.Write("x"u8));

            Assert.Null(await protocol.Lost);
            byte[] got = await RawPeer.ReadToEndAsync(peer);
            Assert.True(got.Length < data.Length, $"the peer got {got.Length} of {data.Length} bytes");
            Assert.Equal(data.AsSpan(0, got.Length).ToArray(), got);
            await _test.YieldAsync();
            Assert.Equal(1, protocol.LostCount);
        }
    });

    [Fact]
    public void PeerReset_MidStream_LosesTheConnectionWithConnectionReset() => _test.Run(async () =>
    {
        var serverProtocol = new RecordingProtocol();
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol);
        Socket peer = Family.ConnectRaw(server);
        await RawPeer.SendAsync(peer, RawPeer.Pattern(1000));
        await serverProtocol.WaitForBytesAsync(1000);

        // Bytes the peer never reads make a Unix socket's close a reset; for TCP, linger 0 sends RST.
        serverProtocol.Transport.Write(RawPeer.Pattern(100));
        await _test.YieldAsync();
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();

        Exception? lost = await serverProtocol.Lost;
        var reset = Assert.IsType<ConnectionResetException>(lost);
        Assert.False(string.IsNullOrEmpty(reset.Address));
        Assert.Contains(reset.Address!, reset.Message, StringComparison.Ordinal);
        if (!Family.IsTcp)
        {
            Assert.Equal(server.Sockets[0].LocalEndPoint!.ToString(), reset.Address);
        }
        Assert.Equal(["made", "data", "lost"], serverProtocol.Events.Distinct());

        // A write after the peer broke the connection is dropped silently.
        serverProtocol.Transport.Write("dropped"u8);
        Assert.Equal(0, serverProtocol.Transport.WriteBufferSize);
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void Connect_NothingListening_FailsWithConnectionRefusedNamingTheAddress() => _test.Run(async () =>
    {
        (string address, Func<AsyncNet.Loop.EventLoop, Task> connect) = Family.Unreachable();
        var refused = await Assert.ThrowsAsync<ConnectionRefusedException>(() => connect(_test.Loop));
        Assert.Contains(address, refused.Message, StringComparison.Ordinal);
        Assert.Equal(address, refused.Address);
    });

    [Fact]
    public void PartialWrites_SmallSendBuffer_EveryByteArrivesInOrderAndFlowControlFiresAtTheMarks() => _test.Run(async () =>
    {
        (Socket listener, var connect) = Family.Listen();
        using (listener)
        {
            listener.ReceiveBufferSize = 4096;
            Task<Socket> accepting = RawPeer.AcceptAsync(listener);
            const int High = 48 * 1024;
            const int Low = 8 * 1024;
            var options = new ConnectionOptions { SendBufferSize = 4096, WriteBufferHighWaterMark = High, WriteBufferLowWaterMark = Low };
            (IStreamTransport client, RecordingProtocol protocol) = await connect(_test.Loop, () => new RecordingProtocol(), options);
            using Socket peer = await accepting;
            Assert.Equal(High, client.WriteBufferHighWaterMark);
            Assert.Equal(Low, client.WriteBufferLowWaterMark);

            // Write until paused; every write must pause exactly when the buffer first goes above high.
            byte[] all = RawPeer.Pattern(2 * 1024 * 1024, seed: 7);
            int offset = 0;
            int chunk = 5000;
            while (!protocol.IsWritingPaused)
            {
                int before = client.WriteBufferSize;
                Assert.True(before <= High, $"not paused yet, so the buffer ({before}) is at or below high");
                client.Write(all.AsSpan(offset, chunk));
                offset += chunk;
                Assert.Equal(client.WriteBufferSize > High, protocol.IsWritingPaused);
            }

            Assert.True(client.WriteBufferSize > 0);

            // The peer now reads slowly; write the rest as the protocol is resumed, then close (flush first).
            Task<byte[]> reading = RawPeer.ReadToEndAsync(peer, chunk: 3000, pauseEveryChunkMs: 1);
            while (offset < all.Length)
            {
                if (protocol.IsWritingPaused)
                {
                    await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(1));
                    continue;
                }

                int n = Math.Min(chunk, all.Length - offset);
                client.Write(all.AsSpan(offset, n));
                offset += n;
            }

            client.Close();
            byte[] got = await reading;
            Assert.Equal(all.Length, got.Length);
            Assert.True(all.AsSpan().SequenceEqual(got), "every byte arrives, in order");
            Assert.Null(await protocol.Lost);

            Assert.True(protocol.FlowEvents.Count >= 2, "paused and resumed at least once");
            for (int i = 0; i < protocol.FlowEvents.Count; i++)
            {
                (string what, int buffered) = protocol.FlowEvents[i];
                Assert.Equal(i % 2 == 0 ? "pause" : "resume", what);
                Assert.True(what == "pause" ? buffered > High : buffered <= Low, $"{what} at {buffered} bytes (high {High}, low {Low})");
            }
        }

        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void Write_AfterCloseOrAbortOrWriteEof_Throws() => _test.Run(async () =>
    {
        Server server = await Family.CreateServerAsync(_test.Loop, () => new EchoProtocol());
        foreach (Action<IStreamTransport> end in new Action<IStreamTransport>[] { t => t.Close(), t => t.Abort(), t => t.WriteEof() })
        {
            (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
            end(client);
            var thrown = Assert.Throws<InvalidOperationException>(() => client.Write("x"u8));
            Assert.Contains("WriteEof, Close or Abort", thrown.Message, StringComparison.Ordinal);
            client.Abort();
            Assert.Null(await protocol.Lost);
        }

        server.Close();
        await server.WaitClosedAsync();
    });

    [Fact]
    public void BufferedProtocol_ReceivesStraightIntoItsBuffer() => _test.Run(async () =>
    {
        Server server = await Family.CreateServerAsync(_test.Loop, () => new EchoProtocol());
        (IStreamTransport client, BufferedRecorder protocol) = await Family.ConnectAsync(_test.Loop, server, () => new BufferedRecorder(bufferSize: 7));

        byte[] data = RawPeer.Pattern(100_000, seed: 3);
        client.Write(data);
        await protocol.WaitForBytesAsync(data.Length);
        Assert.Equal(data, protocol.Received);
        Assert.True(protocol.Updates >= data.Length / 7, "each read fills at most the 7-byte buffer");

        client.WriteEof();
        Assert.Null(await protocol.Lost);
        Assert.Equal(["made", "eof", "lost"], protocol.Events);
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ABufferedEchoThatReusesItsBufferInsideTheCallback_StillSendsWhatItWrote(bool pooled) => _test.Run(async () =>
    {
        // Not pooled: the protocol scribbles over its own buffer after writing from it, which it may, so the write must
        // have been copied. Pooled: it gives the array back and the next array it rents is scribbled over; the
        // transport, sending in place, must have kept that array from being lent again before its send.
        Server server = await Family.CreateServerAsync(_test.Loop, () => new ScribblingEcho(_test.Loop.BufferPool, pooled));
        (IStreamTransport client, BufferedRecorder protocol) = await Family.ConnectAsync(_test.Loop, server, () => new BufferedRecorder(bufferSize: 64 * 1024));

        byte[] data = RawPeer.Pattern(300_000, seed: 5);
        client.Write(data);
        await protocol.WaitForBytesAsync(data.Length);
        Assert.Equal(data, protocol.Received);

        client.Close();
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void WritesInsideDataReceived_AreGatheredAndFlushedWhenTheCallbackReturns() => _test.Run(async () =>
    {
        var seenInside = new List<int>();
        RecordingProtocol serverProtocol = new()
        {
            // Answer each byte received with 16 small frames: queued while the callback runs, then sent together.
            OnData = (p, data) =>
            {
                foreach (byte b in data)
                {
                    for (int i = 0; i < 16; i++)
                    {
                        p.Transport.Write([b, (byte)i]);
                    }
                }

                p.Transport.Write(data);
                seenInside.Add(p.Transport.WriteBufferSize);
            },
        };
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol);
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        client.Write([9, 8]);
        await protocol.WaitForBytesAsync((2 * 32) + 2);

        byte[] expected = [.. Frames(9), .. Frames(8), 9, 8];
        Assert.Equal(expected, protocol.Received[..expected.Length]);
        Assert.All(seenInside, n => Assert.True(n > 0, "bytes written inside DataReceived wait for it to return"));
        Assert.Equal(0, serverProtocol.Transport.WriteBufferSize);
        client.Close();
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);

        static byte[] Frames(byte b) => [.. Enumerable.Range(0, 16).SelectMany(i => new[] { b, (byte)i })];
    });

    [Fact]
    public void LargeWriteInsideDataReceived_WithNothingGathered_IsSentAtOnceWithoutBeingQueued() => _test.Run(async () =>
    {
        // A send buffer that takes the whole write, so "sent at once" leaves nothing queued.
        byte[] large = RawPeer.Pattern(SocketStreamTransport.GatherLimit * 2, seed: 11);
        var seenInside = new List<int>();
        RecordingProtocol serverProtocol = new()
        {
            OnData = (p, _) =>
            {
                p.Transport.Write(large);
                seenInside.Add(p.Transport.WriteBufferSize);
            },
        };
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol, new ServerOptions { SendBufferSize = 1 << 20 });
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        client.Write([1]);
        await protocol.WaitForBytesAsync(large.Length);

        Assert.Equal(large, protocol.Received);
        Assert.Equal([0], seenInside);
        client.Close();
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void WritesInsideDataReceived_BelowTheGatherLimitOrAfterGatheredBytes_StayGatheredInOrder() => _test.Run(async () =>
    {
        byte[] justBelow = RawPeer.Pattern(SocketStreamTransport.GatherLimit - 1, seed: 12);
        byte[] large = RawPeer.Pattern(SocketStreamTransport.GatherLimit * 2, seed: 13);
        var seenInside = new List<int>();
        RecordingProtocol serverProtocol = new()
        {
            // A write just below the limit is gathered; a large one behind gathered bytes joins them, never overtakes them.
            OnData = (p, _) =>
            {
                p.Transport.Write(justBelow);
                seenInside.Add(p.Transport.WriteBufferSize);
                p.Transport.Write("ab"u8);
                p.Transport.Write(large);
                seenInside.Add(p.Transport.WriteBufferSize);
            },
        };
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol, new ServerOptions { SendBufferSize = 1 << 20 });
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        client.Write([1]);
        byte[] expected = [.. justBelow, (byte)'a', (byte)'b', .. large];
        await protocol.WaitForBytesAsync(expected.Length);

        Assert.Equal(expected, protocol.Received);
        Assert.Equal([justBelow.Length, expected.Length], seenInside);
        client.Close();
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void WriteLinesInsideDataReceived_GathersLargeBuffersToo() => _test.Run(async () =>
    {
        byte[] large = RawPeer.Pattern(SocketStreamTransport.GatherLimit * 2, seed: 14);
        var seenInside = new List<int>();
        RecordingProtocol serverProtocol = new()
        {
            OnData = (p, _) =>
            {
                p.Transport.WriteLines([large, "z"u8.ToArray()]);
                seenInside.Add(p.Transport.WriteBufferSize);
            },
        };
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol, new ServerOptions { SendBufferSize = 1 << 20 });
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        client.Write([1]);
        await protocol.WaitForBytesAsync(large.Length + 1);

        Assert.Equal([.. large, (byte)'z'], protocol.Received);
        Assert.Equal([large.Length + 1], seenInside);
        client.Close();
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void TwoPartWrite_IsGatheredWhole_InsideDataReceivedAndOut() => _test.Run(async () =>
    {
        byte[] large = RawPeer.Pattern(SocketStreamTransport.GatherLimit * 2, seed: 15);
        var seenInside = new List<int>();
        RecordingProtocol serverProtocol = new()
        {
            // Both parts wait for the callback to return, the large second one too: they leave in one send.
            OnData = (p, _) =>
            {
                p.Transport.Write("head"u8, large);
                seenInside.Add(p.Transport.WriteBufferSize);
            },
        };
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol, new ServerOptions { SendBufferSize = 1 << 20 });
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        client.Write("x"u8, "yz"u8);
        await serverProtocol.WaitForBytesAsync(3);
        await protocol.WaitForBytesAsync(4 + large.Length);

        Assert.Equal("xyz"u8.ToArray(), serverProtocol.Received);
        Assert.Equal([(byte)'h', (byte)'e', (byte)'a', (byte)'d', .. large], protocol.Received[..(4 + large.Length)]);
        Assert.Equal(4 + large.Length, seenInside[0]);
        Assert.Equal(0, client.WriteBufferSize);
        client.Close();
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void ConnectionLost_RunsFromItsOwnCallbackExactlyOnce() => _test.Run(async () =>
    {
        Server server = await Family.CreateServerAsync(_test.Loop, () => new EchoProtocol());
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        client.Close();
        client.Close();
        client.Abort();
        Assert.Equal(["made"], protocol.Events);
        Assert.Null(await protocol.Lost);
        await _test.YieldAsync();
        Assert.Equal(1, protocol.LostCount);
        Assert.Equal(["made", "lost"], protocol.Events);
        await server.DisposeAsync();
    });

    [Fact]
    public void ProtocolThatThrows_IsReportedAndItsConnectionLostWithTheException() => _test.Run(async () =>
    {
        var boom = new InvalidOperationException("boom");
        var serverProtocol = new RecordingProtocol { OnData = (_, _) => throw boom };
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol);
        (IStreamTransport client, RecordingProtocol protocol) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        client.Write("x"u8);
        Assert.Same(boom, await serverProtocol.Lost);
        Assert.Same(boom, Assert.Single(_test.HandlerReports).Exception);
        Assert.Null(await protocol.Lost);
        await server.DisposeAsync();
    });

    [Fact]
    public void PauseReading_StopsDataUntilResumed() => _test.Run(async () =>
    {
        var serverProtocol = new RecordingProtocol();
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol);
        (IStreamTransport client, RecordingProtocol _) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        await serverProtocol.Made;

        IStreamTransport transport = serverProtocol.Transport;
        transport.PauseReading();
        transport.PauseReading();
        Assert.False(transport.IsReading);
        Assert.Contains("ReadPaused", transport.ToString(), StringComparison.Ordinal);
        client.Write("abc"u8);
        await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(50));
        Assert.Equal(0, serverProtocol.ReceivedCount);

        transport.ResumeReading();
        Assert.True(transport.IsReading);
        await serverProtocol.WaitForBytesAsync(3);
        Assert.Equal("abc"u8.ToArray(), serverProtocol.Received);
        client.Close();
        await server.DisposeAsync();
    });

    [Fact]
    public void ExtraInfo_GivesPeerNameSockNameAndSocket() => _test.Run(async () =>
    {
        var serverProtocol = new RecordingProtocol();
        Server server = await Family.CreateServerAsync(_test.Loop, () => serverProtocol);
        (IStreamTransport client, RecordingProtocol _) = await Family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        await serverProtocol.Made;

        var socket = Assert.IsType<Socket>(client.GetExtraInfo("socket"));
        Assert.Equal(server.Sockets[0].LocalEndPoint!.ToString(), client.GetExtraInfo("peername")!.ToString());
        if (Family.IsTcp)
        {
            Assert.Equal(socket.LocalEndPoint, client.GetExtraInfo("sockname"));
            Assert.Equal(client.GetExtraInfo("sockname"), serverProtocol.Transport.GetExtraInfo("peername"));
            Assert.True(socket.NoDelay, "no-delay is on by default for TCP");
        }

        Assert.Equal("fallback", client.GetExtraInfo("no such thing", "fallback"));
        Assert.Matches(@"^SocketStreamTransport\(fd=\d+, Reading, Buffered=0\)$", client.ToString());
        client.Close();
        Assert.EndsWith("Closed)", client.ToString(), StringComparison.Ordinal);
        await server.DisposeAsync();
    });

    /// <summary>
    /// An echo that writes back what it received from its buffer inside <c>BufferUpdated</c>, then overwrites memory: its
    /// own buffer (not pooled), or a freshly rented array after giving the received one back (pooled).
    /// </summary>
    private sealed class ScribblingEcho(BufferPool pool, bool pooled) : IBufferedProtocol
    {
        // Under the transport's gather limit, so each echo is queued and leaves when the callback returns, not at once.
        private const int BufferLength = 8 * 1024;
        private readonly byte[] _own = new byte[BufferLength];
        private byte[]? _lent;
        private IStreamTransport? _transport;

        public bool BufferIsPooled => pooled;

        public void ConnectionMade(ITransport transport) => _transport = (IStreamTransport)transport;

        public Memory<byte> GetBuffer(int sizeHint) => _lent = pooled ? pool.Rent(BufferLength) : _own;

        public void BufferUpdated(int bytesWritten)
        {
            byte[] received = _lent!;
            _transport!.Write(received.AsSpan(0, bytesWritten));
            if (pooled)
            {
                pool.Return(received);
                byte[] next = pool.Rent(received.Length);
                next.AsSpan().Fill(0xEE);
                pool.Return(next);
            }
            else
            {
                received.AsSpan().Fill(0xEE);
            }
        }

        public void ConnectionLost(Exception? exception)
        {
        }
    }

    /// <summary>A buffered protocol with a tiny buffer that records what it got and checks GetBuffer/BufferUpdated pairing.</summary>
    private sealed class BufferedRecorder(int bufferSize) : IBufferedProtocol
    {
        private readonly byte[] _buffer = new byte[bufferSize];
        private readonly MemoryStream _received = new();
        private readonly TaskCompletionSource<Exception?> _lost = new();
        private bool _lent;
        private (int Count, TaskCompletionSource Source)? _waiter;

        public List<string> Events { get; } = [];

        public int Updates { get; private set; }

        public byte[] Received => _received.ToArray();

        public Task<Exception?> Lost => _lost.Task;

        public void ConnectionMade(ITransport transport) => Events.Add("made");

        public Memory<byte> GetBuffer(int sizeHint)
        {
            Assert.True(sizeHint > 0);
            _lent = true;
            return _buffer;
        }

        public void BufferUpdated(int bytesWritten)
        {
            Assert.True(_lent, "BufferUpdated follows GetBuffer");
            Assert.InRange(bytesWritten, 1, _buffer.Length);
            _lent = false;
            Updates++;
            _received.Write(_buffer, 0, bytesWritten);
            if (_waiter is { } w && _received.Length >= w.Count)
            {
                _waiter = null;
                w.Source.SetResult();
            }
        }

        public bool EofReceived()
        {
            Events.Add("eof");
            return false;
        }

        public void ConnectionLost(Exception? exception)
        {
            Events.Add("lost");
            _lost.SetResult(exception);
        }

        public Task WaitForBytesAsync(int count)
        {
            if (_received.Length >= count)
            {
                return Task.CompletedTask;
            }

            var source = new TaskCompletionSource();
            _waiter = (count, source);
            return source.Task;
        }
    }
}

public sealed class Tcp4StreamTransportTests() : SocketStreamTransportTests(StreamFamily.Tcp4);

public sealed class Tcp6StreamTransportTests() : SocketStreamTransportTests(StreamFamily.Tcp6);

public sealed class UnixStreamTransportTests() : SocketStreamTransportTests(StreamFamily.Unix);
