using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary><see cref="EventLoop.CreateDatagramEndpointAsync"/>: arguments, options, names and setup failures.</summary>
public sealed class DatagramEndpointTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("asyncnet-dgram-ep-");

    public void Dispose()
    {
        _loop.Close();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public void CreateDatagramEndpointAsync_WithoutEndpointsOrFamily_ThrowsArgumentAtOnce()
    {
        Assert.Throws<ArgumentException>(() => Create(null, null));
    }

    [Fact]
    public void CreateDatagramEndpointAsync_EndpointsOfDifferentFamilies_ThrowsArgumentAtOnce()
    {
        Assert.Throws<ArgumentException>(() => Create(new IPEndPoint(IPAddress.Loopback, 0), new IPEndPoint(IPAddress.IPv6Loopback, 9)));
        Assert.Throws<ArgumentException>(() => Create(
            new IPEndPoint(IPAddress.Loopback, 0), null, new DatagramEndpointOptions { Family = AddressFamily.InterNetworkV6 }));
    }

    [Fact]
    public void CreateDatagramEndpointAsync_HighMarkBelowLowMark_ThrowsArgumentOutOfRangeAtOnce()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Create(
            new IPEndPoint(IPAddress.Loopback, 0), null, new DatagramEndpointOptions { WriteBufferHighWaterMark = 10, WriteBufferLowWaterMark = 20 }));
    }

    [Fact]
    public void WriteBufferLimits_DefaultTo64KiBAnd16KiB_AndLowAloneSetsHighToFourTimesIt()
    {
        _loop.RunBounded(async () =>
        {
            var (defaults, _) = await _loop.CreateDatagramEndpointAsync(() => new RecordingDatagramProtocol(), new IPEndPoint(IPAddress.Loopback, 0));
            var (lowOnly, _) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(),
                new IPEndPoint(IPAddress.Loopback, 0),
                options: new DatagramEndpointOptions { WriteBufferLowWaterMark = 1000 });

            Assert.Equal(64 * 1024, ((DatagramTransport)defaults).WriteBufferHighWaterMark);
            Assert.Equal(16 * 1024, ((DatagramTransport)defaults).WriteBufferLowWaterMark);
            Assert.Equal(4000, ((DatagramTransport)lowOnly).WriteBufferHighWaterMark);
            defaults.Close();
            lowOnly.Close();
        });
    }

    [Fact]
    public void FamilyOnly_MakesAnUnboundUnconnectedEndpoint_ThatCanSendAnywhere()
    {
        _loop.RunBounded(async () =>
        {
            var serverProtocol = new RecordingDatagramProtocol();
            var (server, _) = await _loop.CreateDatagramEndpointAsync(() => serverProtocol, new IPEndPoint(IPAddress.Loopback, 0));
            var (client, _) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), options: new DatagramEndpointOptions { Family = AddressFamily.InterNetwork });

            client.SendTo("hi"u8, (EndPoint)server.GetExtraInfo("sockname")!);
            (byte[] data, EndPoint from) = await serverProtocol.NextDatagramAsync();

            Assert.Equal("hi"u8.ToArray(), data);
            var bound = Assert.IsType<IPEndPoint>(client.GetExtraInfo("sockname"));
            Assert.Equal(IPAddress.Any, bound.Address);
            Assert.Equal(bound.Port, ((IPEndPoint)from).Port);
            server.Close();
            client.Close();
        });
    }

    [Fact]
    public void DnsEndPoint_IsResolved_ThenBound()
    {
        _loop.RunBounded(async () =>
        {
            var (transport, _) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), new DnsEndPoint("localhost", 0, AddressFamily.InterNetwork));

            var bound = Assert.IsType<IPEndPoint>(transport.GetExtraInfo("sockname"));
            Assert.True(IPAddress.IsLoopback(bound.Address));
            Assert.NotEqual(0, bound.Port);
            transport.Close();
        });
    }

    [Fact]
    public void BindingAPortInUse_FailsWithAddressInUse_NamingTheAddress()
    {
        _loop.RunBounded(async () =>
        {
            var (first, _) = await _loop.CreateDatagramEndpointAsync(() => new RecordingDatagramProtocol(), new IPEndPoint(IPAddress.Loopback, 0));
            var taken = (IPEndPoint)first.GetExtraInfo("sockname")!;

            var ex = await Assert.ThrowsAsync<AddressInUseException>(
                () => _loop.CreateDatagramEndpointAsync(() => new RecordingDatagramProtocol(), taken));

            Assert.Contains(taken.ToString(), ex.Message);
            Assert.Equal(taken.ToString(), ex.Address);
            first.Close();
        });
    }

    [Fact]
    public void ReusePort_LetsTwoEndpointsBindOnePort()
    {
        _loop.RunBounded(async () =>
        {
            var options = new DatagramEndpointOptions { ReusePort = true };
            var (first, _) = await _loop.CreateDatagramEndpointAsync(() => new RecordingDatagramProtocol(), new IPEndPoint(IPAddress.Loopback, 0), options: options);
            var port = (IPEndPoint)first.GetExtraInfo("sockname")!;

            var (second, _) = await _loop.CreateDatagramEndpointAsync(() => new RecordingDatagramProtocol(), port, options: options);

            Assert.Equal(port, second.GetExtraInfo("sockname"));
            first.Close();
            second.Close();
        });
    }

    [Fact]
    public void Options_AreAppliedToTheSocket()
    {
        _loop.RunBounded(async () =>
        {
            var (transport, _) = await _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(),
                new IPEndPoint(IPAddress.Loopback, 0),
                options: new DatagramEndpointOptions { AllowBroadcast = true, ReceiveBufferSize = 256 * 1024, SendBufferSize = 128 * 1024 });
            var socket = (Socket)transport.GetExtraInfo("socket")!;

            Assert.True(socket.EnableBroadcast);
            Assert.False(socket.Blocking);
            Assert.True(socket.ReceiveBufferSize >= 256 * 1024);
            Assert.True(socket.SendBufferSize >= 128 * 1024);
            transport.Close();
        });
    }

    [Fact]
    public void ProtocolFactoryThrowing_FailsTheTask_AndReleasesTheSocket()
    {
        _loop.RunBounded(async () =>
        {
            var address = new IPEndPoint(IPAddress.Loopback, FreeUdpPort());
            int registrations = _loop.Selector.Count;

            await Assert.ThrowsAsync<InvalidDataException>(
                () => _loop.CreateDatagramEndpointAsync(() => throw new InvalidDataException("no protocol"), address));

            // The port is free again: the socket was closed.
            var (again, _) = await _loop.CreateDatagramEndpointAsync(() => new RecordingDatagramProtocol(), address);
            Assert.Equal(registrations + 1, _loop.Selector.Count);
            again.Close();
        });
    }

    [Fact]
    public void UnixRemoteThatDoesNotExist_FailsThroughTheTask_NamingThePath()
    {
        string missing = Path.Combine(_dir.FullName, "missing.sock");
        _loop.RunBounded(async () =>
        {
            var ex = await Assert.ThrowsAnyAsync<NetworkException>(
                () => _loop.CreateDatagramEndpointAsync(() => new RecordingDatagramProtocol(), remoteEndPoint: new UnixDomainSocketEndPoint(missing)));

            Assert.Contains(missing, ex.Message);
        });
    }

    [Fact]
    public void UnixBind_WhereAFileExists_FailsWithAddressInUse_AndLeavesTheFile()
    {
        string path = Path.Combine(_dir.FullName, "stale.sock");
        File.WriteAllText(path, "not a socket");
        _loop.RunBounded(async () =>
        {
            var ex = await Assert.ThrowsAsync<AddressInUseException>(
                () => _loop.CreateDatagramEndpointAsync(() => new RecordingDatagramProtocol(), new UnixDomainSocketEndPoint(path)));

            Assert.Contains(path, ex.Message);
        });

        Assert.Equal("not a socket", File.ReadAllText(path));
    }

    [Fact]
    public void CancelledToken_FailsWithOperationCanceled()
    {
        _loop.RunBounded(async () =>
        {
            using var cts = new CancellationTokenSource();
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _loop.CreateDatagramEndpointAsync(
                () => new RecordingDatagramProtocol(), new IPEndPoint(IPAddress.Loopback, 0), cancellationToken: cts.Token));
        });
    }

    /// <summary>Starts a creation whose task is dropped: for argument errors, which throw before any task exists.</summary>
    private void Create(EndPoint? local, EndPoint? remote, DatagramEndpointOptions? options = null) =>
        _ = _loop.CreateDatagramEndpointAsync(() => new RecordingDatagramProtocol(), local, remote, options);

    private static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
