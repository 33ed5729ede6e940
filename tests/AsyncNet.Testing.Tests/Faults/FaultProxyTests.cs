using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Testing.Faults;
using AsyncNet.Transports;
using static AsyncNet.Testing.Tests.Support.ProxyTestLoop;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Testing.Tests.Faults;

/// <summary>
/// The proxy without faults, and its life: it forwards bytes and EOFs both ways over every family, resets a client
/// whose upstream cannot be reached, runs on its own loop, applies fault changes to open connections, and closes
/// everything when disposed.
/// </summary>
public sealed class FaultProxyTests : IDisposable
{
    private readonly ProxyTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Theory]
    [MemberData(nameof(Families), MemberType = typeof(ProxyTestLoop))]
    public void NoFaults_ForwardsEveryByteBothWays_ThenTheEofs(string family)
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync, family);
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream, family: family))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                byte[] sent = RandomBytes(1024 * 1024);
                Task<byte[]> echoed = ReadToEndAsync(reader);
                for (int offset = 0; offset < sent.Length; offset += 10_000)
                {
                    writer.Write(sent.AsSpan(offset, Math.Min(10_000, sent.Length - offset)));
                    await writer.DrainAsync();
                }

                writer.WriteEof();
                Assert.Equal(Sha256(sent), Sha256(await echoed));
                Assert.Equal(sent.Length, proxy.GetForwardedBytes(FaultDirection.ClientToUpstream));
                Assert.Equal(sent.Length, proxy.GetForwardedBytes(FaultDirection.UpstreamToClient));
                Assert.Equal(0, proxy.GetDroppedBytes(FaultDirection.ClientToUpstream) + proxy.GetDroppedBytes(FaultDirection.UpstreamToClient));

                // Both directions ended: the proxy closes both sides and forgets the connection.
                writer.Close();
                await writer.WaitClosedAsync();
                await _test.WaitUntilAsync(() => proxy.ConnectionCount == 0, "the proxy has forgotten the connection");
                Assert.Equal(1, proxy.AcceptedCount);
            }

            Assert.Empty(_test.HandlerReports);
        });
    }

    [Fact]
    public void ClientHalfCloses_UpstreamStillAnswers_ThroughTheHalfOpenConnection()
    {
        _test.Run(async () =>
        {
            // The upstream reads the whole request (to EOF), then answers and closes.
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(async (reader, writer) =>
            {
                byte[] request = await ReadToEndAsync(reader);
                writer.Write(Bytes.Ascii($"got {request.Length} bytes"));
                await writer.DrainAsync();
                writer.Close();
            });
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                writer.Write(RandomBytes(5000));
                writer.WriteEof();
                Assert.Equal("got 5000 bytes", Bytes.Text(await ReadToEndAsync(reader)));
            }
        });
    }

    [Fact]
    public void UpstreamRefuses_ClientConnectionIsReset_AndTheFailureIsCounted()
    {
        _test.Run(async () =>
        {
            int unused;
            using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                unused = ((IPEndPoint)probe.LocalEndPoint!).Port;
            }

            await using FaultProxy proxy = await _test.StartProxyAsync(new IPEndPoint(IPAddress.Loopback, unused));
            var (reader, _) = await _test.OpenAsync(proxy);
            await Assert.ThrowsAsync<ConnectionResetException>(async () => await reader.ReadAsync(16));
            Assert.Equal(1, proxy.FailedConnectCount);
            Assert.IsType<ConnectionRefusedException>(proxy.LastConnectError);
            await _test.WaitUntilAsync(() => proxy.ConnectionCount == 0, "the proxy has forgotten the connection");
        });
    }

    [Fact]
    public void UpstreamResets_ClientSeesTheReset()
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(async (reader, writer) =>
            {
                await reader.ReadExactlyAsync(5);
                var socket = (Socket)writer.GetExtraInfo("socket")!;
                socket.LingerState = new LingerOption(true, 0);
                writer.Transport.Abort();
            });
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                writer.Write(Bytes.Ascii("hello"));
                await Assert.ThrowsAsync<ConnectionResetException>(async () => await reader.ReadAsync(16));
            }
        });
    }

    [Fact]
    public void SetFaults_OnAnOpenConnection_AppliesToTheBytesReadAfterwards()
    {
        TimeSpan latency = TimeSpan.FromMilliseconds(400);
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync);
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                Assert.True(await RoundTripAsync(reader, writer) < latency, "Without faults the echo is quick");

                proxy.SetFaults(FaultDirection.UpstreamToClient, new FaultSpec { Latency = latency });
                await _test.YieldAsync();
                Assert.True(await RoundTripAsync(reader, writer) >= latency, "With latency set, the reply waits for it");
                Assert.Equal(latency, proxy.UpstreamToClient.Latency);
                Assert.Equal(FaultSpec.None, proxy.ClientToUpstream);

                proxy.SetFaults(FaultSpec.None);
                await _test.YieldAsync();
                Assert.True(await RoundTripAsync(reader, writer) < latency, "Cleared, the echo is quick again");
            }
        });
    }

    [Fact]
    public void SetFaults_ALimitAnOpenConnectionHasPassed_ActsAtOnce()
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync);
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(upstream))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                await RoundTripAsync(reader, writer);

                // 4 bytes went each way already: a close after 2 closes the connection without another byte.
                proxy.SetFaults(FaultDirection.UpstreamToClient, new FaultSpec { CloseAfterBytes = 2 });
                Assert.Empty(await ReadToEndAsync(reader));
            }
        });
    }

    [Fact]
    public void StartedOnItsOwnLoop_ForwardsFromOtherThreads_AndDisposesItsLoop()
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync);
            await using (server)
            {
                FaultProxy proxy = await FaultProxy.StartAsync(upstream, new FaultProxyOptions { UpstreamToClient = FaultSpec.Parse("slice=3") });
                Assert.NotSame(_test.Loop, proxy.Loop);
                Assert.True(proxy.Loop.IsRunning);
                var (reader, writer) = await _test.OpenAsync(proxy);
                writer.Write(Bytes.Ascii("across two loops"));
                Assert.Equal("across two loops", Bytes.Text(await reader.ReadExactlyAsync(16)));

                await proxy.DisposeAsync();
                Assert.True(proxy.Loop.IsClosed);
                Assert.Empty(await ReadToEndAsync(reader));
                await proxy.DisposeAsync();
                Assert.Throws<ObjectDisposedException>(() => proxy.SetFaults(FaultSpec.None));
            }
        });
    }

    [Theory]
    [InlineData("none")]
    [InlineData("latency=1ms,slice=16KiB")]
    public void Forwarding_AllocatesNothingPerByte_OnTheProxysLoop(string faults)
    {
        const int warmUp = 2 * 1024 * 1024;
        const int measured = 16 * 1024 * 1024;
        _test.Run(
            async () =>
            {
                (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync);
                await using (server)
                {
                    // On a loop of its own, so the thread's allocation counter sees the proxy's work alone.
                    await using FaultProxy proxy = await FaultProxy.StartAsync(upstream, new FaultProxyOptions { ClientToUpstream = FaultSpec.Parse(faults) });
                    var (reader, writer) = await _test.OpenAsync(proxy);
                    await EchoBytesAsync(reader, writer, warmUp);
                    long before = await AllocatedOnLoopAsync(proxy.Loop);
                    await EchoBytesAsync(reader, writer, measured);
                    long allocated = await AllocatedOnLoopAsync(proxy.Loop) - before;

                    // Timers cost a little per read, and the loop's pool may still meet a size it had not lent during the
                    // warm-up (one 256 KiB array); a copy of what is read would cost 32 MiB here.
                    Assert.True(allocated < 1024 * 1024, $"{allocated} bytes allocated on the proxy's loop while it forwarded {2 * measured} bytes");
                    writer.Close();
                }
            },
            seconds: 60);
    }

    [Fact]
    public void Upstream_GivenAsAHostName_IsResolvedForEachConnection()
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync);
            await using (server)
            await using (FaultProxy proxy = await _test.StartProxyAsync(new DnsEndPoint("localhost", ((IPEndPoint)upstream).Port, AddressFamily.InterNetwork)))
            {
                var (reader, writer) = await _test.OpenAsync(proxy);
                writer.Write(Bytes.Ascii("by name"));
                Assert.Equal("by name", Bytes.Text(await reader.ReadExactlyAsync(7)));
                writer.Close();
            }
        });
    }

    [Fact]
    public void DisposeAsync_ClosesOpenConnections_AndStopsListening()
    {
        _test.Run(async () =>
        {
            (StreamServer server, EndPoint upstream) = await _test.StartUpstreamAsync(EchoAsync);
            await using (server)
            {
                FaultProxy proxy = await _test.StartProxyAsync(upstream, new FaultProxyOptions { UpstreamToClient = new FaultSpec { Latency = TimeSpan.FromSeconds(30) } });
                var (reader, writer) = await _test.OpenAsync(proxy);
                writer.Write(Bytes.Ascii("held for 30 s"));
                await _test.WaitUntilAsync(() => proxy.GetHeldBytes(FaultDirection.UpstreamToClient) == 13, "the echo is held");

                await proxy.DisposeAsync();
                Assert.Equal(0, proxy.ConnectionCount);
                Assert.Equal(0, proxy.GetHeldBytes(FaultDirection.UpstreamToClient));
                Assert.Equal(13, proxy.GetDroppedBytes(FaultDirection.UpstreamToClient));
                Assert.Empty(await ReadToEndAsync(reader));
                await Assert.ThrowsAsync<ConnectionRefusedException>(() => _test.OpenAsync(proxy));
            }
        });
    }

    [Fact]
    public void BadArguments_AreRefusedUpFront()
    {
        var upstream = new IPEndPoint(IPAddress.Loopback, 9);
        Assert.Throws<ArgumentNullException>(() => { _ = FaultProxy.StartAsync(_test.Loop, null!); });
        Assert.Throws<ArgumentException>(() => { _ = FaultProxy.StartAsync(_test.Loop, new CustomEndPoint()); });
        Assert.Throws<ArgumentException>(() => { _ = FaultProxy.StartAsync(_test.Loop, upstream, new FaultProxyOptions { ListenEndPoint = new DnsEndPoint("localhost", 0) }); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = FaultProxy.StartAsync(_test.Loop, upstream, new FaultProxyOptions { MaxHeldBytes = 0 }); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = FaultProxy.StartAsync(_test.Loop, upstream, new FaultProxyOptions { UpstreamToClient = new FaultSpec { Latency = TimeSpan.FromMilliseconds(-1) } }); });
        _test.Run(async () =>
        {
            await using FaultProxy proxy = await _test.StartProxyAsync(upstream);
            Assert.Throws<ArgumentException>(() => proxy.SetFaults(new FaultSpec { ResetAfterBytes = 1, HalfCloseAfterBytes = 2 }));
            Assert.Throws<ArgumentNullException>(() => proxy.SetFaults(FaultDirection.ClientToUpstream, null!));
            Assert.Equal(FaultSpec.None, proxy.GetFaults(FaultDirection.ClientToUpstream));
        });
    }

    /// <summary>Writes <paramref name="count"/> bytes to the echo while reading them back.</summary>
    private static async Task EchoBytesAsync(StreamReader reader, StreamWriter writer, int count)
    {
        byte[] block = RandomBytes(64 * 1024);
        Task<byte[]> echoed = reader.ReadExactlyAsync(count).AsTask();
        for (int sent = 0; sent < count; sent += block.Length)
        {
            writer.Write(block.AsSpan(0, Math.Min(block.Length, count - sent)));
            await writer.DrainAsync();
        }

        Assert.Equal(count, (await echoed).Length);
    }

    /// <summary>The bytes allocated so far on <paramref name="loop"/>'s thread.</summary>
    private static Task<long> AllocatedOnLoopAsync(EventLoop loop) =>
        loop.RunCoroutineThreadSafe(() => Task.FromResult(GC.GetAllocatedBytesForCurrentThread()));

    /// <summary>Sends 4 bytes to the echo and reads them back; returns how long that took on the loop's clock.</summary>
    private async Task<TimeSpan> RoundTripAsync(StreamReader reader, StreamWriter writer)
    {
        TimeSpan start = _test.Loop.Time;
        writer.Write(Bytes.Ascii("ping"));
        Assert.Equal("ping", Bytes.Text(await reader.ReadExactlyAsync(4)));
        return _test.Loop.Time - start;
    }

    private sealed class CustomEndPoint : EndPoint;
}
