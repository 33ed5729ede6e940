using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

public sealed class ServerTests : IDisposable
{
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;
    private const int SoReusePort = 15;

    private readonly StreamTestLoop _test = new();

    public static TheoryData<string> Families => ["tcp4", "tcp6", "unix"];

    public void Dispose() => _test.Dispose();

    [Theory]
    [MemberData(nameof(Families))]
    public void Close_StopsAccepting_NewConnectsAreRefused_AcceptedOnesLiveOn(string family) => _test.Run(async () =>
    {
        StreamFamily f = Pick(family);
        var serverProtocol = new EchoProtocol();
        Server server = await f.CreateServerAsync(_test.Loop, () => serverProtocol);
        Assert.True(server.IsServing);
        (string address, _) = Describe(server);
        (IStreamTransport client, RecordingProtocol protocol) = await f.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        await serverProtocol.Made;
        Assert.Equal(1, server.ConnectionCount);

        Server closing = server;
        closing.Close();
        closing.Close();
        Assert.False(server.IsServing);
        Assert.True(server.IsClosed);
        Assert.Empty(server.Sockets);
        Task waitClosed = server.WaitClosedAsync();
        Assert.False(waitClosed.IsCompleted, "an accepted connection is still open");

        var refused = await Assert.ThrowsAsync<ConnectionRefusedException>(() => ConnectTo(f, address));
        Assert.Contains(address, refused.Message, StringComparison.Ordinal);

        // The accepted connection still echoes.
        client.Write("still here"u8);
        await protocol.WaitForBytesAsync(10);
        client.Close();
        await waitClosed;
        Assert.Equal(0, server.ConnectionCount);
        Assert.Throws<InvalidOperationException>(server.StartServing);
        if (family == "unix")
        {
            Assert.False(File.Exists(address), "closing a Unix server removes its socket file");
        }
    });

