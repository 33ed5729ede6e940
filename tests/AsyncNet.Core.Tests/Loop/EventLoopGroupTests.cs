using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Loop;

/// <summary>The loop group: loops on their own threads, one exception handler, servers spread over the loops.</summary>
public sealed class EventLoopGroupTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Group_StartsItsLoopsOnTheirOwnThreads_HandsThemOutRoundRobin_AndStopsThemTogether()
    {
        var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 3, ThreadNamePrefix = "group test" });
        Assert.Equal(3, group.Loops.Count);
        Assert.All(group.Loops, l => Assert.True(l.IsRunning));
        Assert.Equal(3, group.Loops.Select(l => l.RunCoroutineThreadSafe(() => Task.FromResult(Environment.CurrentManagedThreadId)).Result).Distinct().Count());
        Assert.Equal("group test 2", await group.Loops[2].RunCoroutineThreadSafe(() => Task.FromResult(Thread.CurrentThread.Name)));

        EventLoop[] handedOut = [.. Enumerable.Range(0, 6).Select(_ => group.Next())];
        Assert.Equal([.. group.Loops, .. group.Loops], handedOut);

        await group.DisposeAsync().AsTask().WaitAsync(s_limit);
        Assert.All(group.Loops, l => Assert.True(l.IsClosed));
        Assert.Throws<ObjectDisposedException>(() => group.Next());
    }

    [Fact]
    public void Group_DefaultsToOneLoopPerProcessor_AndRejectsBadOptions()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EventLoopGroup(new EventLoopGroupOptions { ShutdownGracePeriod = TimeSpan.FromSeconds(-1) }));
        var group = new EventLoopGroup();
        try
        {
            Assert.Equal(Environment.ProcessorCount, group.Loops.Count);
        }
        finally
        {
            group.ShutdownAsync(TimeSpan.Zero).Wait(s_limit);
        }
    }

    [Fact]
    public async Task OneLoopsThrowingCallback_ReachesTheGroupsHandler_AndTheOtherLoopsGoOn()
    {
        await using var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 4 });
        var reports = new ConcurrentQueue<(EventLoop Loop, LoopExceptionContext Context)>();
        var reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        group.ExceptionHandler = (loop, context) =>
        {
            reports.Enqueue((loop, context));
            reported.TrySetResult();
        };

        group.Loops[1].CallSoonThreadSafe(() => throw new InvalidOperationException("loop 1 broke"));
        await reported.Task.WaitAsync(s_limit);

        (EventLoop where, LoopExceptionContext what) = Assert.Single(reports);
        Assert.Same(group.Loops[1], where);
        Assert.Equal("loop 1 broke", what.Exception!.Message);
        int[] answers = await Task.WhenAll(group.Loops.Select((l, i) => l.RunCoroutineThreadSafe(() => Task.FromResult(i)))).WaitAsync(s_limit);
        Assert.Equal([0, 1, 2, 3], answers);
    }

    [Theory]
    [InlineData(AcceptDistribution.RoundRobin)]
    [InlineData(AcceptDistribution.LeastConnections)]
    public async Task HandOff_SpreadsConnectionsExactlyEvenly_AndEachIsServedOnTheLoopItWasGiven(AcceptDistribution distribution)
    {
        await using var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 4 });
        var servedOn = new ConcurrentBag<(int Connection, EventLoop Loop, bool OnItsThread)>();
        int made = 0;
        await using GroupServer server = await group.CreateServerAsync(
            () => new EchoProtocol { OnMade = p => servedOn.Add((Interlocked.Increment(ref made), EventLoop.Current!, EventLoop.Current!.IsOnLoopThread)) },
            "127.0.0.1",
            0,
            new ServerOptions { Distribution = distribution });
        Assert.Equal(distribution, server.Distribution);

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 40; i++)
            {
                // One after the other and kept open, so least-connections sees every earlier one.
                clients.Add(await ConnectAndEchoAsync(server.Port));
            }

            Assert.Equal([10, 10, 10, 10], server.GetAcceptedCounts());
            Assert.Equal([10, 10, 10, 10], server.GetConnectionCounts());
            Assert.All(servedOn, s => Assert.True(s.OnItsThread));
            Assert.Equal(4, servedOn.Select(s => s.Loop).Distinct().Count());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task LeastConnections_ABurstOfConnects_StillSpreadsEvenly_CountingThoseOnTheirWayToALoop()
    {
        await using var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 4 });
        await using GroupServer server = await group.CreateServerAsync(
            () => new EchoProtocol(), "127.0.0.1", 0, new ServerOptions { Distribution = AcceptDistribution.LeastConnections });

        // All at once: the acceptor takes several in one go, before any other loop has adopted what it was handed.
        Socket[] clients = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(IPAddress.Loopback, server.Port);
            return client;
        }));
        try
        {
            while (server.GetConnectionCounts().Sum() < clients.Length)
            {
                await Task.Delay(5).WaitAsync(s_limit);
            }

            Assert.Equal([4, 4, 4, 4], server.GetConnectionCounts());
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task ReusePort_GivesEveryLoopItsOwnListener_AndEveryLoopSomeOfAThousandConnections()
    {
        await using var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 4 });
        await using GroupServer server = await group.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 0, new ServerOptions { Distribution = AcceptDistribution.ReusePort });
        Assert.Equal(AcceptDistribution.ReusePort, server.Distribution);
        Assert.Equal(4, server.LocalEndPoints.Count);
        Assert.Single(server.LocalEndPoints.Distinct());

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 1000; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(client);
                await client.ConnectAsync(IPAddress.Loopback, server.Port);
            }

            while (server.GetAcceptedCounts().Sum() < 1000)
            {
                await Task.Delay(10).WaitAsync(s_limit);
            }

            long[] counts = server.GetAcceptedCounts();
            Assert.Equal(1000, counts.Sum());
            Assert.All(counts, c => Assert.True(c > 0, $"Every loop accepts some: [{string.Join(", ", counts)}]"));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task UnixServerOnAGroup_HandsConnectionsRoundRobin()
    {
        await using var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 2 });
        string path = StreamFamily.TempSocketPath();
        await using GroupServer server = await group.CreateUnixServerAsync(() => new EchoProtocol(), path);
        Assert.Equal(AcceptDistribution.RoundRobin, server.Distribution);
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 6; i++)
            {
                var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10_000 };
                clients.Add(client);
                client.Connect(new UnixDomainSocketEndPoint(path));
                client.Send("u"u8);
                Assert.Equal(1, client.Receive(new byte[1]));
            }

            Assert.Equal([3, 3], server.GetAcceptedCounts());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => group.CreateUnixServerAsync(() => new EchoProtocol(), StreamFamily.TempSocketPath(), new ServerOptions { Distribution = AcceptDistribution.ReusePort }));
    }

    [Fact]
    public async Task GroupShutdown_StopsAccepting_ClosesConnectionsGracefully_ThenStopsTheLoops()
    {
        var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 2 });
        GroupServer server = await group.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 0, new ServerOptions { Distribution = AcceptDistribution.RoundRobin });
        Socket[] clients = [await ConnectAndEchoAsync(server.Port), await ConnectAndEchoAsync(server.Port)];
        try
        {
            await group.ShutdownAsync(TimeSpan.FromSeconds(5)).WaitAsync(s_limit);

            // Each client sees a clean end of stream (a graceful close), then nothing accepts any more.
            foreach (Socket client in clients)
            {
                Assert.Equal(0, client.Receive(new byte[16]));
            }

            Assert.All(group.Loops, l => Assert.True(l.IsClosed));
            using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Assert.ThrowsAny<SocketException>(() => late.Connect(IPAddress.Loopback, server.Port));
            Assert.Same(group.ShutdownAsync(TimeSpan.Zero), group.ShutdownAsync(TimeSpan.Zero));
            await Assert.ThrowsAsync<ObjectDisposedException>(() => group.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 0));
        }
        finally
        {
            foreach (Socket client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task GroupShutdown_AbortsWhatCannotCloseWithinTheGracePeriod()
    {
        var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 2 });
        var lost = new ConcurrentQueue<Exception?>();

        // The server floods a peer that never reads: its close can never finish flushing.
        GroupServer server = await group.CreateServerAsync(
            () => new RecordingProtocol { OnMade = p => p.Transport.Write(new byte[8 * 1024 * 1024]) },
            "127.0.0.1",
            0);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        client.Connect(IPAddress.Loopback, server.Port);
        while (server.GetConnectionCounts().Sum() == 0)
        {
            await Task.Delay(5).WaitAsync(s_limit);
        }

        Task shutdown = group.ShutdownAsync(TimeSpan.FromMilliseconds(200));
        await shutdown.WaitAsync(s_limit);
        Assert.All(group.Loops, l => Assert.True(l.IsClosed));
        Assert.Equal([0, 0], server.GetConnectionCounts());
    }

    [Fact]
    public async Task ShutdownFromALoopOfTheGroup_IsRefused_ItWouldWaitForItself()
    {
        await using var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 1 });
        await Assert.ThrowsAsync<InvalidOperationException>(() => group.Loops[0].RunCoroutineThreadSafe(() => group.ShutdownAsync(TimeSpan.Zero)));
    }

    private static async Task<Socket> ConnectAndEchoAsync(int port)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        await client.ConnectAsync(IPAddress.Loopback, port);
        client.Send("e"u8);
        Assert.Equal(1, client.Receive(new byte[1]));
        return client;
    }
}
