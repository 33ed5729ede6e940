using System.Net;
using System.Net.Sockets;
using System.Text;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary>The datagram transport over real sockets: UDP on 127.0.0.1 and ::1, and Unix datagram sockets in a temp dir.</summary>
public sealed class DatagramTransportTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("asyncnet-dgram-");
    private readonly int _baseRegistrations;

    public DatagramTransportTests() => _baseRegistrations = _loop.Selector.Count;

    public static TheoryData<string> Families => ["IPv4", "IPv6", "Unix"];

    public void Dispose()
    {
        _loop.Close();
        _dir.Delete(recursive: true);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Echo_OverEachFamily_ReturnsTheDatagramFromTheServerAddress(string family)
    {
        _loop.RunBounded(async () =>
        {
            var (server, client, serverProtocol, clientProtocol) = await CreatePairAsync(family, echo: true);

            ((IDatagramTransport)client).SendTo("hello"u8);
            (byte[] data, EndPoint from) = await clientProtocol.NextDatagramAsync();

            Assert.Equal("hello", Encoding.ASCII.GetString(data));
            Assert.Equal(server.GetExtraInfo("sockname"), from);
            Assert.Equal(["made", "datagram"], serverProtocol.Events);
            server.Close();
            client.Close();
            await Task.WhenAll(serverProtocol.Lost, clientProtocol.Lost);
        });

        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void ManyDatagrams_OnLoopback_ArriveInOrder(string family)
    {
        const int Count = 200;
        _loop.RunBounded(async () =>
        {
            var (server, client, serverProtocol, _) = await CreatePairAsync(family, echo: false);
            var sender = (IDatagramTransport)client;

            // Bursts of 16, each checked before the next, so the OS's receive buffer never overflows (UDP would drop).
            int expected = 0;
            for (int i = 0; i < Count; i++)
            {
                sender.SendTo(BitConverter.GetBytes(i));
                if (i % 16 == 15 || i == Count - 1)
                {
                    while (expected <= i)
                    {
                        (byte[] data, _) = await serverProtocol.NextDatagramAsync();
                        Assert.Equal(expected++, BitConverter.ToInt32(data));
                    }
                }
            }

            server.Close();
            client.Close();
            await serverProtocol.Lost;
        });
    }

    [Fact]
    public void EmptyDatagram_IsSentAndReceived()
    {
        _loop.RunBounded(async () =>
        {
            var (server, client, serverProtocol, _) = await CreatePairAsync("IPv4", echo: false);

            ((IDatagramTransport)client).SendTo(ReadOnlySpan<byte>.Empty);
            (byte[] data, _) = await serverProtocol.NextDatagramAsync();

            Assert.Empty(data);
            server.Close();
            client.Close();
        });
    }

    [Fact]
    public void SendTo_AfterClose_ThrowsInvalidOperation()
    {
        _loop.RunBounded(async () =>
        {
            var (transport, protocol) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), new IPEndPoint(IPAddress.Loopback, 0));
            var target = new IPEndPoint(IPAddress.Loopback, 9);

            transport.Close();

            Assert.True(transport.IsClosing);
            var ex = Assert.Throws<InvalidOperationException>(() => transport.SendTo("x"u8, target));
            Assert.Contains("clos", ex.Message);
            await ((RecordingDatagramProtocol)protocol).Lost;
            Assert.Throws<InvalidOperationException>(() => transport.SendTo("x"u8, target));
        });
    }

    [Fact]
    public void Close_CallsConnectionLostOnce_WithNull_OnALaterIteration()
    {
        _loop.RunBounded(async () =>
        {
            var (transport, protocol) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), new IPEndPoint(IPAddress.Loopback, 0));
            var recorder = (RecordingDatagramProtocol)protocol;
            var socket = (Socket)transport.GetExtraInfo("socket")!;

            transport.Close();
            transport.Close();
            transport.Abort();

            Assert.Equal(0, recorder.LostCount);
            Assert.Null(await recorder.Lost);
            await _loop.YieldAsync(3);
            Assert.Equal(1, recorder.LostCount);
            Assert.Equal(["made", "lost"], recorder.Events);
            Assert.True(socket.SafeHandle.IsClosed);
        });

        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Fact]
    public void CloseInConnectionMade_NeverStartsReading_AndLosesOnce()
    {
        _loop.RunBounded(async () =>
        {
            var protocol = new ClosingProtocol();
            await _loop.CreateDatagramEndpointAsync(() => protocol, new IPEndPoint(IPAddress.Loopback, 0));

            await protocol.Recorder.Lost;
            await _loop.YieldAsync(2);

            Assert.Equal(["made", "lost"], protocol.Recorder.Events);
        });

        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Fact]
    public void ConnectedEndpoint_ToAClosedPort_GetsConnectionRefusedThroughErrorReceived_AndStaysOpen()
    {
        _loop.RunBounded(async () =>
        {
            IPEndPoint closed = UnusedUdpPort();
            var (transport, protocol) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), remoteEndPoint: closed);
            var recorder = (RecordingDatagramProtocol)protocol;

            // The first datagram draws the ICMP port-unreachable; the error surfaces on a later receive or send.
            Exception? error = null;
            for (int attempt = 0; attempt < 100 && !recorder.TryTakeError(out error); attempt++)
            {
                transport.SendTo("ping"u8);
                await _loop.SleepAsync(TimeSpan.FromMilliseconds(20));
            }

            var refused = Assert.IsType<ConnectionRefusedException>(error);
            Assert.Contains(closed.ToString(), refused.Message);
            Assert.False(transport.IsClosing);
            Assert.Equal(0, recorder.LostCount);
            transport.SendTo("still open"u8);
            transport.Close();
            Assert.Null(await recorder.Lost);
        });
    }

    [Fact]
    public void SendTo_OnAConnectedEndpoint_ToAnotherAddress_ThrowsArgument()
    {
        _loop.RunBounded(async () =>
        {
            var (server, client, _, _) = await CreatePairAsync("IPv4", echo: false);
            var sender = (IDatagramTransport)client;
            var serverAddress = (IPEndPoint)server.GetExtraInfo("sockname")!;

            var ex = Assert.Throws<ArgumentException>(() => sender.SendTo("x"u8, new IPEndPoint(IPAddress.Loopback, serverAddress.Port + 1)));
            Assert.Contains(serverAddress.ToString(), ex.Message);

            // The connected address itself, as a new but equal object, is accepted.
            sender.SendTo("x"u8, new IPEndPoint(IPAddress.Loopback, serverAddress.Port));
            server.Close();
            client.Close();
        });
    }

    [Fact]
    public void SendTo_OnAnUnconnectedEndpoint_WithoutDestination_ThrowsArgument()
    {
        _loop.RunBounded(async () =>
        {
            var (transport, _) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), new IPEndPoint(IPAddress.Loopback, 0));

            Assert.Throws<ArgumentException>(() => transport.SendTo("x"u8));
            Assert.Throws<ArgumentException>(() => transport.SendTo("x"u8, new IPEndPoint(IPAddress.IPv6Loopback, 9)));
            Assert.Throws<ArgumentException>(() => transport.SendTo("x"u8, new DnsEndPoint("localhost", 9)));
            transport.Close();
        });
    }

    [Fact]
    public void GetExtraInfo_NamesPeerSockAndSocket()
    {
        _loop.RunBounded(async () =>
        {
            var (server, client, _, _) = await CreatePairAsync("IPv4", echo: false);

            Assert.Equal(server.GetExtraInfo("sockname"), client.GetExtraInfo("peername"));
            Assert.Null(server.GetExtraInfo("peername"));
            Assert.IsType<Socket>(client.GetExtraInfo("socket"));
            Assert.Equal("none", client.GetExtraInfo("no-such-name", "none"));
            Assert.Contains("Open", client.ToString());
            server.Close();
            client.Close();
        });
    }

    [Fact]
    public void UnixEndpoint_Close_DeletesTheSocketFileItBound()
    {
        string path = Path.Combine(_dir.FullName, "bound.sock");
        _loop.RunBounded(async () =>
        {
            var (transport, protocol) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), new UnixDomainSocketEndPoint(path));
            Assert.True(File.Exists(path));

            transport.Close();
            await ((RecordingDatagramProtocol)protocol).Lost;
        });

        Assert.False(File.Exists(path));
    }

    [Fact]
    public void DatagramLongerThanMaxDatagramSize_IsReportedNotDelivered()
    {
        string serverPath = Path.Combine(_dir.FullName, "small.sock");
        _loop.RunBounded(async () =>
        {
            var (server, serverProtocol) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(),
                new UnixDomainSocketEndPoint(serverPath),
                options: new DatagramEndpointOptions { MaxDatagramSize = 16 });
            var recorder = (RecordingDatagramProtocol)serverProtocol;
            using var peer = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

            peer.SendTo(new byte[100], new UnixDomainSocketEndPoint(serverPath));
            peer.SendTo(new byte[16], new UnixDomainSocketEndPoint(serverPath));

            var tooLong = Assert.IsAssignableFrom<NetworkException>(await recorder.NextErrorAsync());
            Assert.Equal(SocketError.MessageSize, tooLong.SocketError);
            (byte[] data, _) = await recorder.NextDatagramAsync();
            Assert.Equal(16, data.Length);
            Assert.False(server.IsClosing);
            server.Close();
        });
    }

    [Fact]
    public void BlockedSocket_QueuesInOrder_AndPausesAboveHigh_ResumesAtLow()
    {
        // A Unix datagram sender blocks once its peer's queue or its own send buffer is full (UDP never blocks
        // on loopback: it drops instead), so it exercises the queue, the writer and flow control for real.
        string serverPath = Path.Combine(_dir.FullName, "slow.sock");
        const int Size = 1024;
        const int Count = 64;
        _loop.RunBounded(async () =>
        {
            using var receiver = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
            receiver.Bind(new UnixDomainSocketEndPoint(serverPath));
            var (client, clientProtocol) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(),
                remoteEndPoint: new UnixDomainSocketEndPoint(serverPath),
                options: new DatagramEndpointOptions { WriteBufferHighWaterMark = 8 * Size, WriteBufferLowWaterMark = 2 * Size });
            var recorder = (RecordingDatagramProtocol)clientProtocol;
            var transport = (DatagramTransport)client;

            var pausedAt = new List<int>();
            for (int i = 0; i < Count; i++)
            {
                bool wasPaused = transport.IsWritingPaused;
                client.SendTo(Datagram(i, Size));
                if (!wasPaused && transport.IsWritingPaused)
                {
                    pausedAt.Add(client.WriteBufferSize);
                }
            }

            Assert.True(client.WriteBufferSize > 8 * Size, $"the socket should have blocked; {client.WriteBufferSize} bytes queued");
            Assert.Single(pausedAt);
            Assert.Equal(9 * Size, pausedAt[0]);
            Assert.Equal(1, recorder.Events.Count(e => e == "pause"));

            // Drain slowly from the plain socket; the transport flushes as room appears.
            var buffer = new byte[Size * 2];
            int received = 0;
            int resumedAtOrBelow = -1;
            while (received < Count)
            {
                int n;
                try
                {
                    n = receiver.Receive(buffer);
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock)
                {
                    await _loop.YieldAsync(1);
                    continue;
                }

                Assert.Equal(Datagram(received, Size), buffer.AsSpan(0, n).ToArray());
                received++;
                await _loop.YieldAsync(1);
                if (resumedAtOrBelow < 0 && recorder.Events.Contains("resume"))
                {
                    resumedAtOrBelow = client.WriteBufferSize;
                }
            }

            Assert.Equal(0, client.WriteBufferSize);
            Assert.Equal(["made", "pause", "resume"], recorder.Events);
            Assert.InRange(resumedAtOrBelow, 0, 2 * Size);
            client.Close();
            await recorder.Lost;
        });

        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Fact]
    public void Close_WithDatagramsQueued_FlushesThemThenLosesConnection_AbortDropsThem()
    {
        string serverPath = Path.Combine(_dir.FullName, "flush.sock");
        _loop.RunBounded(async () =>
        {
            using var receiver = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
            receiver.Bind(new UnixDomainSocketEndPoint(serverPath));

            var (closing, closingProtocol) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), remoteEndPoint: new UnixDomainSocketEndPoint(serverPath));
            int sent = 0;
            while (closing.WriteBufferSize == 0)
            {
                closing.SendTo(Datagram(sent++, 512));
            }

            closing.Close();
            Assert.True(closing.IsClosing);
            Assert.Throws<InvalidOperationException>(() => closing.SendTo("late"u8));
            await _loop.YieldAsync(3);
            Assert.Equal(0, ((RecordingDatagramProtocol)closingProtocol).LostCount);

            var buffer = new byte[1024];
            for (int i = 0; i < sent; i++)
            {
                while (true)
                {
                    try
                    {
                        int n = receiver.Receive(buffer);
                        Assert.Equal(Datagram(i, 512), buffer.AsSpan(0, n).ToArray());
                        break;
                    }
                    catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock)
                    {
                        await _loop.YieldAsync(1);
                    }
                }
            }

            Assert.Null(await ((RecordingDatagramProtocol)closingProtocol).Lost);

            // Abort: the queue is dropped and the connection is lost at once (on the next iteration).
            var (aborting, abortingProtocol) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), remoteEndPoint: new UnixDomainSocketEndPoint(serverPath));
            while (aborting.WriteBufferSize == 0)
            {
                aborting.SendTo(new byte[512]);
            }

            aborting.Abort();
            Assert.Equal(0, aborting.WriteBufferSize);
            Assert.Null(await ((RecordingDatagramProtocol)abortingProtocol).Lost);
        });

        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Fact]
    public void Receive_InSteadyState_AllocatesNothingPerDatagram()
    {
        const int Warmup = 50;
        const int Measured = 500;
        _loop.RunBounded(async () =>
        {
            var protocol = new CountingProtocol(Warmup, Warmup + Measured);
            var (server, _) = await _loop.CreateDatagramEndpointAsync(
                () => protocol,
                new IPEndPoint(IPAddress.Loopback, 0),
                options: new DatagramEndpointOptions { ReceiveBufferSize = 4 * 1024 * 1024 });
            var target = (IPEndPoint)server.GetExtraInfo("sockname")!;
            using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            peer.Connect(target);

            // All sent up front (the receive buffer holds them), so the loop thread does nothing else while measured.
            byte[] payload = new byte[32];
            for (int i = 0; i < Warmup + Measured; i++)
            {
                peer.Send(payload);
            }

            long allocated = await protocol.Done.WaitAsync(TimeSpan.FromSeconds(10));
            server.Close();

            // The loop thread between the two marks: readiness, ReceiveFrom, the cached sender, the callback.
            Assert.True(allocated < 1024, $"{allocated} bytes allocated on the loop thread for {Measured} datagrams");
        });
    }

    private static byte[] Datagram(int index, int size)
    {
        var data = new byte[size];
        new Random(index).NextBytes(data);
        BitConverter.TryWriteBytes(data, index);
        return data;
    }

    private static IPEndPoint UnusedUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)probe.LocalEndPoint!;
    }

    /// <summary>A server endpoint and a client endpoint connected to it, of one family.</summary>
    private async Task<(ITransport Server, ITransport Client, RecordingDatagramProtocol ServerProtocol, RecordingDatagramProtocol ClientProtocol)> CreatePairAsync(string family, bool echo)
    {
        EndPoint serverAddress = family switch
        {
            "IPv4" => new IPEndPoint(IPAddress.Loopback, 0),
            "IPv6" => new IPEndPoint(IPAddress.IPv6Loopback, 0),
            _ => new UnixDomainSocketEndPoint(Path.Combine(_dir.FullName, "server.sock")),
        };

        var serverProtocol = new RecordingDatagramProtocol { Echo = echo };
        var (server, _) = await _loop.CreateDatagramEndpointAsync(() => serverProtocol, serverAddress);
        EndPoint bound = (EndPoint)server.GetExtraInfo("sockname")!;

        // A Unix client must bind a path of its own, or the server could not answer it.
        EndPoint? clientAddress = family == "Unix" ? new UnixDomainSocketEndPoint(Path.Combine(_dir.FullName, "client.sock")) : null;
        var clientProtocol = new RecordingDatagramProtocol();
        var (client, _) = await _loop.CreateDatagramEndpointAsync(() => clientProtocol, clientAddress, bound);
        return (server, client, serverProtocol, clientProtocol);
    }

    private sealed class ClosingProtocol : IDatagramProtocol
    {
        public RecordingDatagramProtocol Recorder { get; } = new();

        public void ConnectionMade(ITransport transport)
        {
            Recorder.ConnectionMade(transport);
            transport.Close();
        }

        public void DatagramReceived(ReadOnlySpan<byte> data, EndPoint from) => Recorder.DatagramReceived(data, from);

        public void ConnectionLost(Exception? exception) => Recorder.ConnectionLost(exception);
    }

    /// <summary>Counts datagrams; measures the loop thread's allocations between two counts.</summary>
    private sealed class CountingProtocol(int start, int end) : IDatagramProtocol
    {
        private readonly TaskCompletionSource<long> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _count;
        private long _startBytes;

        public Task<long> Done => _done.Task;

        public void ConnectionMade(ITransport transport)
        {
        }

        public void DatagramReceived(ReadOnlySpan<byte> data, EndPoint from)
        {
            _count++;
            if (_count == start)
            {
                _startBytes = GC.GetAllocatedBytesForCurrentThread();
            }
            else if (_count == end)
            {
                _done.TrySetResult(GC.GetAllocatedBytesForCurrentThread() - _startBytes);
            }
        }

        public void ConnectionLost(Exception? exception)
        {
        }
    }
}