    [Fact]
    public void StartServingFalse_AcceptsOnlyAfterStartServing() => _test.Run(async () =>
    {
        var protocols = new List<RecordingProtocol>();
        Server server = await _test.Loop.CreateServerAsync(
            () =>
            {
                var p = new RecordingProtocol();
                protocols.Add(p);
                return p;
            },
            "127.0.0.1",
            0,
            new ServerOptions { StartServing = false });
        Assert.False(server.IsServing);
        Assert.Matches(@"^Server\(127\.0\.0\.1:\d+, NotServing, Connections=0\)$", server.ToString());

        // The kernel completes the handshake from the backlog, but no protocol exists until serving starts.
        (IStreamTransport client, RecordingProtocol _) = await StreamFamily.Tcp4.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(20));
        Assert.Empty(protocols);

        server.StartServing();
        server.StartServing();
        Assert.True(server.IsServing);
        while (protocols.Count == 0)
        {
            await _test.YieldAsync(1);
        }

        await protocols[0].Made;
        client.Close();
        await protocols[0].Lost;
        await server.DisposeAsync();
    });

    [Fact]
    public void Close_FromInsideTheProtocolFactory_EndsTheAcceptBurstCleanly() => _test.Run(async () =>
    {
        Server? server = null;
        var made = new List<RecordingProtocol>();
        server = await _test.Loop.CreateServerAsync(
            () =>
            {
                server!.Close();
                var p = new RecordingProtocol();
                made.Add(p);
                return p;
            },
            "127.0.0.1",
            0,
            new ServerOptions { StartServing = false });

        // Three connections wait in the backlog, so one readiness finds several to accept.
        EndPoint endPoint = server.Sockets[0].LocalEndPoint!;
        var peers = new List<Socket>();
        for (int i = 0; i < 3; i++)
        {
            var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            peer.Connect(endPoint);
            peers.Add(peer);
        }

        server.StartServing();
        while (made.Count == 0)
        {
            await _test.YieldAsync(1);
        }

        await _test.YieldAsync();
        Assert.Single(made);
        Assert.Empty(_test.HandlerReports);
        peers.ForEach(p => p.Dispose());
        Assert.Null(await made[0].Lost);
        await server.WaitClosedAsync();
    });

    [Fact]
    public void CloseClientsAndAbortClients_EndAcceptedConnections() => _test.Run(async () =>
    {
        var serverProtocols = new List<RecordingProtocol>();
        Server server = await _test.Loop.CreateServerAsync(
            () =>
            {
                var p = new RecordingProtocol();
                serverProtocols.Add(p);
                return p;
            },
            "127.0.0.1",
            0);
        (IStreamTransport _, RecordingProtocol a) = await StreamFamily.Tcp4.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        (IStreamTransport _, RecordingProtocol b) = await StreamFamily.Tcp4.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        while (serverProtocols.Count < 2)
        {
            await _test.YieldAsync(1);
        }

        server.Close();
        server.CloseClients();
        await a.EofTask;
        await b.EofTask;
        await server.WaitClosedAsync();
        Assert.All(serverProtocols, p => Assert.Equal(1, p.LostCount));
    });

    [Fact]
    public void ReusePort_LetsTwoServersShareAPort_WithoutIt_AddressInUseNamesTheAddress() => _test.Run(async () =>
    {
        var options = new ServerOptions { ReusePort = true };
        Server first = await _test.Loop.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 0, options);
        int port = ((IPEndPoint)first.Sockets[0].LocalEndPoint!).Port;
        Assert.Equal(1, SocketSetup.GetRawInt(first.Sockets[0], SolSocket, SoReusePort));
        Assert.NotEqual(0, SocketSetup.GetRawInt(first.Sockets[0], SolSocket, SoReuseAddr));

        Server second = await _test.Loop.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", port, options);
        Assert.Equal(port, ((IPEndPoint)second.Sockets[0].LocalEndPoint!).Port);

        var inUse = await Assert.ThrowsAsync<AddressInUseException>(() => _test.Loop.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", port));
        Assert.Contains($"127.0.0.1:{port}", inUse.Message, StringComparison.Ordinal);

        await first.DisposeAsync();
        await second.DisposeAsync();
    });

    [Fact]
    public void DefaultOptions_SetReuseAddressButNotReusePort() => _test.Run(async () =>
    {
        Server server = await _test.Loop.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 0);
        Assert.NotEqual(0, SocketSetup.GetRawInt(server.Sockets[0], SolSocket, SoReuseAddr));
        Assert.Equal(0, SocketSetup.GetRawInt(server.Sockets[0], SolSocket, SoReusePort));
        await server.DisposeAsync();
    });

    [Fact]
    public void ConnectionOptions_AreAppliedToAcceptedAndConnectedSockets() => _test.Run(async () =>
    {
        var serverProtocol = new RecordingProtocol();
        Server server = await _test.Loop.CreateServerAsync(() => serverProtocol, "127.0.0.1", 0, new ServerOptions { KeepAlive = true, Cork = true, NoDelay = false });
        (IStreamTransport client, RecordingProtocol _) = await StreamFamily.Tcp4.ConnectAsync(
            _test.Loop, server, () => new RecordingProtocol(), new ConnectionOptions { KeepAlive = true, SendBufferSize = 8192, ReceiveBufferSize = 8192 });
        await serverProtocol.Made;

        var accepted = (Socket)serverProtocol.Transport.GetExtraInfo("socket")!;
        Assert.Equal(1, (int)accepted.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!);
        Assert.Equal(1, SocketSetup.GetRawInt(accepted, 6, 3));
        var connected = (Socket)client.GetExtraInfo("socket")!;
        Assert.True(connected.NoDelay);
        Assert.Equal(1, (int)connected.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!);
        Assert.Equal(0, SocketSetup.GetRawInt(connected, 6, 3));
        Assert.True(connected.SendBufferSize >= 8192);
        client.Close();
        await server.DisposeAsync();
    });

    [Fact]
    public void UnixServer_ReplacesAStaleSocketFile_ButNotALiveOne() => _test.Run(async () =>
    {
        // .NET removes a socket's file when the socket is disposed; moving the file away first leaves a stale
        // socket file behind, as a server that crashed would.
        string path = StreamFamily.TempSocketPath();
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            string original = StreamFamily.TempSocketPath();
            dead.Bind(new UnixDomainSocketEndPoint(original));
            File.Move(original, path);
        }

        Assert.True(File.Exists(path));
        Server server = await _test.Loop.CreateUnixServerAsync(() => new EchoProtocol(), path);
        var inUse = await Assert.ThrowsAsync<AddressInUseException>(() => _test.Loop.CreateUnixServerAsync(() => new EchoProtocol(), path));
        Assert.Contains(path, inUse.Message, StringComparison.Ordinal);
        await server.DisposeAsync();
    });

    [Fact]
    public void Options_OutOfRange_ThrowAtOnce()
    {
        var loop = _test.Loop;
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(() => loop.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 0, new ServerOptions { Backlog = 0 })));
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(() => loop.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 70000)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(() => loop.CreateConnectionAsync(() => new EchoProtocol(), "127.0.0.1", 1, new ConnectionOptions { ReadBufferSize = 0 })));
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(() => loop.CreateConnectionAsync(
            () => new EchoProtocol(), "127.0.0.1", 1, new ConnectionOptions { WriteBufferHighWaterMark = 10, WriteBufferLowWaterMark = 20 })));
        Assert.Throws<ArgumentException>(() => Start(() => loop.CreateConnectionAsync(() => new EchoProtocol(), string.Empty, 1)));
        Assert.Throws<ArgumentNullException>(() => Start(() => loop.CreateUnixConnectionAsync<EchoProtocol>(null!, "/x")));

        // Argument errors throw synchronously, before any task exists.
        static void Start(Func<Task> call) => _ = call();
    }

    private static StreamFamily Pick(string family) => family switch
    {
        "tcp4" => StreamFamily.Tcp4,
        "tcp6" => StreamFamily.Tcp6,
        _ => StreamFamily.Unix,
    };

    private static (string Address, EndPoint EndPoint) Describe(Server server)
    {
        EndPoint endPoint = server.Sockets[0].LocalEndPoint!;
        return (SocketErrors.Describe(endPoint)!, endPoint);
    }

    private Task ConnectTo(StreamFamily family, string address)
    {
        if (!family.IsTcp)
        {
            return _test.Loop.CreateUnixConnectionAsync(() => new RecordingProtocol(), address);
        }

        var endPoint = IPEndPoint.Parse(address);
        return _test.Loop.CreateConnectionAsync(() => new RecordingProtocol(), endPoint.Address.ToString(), endPoint.Port);
    }
}
