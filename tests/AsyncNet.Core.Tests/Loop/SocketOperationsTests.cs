using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;

namespace AsyncNet.Tests.Loop;

/// <summary>The socket awaitables (asyncio's <c>sock_*</c>) over real sockets: 127.0.0.1, ::1 and Unix paths.</summary>
public sealed class SocketOperationsTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("asyncnet-sock-");
    private readonly List<Socket> _sockets = [];
    private readonly int _baseRegistrations;

    public SocketOperationsTests() => _baseRegistrations = _loop.Selector.Count;

    public static TheoryData<string> Families => ["IPv4", "IPv6", "Unix"];

    public void Dispose()
    {
        foreach (Socket socket in _sockets)
        {
            socket.Dispose();
        }

        _loop.Close();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public void SockRecvIntoAsync_DataAlreadyThere_CompletesSynchronously()
    {
        var (local, peer) = ConnectedPair("IPv4");
        peer.Send("ready"u8);
        WaitReadable(local);

        _loop.RunBounded(async () =>
        {
            var buffer = new byte[16];
            ValueTask<int> receive = _loop.SockRecvIntoAsync(local, buffer);

            Assert.True(receive.IsCompletedSuccessfully);
            Assert.Equal("ready"u8.ToArray(), buffer.AsSpan(0, await receive).ToArray());
        });
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void SockRecvIntoAsync_WaitsUntilThePeerSendsLater_ThenUnregisters(string family)
    {
        var (local, peer) = ConnectedPair(family);
        int fd = (int)local.Handle;

        _loop.RunBounded(async () =>
        {
            var buffer = new byte[16];
            ValueTask<int> receive = _loop.SockRecvIntoAsync(local, buffer);
            Assert.False(receive.IsCompleted);
            Assert.True(_loop.Selector.TryGetKey(fd, out _));

            _loop.CallLater(TimeSpan.FromMilliseconds(30), () => peer.Send("later"u8));
            int received = await receive;

            Assert.Equal("later"u8.ToArray(), buffer.AsSpan(0, received).ToArray());
            Assert.False(_loop.Selector.TryGetKey(fd, out _));
        });

        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Fact]
    public void SockRecvIntoAsync_AtEndOfStream_ReturnsZero_AndSockRecvAsyncReturnsEmpty()
    {
        var (local, peer) = ConnectedPair("IPv4");

        _loop.RunBounded(async () =>
        {
            ValueTask<int> receive = _loop.SockRecvIntoAsync(local, new byte[16]);
            _loop.CallLater(TimeSpan.FromMilliseconds(20), () => peer.Shutdown(SocketShutdown.Send));

            Assert.Equal(0, await receive);
            Assert.Empty(await _loop.SockRecvAsync(local, 16));
        });
    }

    [Fact]
    public void SockRecvAsync_ReturnsExactlyTheBytesReceived()
    {
        var (local, peer) = ConnectedPair("Unix");

        _loop.RunBounded(async () =>
        {
            ValueTask<byte[]> receive = _loop.SockRecvAsync(local, 1024);
            _loop.CallLater(TimeSpan.FromMilliseconds(20), () => peer.Send("seven!!"u8));

            Assert.Equal("seven!!"u8.ToArray(), await receive);
            Assert.Empty(await _loop.SockRecvAsync(local, 0));
        });
    }

    [Fact]
    public void SockSendAllAsync_SeveralMiB_ToASlowReader_DeliversEveryByteInOrder()
    {
        byte[] data = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
        var (local, peer) = ConnectedPair("IPv4");
        local.SendBufferSize = 16 * 1024;
        peer.ReceiveBufferSize = 16 * 1024;
        peer.Blocking = true;
        peer.ReceiveTimeout = 20_000;

        // The peer is not the loop's: a plain thread reads it slowly, in small pieces with pauses.
        var received = new MemoryStream();
        var reader = new Thread(() =>
        {
            var chunk = new byte[8 * 1024];
            int reads = 0;
            while (true)
            {
                int n = peer.Receive(chunk);
                if (n == 0)
                {
                    break;
                }

                received.Write(chunk, 0, n);
                if (++reads % 64 == 0)
                {
                    Thread.Sleep(1);
                }
            }
        }) { IsBackground = true };
        reader.Start();

        _loop.RunBounded(async () =>
        {
            ValueTask send = _loop.SockSendAllAsync(local, data);
            Assert.False(send.IsCompleted, "4 MiB cannot fit a 16 KiB send buffer: the send must wait");

            await send;
            local.Shutdown(SocketShutdown.Send);
        });

        Assert.True(reader.Join(TimeSpan.FromSeconds(20)));
        Assert.Equal(data.Length, received.Length);
        Assert.True(data.AsSpan().SequenceEqual(received.GetBuffer().AsSpan(0, (int)received.Length)), "the bytes differ");
        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Fact]
    public void SockSendAllAsync_EmptyData_CompletesAtOnce()
    {
        var (local, _) = ConnectedPair("IPv4");

        _loop.RunBounded(() =>
        {
            Assert.True(_loop.SockSendAllAsync(local, ReadOnlyMemory<byte>.Empty).IsCompletedSuccessfully);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void SockSendAllAsync_ToAResetPeer_FailsWithATypedError()
    {
        var (local, peer) = ConnectedPair("IPv4");
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();

        _loop.RunBounded(async () =>
        {
            var chunk = new byte[64 * 1024];
            var ex = await Assert.ThrowsAnyAsync<NetworkException>(async () =>
            {
                for (int i = 0; i < 1000; i++)
                {
                    await _loop.SockSendAllAsync(local, chunk);
                }
            });

            Assert.True(ex is ConnectionResetException or BrokenPipeException, ex.ToString());
        });
    }

    [Fact]
    public void SockRecvIntoAsync_CancelledFromAnotherThread_ThrowsOperationCanceled_Unregisters_AndConsumesNothing()
    {
        var (local, peer) = ConnectedPair("IPv4");
        int fd = (int)local.Handle;

        _loop.RunBounded(async () =>
        {
            using var cts = new CancellationTokenSource();
            var buffer = new byte[16];
            ValueTask<int> receive = _loop.SockRecvIntoAsync(local, buffer, cts.Token);
            Assert.True(_loop.Selector.TryGetKey(fd, out _));

            // The timer fires on a pool thread: the cancellation is marshalled to the loop.
            cts.CancelAfter(TimeSpan.FromMilliseconds(20));
            var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await receive);

            Assert.Equal(cts.Token, ex.CancellationToken);
            Assert.False(_loop.Selector.TryGetKey(fd, out _));

            // Nothing was consumed, and the socket is free for the next call.
            peer.Send("after"u8);
            Assert.Equal("after"u8.ToArray(), await _loop.SockRecvAsync(local, 16));
        });

        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Fact]
    public void SockRecvIntoAsync_CancelledOnTheLoopThread_ThrowsOperationCanceled_AndUnregisters()
    {
        var (local, _) = ConnectedPair("Unix");
        int fd = (int)local.Handle;

        _loop.RunBounded(async () =>
        {
            using var cts = new CancellationTokenSource();
            ValueTask<int> receive = _loop.SockRecvIntoAsync(local, new byte[16], cts.Token);

            _loop.CallLater(TimeSpan.FromMilliseconds(10), cts.Cancel);

            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await receive);
            Assert.False(_loop.Selector.TryGetKey(fd, out _));
        });
    }

    [Fact]
    public void SockRecvIntoAsync_AlreadyCancelledToken_ReturnsCancelledWithoutTouchingTheSocket()
    {
        var (local, peer) = ConnectedPair("IPv4");
        peer.Send("kept"u8);
        WaitReadable(local);

        _loop.RunBounded(async () =>
        {
            ValueTask<int> receive = _loop.SockRecvIntoAsync(local, new byte[16], new CancellationToken(canceled: true));

            Assert.True(receive.IsCanceled);
            Assert.Equal("kept"u8.ToArray(), await _loop.SockRecvAsync(local, 16));
        });
    }

    [Fact]
    public void SockRecvIntoAsync_WhileAnotherReceiveWaits_ThrowsInvalidOperation()
    {
        var (local, peer) = ConnectedPair("IPv4");

        _loop.RunBounded(async () =>
        {
            ValueTask<int> first = _loop.SockRecvIntoAsync(local, new byte[16]);

            Assert.Throws<InvalidOperationException>(() => _loop.SockRecvIntoAsync(local, new byte[16]));

            peer.Send("one"u8);
            Assert.Equal(3, await first);
        });
    }

    [Fact]
    public void SockOperations_OnABlockingSocket_ThrowArgument()
    {
        var (local, _) = ConnectedPair("IPv4");
        local.Blocking = true;

        var ex = Assert.Throws<ArgumentException>(() => _loop.SockRecvIntoAsync(local, new byte[1]));
        Assert.Contains("non-blocking", ex.Message);
        Assert.Throws<ArgumentException>(() => _loop.SockSendAllAsync(local, new byte[1]));
        Assert.Throws<ArgumentException>(() => _loop.SockAcceptAsync(local));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void SockConnectAsync_ThenSockAcceptAsync_ConnectsBothEnds(string family)
    {
        Socket listener = Listen(family);
        Socket client = Track(NewSocket(family));

        _loop.RunBounded(async () =>
        {
            ValueTask<(Socket Socket, EndPoint RemoteEndPoint)> accept = _loop.SockAcceptAsync(listener);
            await _loop.SockConnectAsync(client, listener.LocalEndPoint!);
            (Socket accepted, EndPoint remote) = await accept;
            Track(accepted);

            Assert.True(client.Connected);
            Assert.False(accepted.Blocking);
            if (family != "Unix")
            {
                Assert.Equal(client.LocalEndPoint, remote);
            }

            await _loop.SockSendAllAsync(client, "ping"u8.ToArray());
            Assert.Equal("ping"u8.ToArray(), await _loop.SockRecvAsync(accepted, 16));
        });

        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Fact]
    public void SockAcceptAsync_WaitsForALaterConnection()
    {
        Socket listener = Listen("IPv4");
        Socket client = Track(NewSocket("IPv4"));
        client.Blocking = true;

        _loop.RunBounded(async () =>
        {
            ValueTask<(Socket Socket, EndPoint RemoteEndPoint)> accept = _loop.SockAcceptAsync(listener);
            Assert.False(accept.IsCompleted);

            // The accept is pending (checked above): the connection comes later, from another thread.
            Task connect = Task.Run(() => client.Connect(listener.LocalEndPoint!));
            (Socket accepted, _) = await accept;
            Track(accepted);
            await connect.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);
        });
    }

    [Fact]
    public void SockAcceptAsync_Cancelled_Unregisters()
    {
        Socket listener = Listen("Unix");
        int fd = (int)listener.Handle;

        _loop.RunBounded(async () =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await _loop.SockAcceptAsync(listener, cts.Token));

            Assert.False(_loop.Selector.TryGetKey(fd, out _));
        });
    }

    [Theory]
    [InlineData("IPv4")]
    [InlineData("IPv6")]
    public void SockConnectAsync_NothingListening_ThrowsConnectionRefused_NamingTheAddress(string family)
    {
        IPEndPoint closed = UnusedTcpPort(family);
        Socket client = Track(NewSocket(family));

        _loop.RunBounded(async () =>
        {
            var ex = await Assert.ThrowsAsync<ConnectionRefusedException>(async () => await _loop.SockConnectAsync(client, closed));

            Assert.Contains(closed.ToString(), ex.Message);
            Assert.Equal(closed.ToString(), ex.Address);
        });

        Assert.Equal(_baseRegistrations, _loop.Selector.Count);
    }

    [Fact]
    public void SockConnectAsync_ToAMissingUnixPath_FailsNamingThePath()
    {
        string missing = Path.Combine(_dir.FullName, "nobody.sock");
        Socket client = Track(NewSocket("Unix"));

        _loop.RunBounded(async () =>
        {
            var ex = await Assert.ThrowsAnyAsync<NetworkException>(async () => await _loop.SockConnectAsync(client, new UnixDomainSocketEndPoint(missing)));

            Assert.Contains(missing, ex.Message);
        });
    }

    [Fact]
    public void SockConnectAsync_WithADnsEndPoint_ResolvesThenConnects()
    {
        Socket listener = Listen("IPv4");
        Socket client = Track(NewSocket("IPv4"));
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        _loop.RunBounded(async () =>
        {
            await _loop.SockConnectAsync(client, new DnsEndPoint("localhost", port));
            (Socket accepted, _) = await _loop.SockAcceptAsync(listener);
            Track(accepted);

            Assert.Equal(listener.LocalEndPoint, client.RemoteEndPoint);
        });
    }

    [Fact]
    public void SockRecvIntoAsync_FromAnotherThreadWhileTheLoopRuns_ThrowsInvalidOperation()
    {
        var (local, _) = ConnectedPair("IPv4");

        _loop.RunBounded(async () =>
        {
            Exception? thrown = await Task.Run(() => Record.Exception(() => _loop.SockRecvIntoAsync(local, new byte[1])));

            Assert.IsType<InvalidOperationException>(thrown);
        });
    }

    private static void WaitReadable(Socket socket) => Assert.True(socket.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectRead));

    private static IPEndPoint UnusedTcpPort(string family)
    {
        using Socket probe = NewSocketStatic(family);
        probe.Bind(new IPEndPoint(family == "IPv6" ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0));
        return (IPEndPoint)probe.LocalEndPoint!;
    }

    private static Socket NewSocketStatic(string family) => family switch
    {
        "IPv4" => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false },
        "IPv6" => new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { Blocking = false },
        _ => new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { Blocking = false },
    };

    private Socket NewSocket(string family) => NewSocketStatic(family);

    private Socket Track(Socket socket)
    {
        _sockets.Add(socket);
        return socket;
    }

    private Socket Listen(string family)
    {
        Socket listener = Track(NewSocket(family));
        listener.Bind(family switch
        {
            "IPv4" => new IPEndPoint(IPAddress.Loopback, 0),
            "IPv6" => new IPEndPoint(IPAddress.IPv6Loopback, 0),
            _ => new UnixDomainSocketEndPoint(Path.Combine(_dir.FullName, $"listen-{_sockets.Count}.sock")),
        });
        listener.Listen();
        return listener;
    }

    /// <summary>A connected pair made with plain blocking calls; both ends non-blocking after.</summary>
    private (Socket Local, Socket Peer) ConnectedPair(string family)
    {
        using Socket listener = NewSocket(family);
        listener.Blocking = true;
        listener.Bind(family switch
        {
            "IPv4" => new IPEndPoint(IPAddress.Loopback, 0),
            "IPv6" => new IPEndPoint(IPAddress.IPv6Loopback, 0),
            _ => new UnixDomainSocketEndPoint(Path.Combine(_dir.FullName, $"pair-{_sockets.Count}.sock")),
        });
        listener.Listen();
        Socket local = Track(NewSocket(family));
        local.Blocking = true;
        local.Connect(listener.LocalEndPoint!);
        Socket peer = Track(listener.Accept());
        local.Blocking = false;
        peer.Blocking = false;
        return (local, peer);
    }
}
