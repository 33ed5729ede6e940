using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary>CreateConnectionAsync's edges and the transport's flow-control settings, over TCP on 127.0.0.1.</summary>
public sealed class StreamConnectionTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void Connect_UnresolvableName_FailsWithNameResolutionNamingTheHost() => _test.Run(async () =>
    {
        // A name with a space never reaches a DNS server: the resolver rejects it.
        const string host = "no such host.invalid";
        var failed = await Assert.ThrowsAsync<NameResolutionException>(() => _test.Loop.CreateConnectionAsync(() => new RecordingProtocol(), host, 80));
        Assert.Equal(host, failed.Address);
        Assert.Contains(host, failed.Message, StringComparison.Ordinal);
    });

    [Fact]
    public void Connect_ByName_ResolvesOffTheLoopAndConnects() => _test.Run(async () =>
    {
        using var lookups = new NameResolutionThreads();
        int loopThread = Environment.CurrentManagedThreadId;
        Server server = await _test.Loop.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 0);
        int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;
        (IStreamTransport client, RecordingProtocol protocol) = await _test.Loop.CreateConnectionAsync(
            () => new RecordingProtocol(), "localhost", port, new ConnectionOptions { AddressFamily = AddressFamily.InterNetwork });
        client.Write("hi"u8);
        await protocol.WaitForBytesAsync(2);
        Assert.Equal(loopThread, Environment.CurrentManagedThreadId);

        // getaddrinfo blocks: the lookup finished on another thread, never on the loop's (a lookup run on the loop
        // thread would finish there). Lookups by other tests finish off this loop's thread too, so they cannot hide one.
        int[] finishedOn = lookups.FinishedOn();
        Assert.NotEmpty(finishedOn);
        Assert.DoesNotContain(loopThread, finishedOn);
        client.Close();
        await server.DisposeAsync();
    });

    [Fact]
    public void Connect_StartedBeforeTheLoopRuns_ResumesOnTheLoopThread()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        // No loop context is current here: every step after resolving must still come back to the loop thread.
        Task<(IStreamTransport Transport, RecordingProtocol Protocol)> connecting = _test.Loop.CreateConnectionAsync(
            () => new RecordingProtocol(), "localhost", port, new ConnectionOptions { AddressFamily = AddressFamily.InterNetwork });
        AsyncNet.Loop.TimerHandle guard = _test.Loop.CallLater(TimeSpan.FromSeconds(20), _test.Loop.Stop);
        (IStreamTransport transport, RecordingProtocol protocol) = _test.Loop.RunUntilComplete(connecting);
        guard.Cancel();

        Assert.Equal(["made"], protocol.Events);
        using Socket accepted = listener.Accept();
        transport.Abort();
        _test.Run(() => protocol.Lost);
        Assert.Empty(_test.HandlerReports);
    }

    [Fact]
    public void Connect_AlreadyCancelled_IsCancelled() => _test.Run(async () =>
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => _test.Loop.CreateConnectionAsync(() => new RecordingProtocol(), "127.0.0.1", 1, cancellationToken: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => _test.Loop.CreateServerAsync(() => new RecordingProtocol(), "127.0.0.1", 0, cancellationToken: cancelled.Token));
    });

    [Fact]
    public void Connect_CancelledWhileInProgress_IsCancelledAndClosesItsSocket() => _test.Run(async () =>
    {
        // A listener that never accepts and whose backlog is full: further SYNs are dropped, so a connect hangs.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                fillers.Add(filler);
                try
                {
                    filler.Connect(endPoint);
                }
                catch (SocketException)
                {
                    // In progress, or dropped: either way it occupies the queue.
                }
            }

            await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(50));
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            var started = DateTime.UtcNow;
            Exception? outcome = await Record(() => _test.Loop.CreateConnectionAsync(() => new RecordingProtocol(), "127.0.0.1", endPoint.Port, cancellationToken: cts.Token));

            if (outcome is null)
            {
                // The kernel let this one in after all (a larger backlog than asked); nothing to cancel.
                return;
            }

            Assert.IsAssignableFrom<OperationCanceledException>(outcome);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        }
        finally
        {
            fillers.ForEach(s => s.Dispose());
        }
    });

    [Fact]
    public void ProtocolFactory_ReturningANonStreamProtocol_Fails() => _test.Run(async () =>
    {
        Server server = await _test.Loop.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 0);
        int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;
        await Assert.ThrowsAsync<ArgumentException>(() => _test.Loop.CreateConnectionAsync<IBaseProtocol>(() => new NotAStreamProtocol(), "127.0.0.1", port));
        var boom = new InvalidOperationException("factory");
        Assert.Same(boom, await Assert.ThrowsAsync<InvalidOperationException>(() => _test.Loop.CreateConnectionAsync<RecordingProtocol>(() => throw boom, "127.0.0.1", port)));
        server.AbortClients();
        await server.DisposeAsync();
    });

    [Fact]
    public void SetWriteBufferLimits_FollowsAsyncioDefaultsAndRechecksAtOnce() => _test.Run(async () =>
    {
        (Socket listener, var connect) = StreamFamily.Tcp4.Listen();
        using (listener)
        {
            listener.ReceiveBufferSize = 4096;
            Task<Socket> accepting = RawPeer.AcceptAsync(listener);
            (IStreamTransport client, RecordingProtocol protocol) = await connect(_test.Loop, () => new RecordingProtocol(), new ConnectionOptions { SendBufferSize = 4096 });
            using Socket peer = await accepting;

            Assert.Equal(64 * 1024, client.WriteBufferHighWaterMark);
            Assert.Equal(16 * 1024, client.WriteBufferLowWaterMark);
            client.SetWriteBufferLimits(high: 1000);
            Assert.Equal((1000, 250), (client.WriteBufferHighWaterMark, client.WriteBufferLowWaterMark));
            client.SetWriteBufferLimits(low: 100);
            Assert.Equal((400, 100), (client.WriteBufferHighWaterMark, client.WriteBufferLowWaterMark));
            client.SetWriteBufferLimits();
            Assert.Equal((65536, 16384), (client.WriteBufferHighWaterMark, client.WriteBufferLowWaterMark));
            Assert.Throws<ArgumentOutOfRangeException>(() => client.SetWriteBufferLimits(high: 10, low: 20));
            Assert.Throws<ArgumentOutOfRangeException>(() => client.SetWriteBufferLimits(high: -1));

            // Fill the buffer without crossing the default high mark, then lower the mark: pause at once.
            while (client.WriteBufferSize < 20_000)
            {
                client.Write(new byte[4000]);
            }

            Assert.False(protocol.IsWritingPaused);
            int buffered = client.WriteBufferSize;
            client.SetWriteBufferLimits(high: buffered - 1);
            Assert.True(protocol.IsWritingPaused);
            client.SetWriteBufferLimits(high: buffered * 8, low: buffered);
            Assert.False(protocol.IsWritingPaused);
            Assert.Equal([("pause", buffered), ("resume", buffered)], protocol.FlowEvents);
            client.Abort();
            await protocol.Lost;
        }
    });

    [Fact]
    public void PauseWritingUntilLowWater_BetweenTheMarks_PausesNow_AndResumesWhenThePeerTakesTheBytes() => _test.Run(async () =>
    {
        (Socket listener, var connect) = StreamFamily.Tcp4.Listen();
        using (listener)
        {
            listener.ReceiveBufferSize = 4096;
            Task<Socket> accepting = RawPeer.AcceptAsync(listener);
            (IStreamTransport client, RecordingProtocol protocol) = await connect(_test.Loop, () => new RecordingProtocol(), new ConnectionOptions { SendBufferSize = 4096 });
            using Socket peer = await accepting;
            Assert.False(client.PauseWritingUntilLowWater(), "Nothing buffered: nothing to wait for");

            // Between the marks (16 KiB < buffered <= 64 KiB) asyncio's rule alone never calls back.
            while (client.WriteBufferSize <= client.WriteBufferLowWaterMark)
            {
                client.Write(new byte[4000]);
            }

            Assert.False(protocol.IsWritingPaused);
            Assert.True(client.PauseWritingUntilLowWater());
            Assert.True(client.PauseWritingUntilLowWater(), "Already paused: the resume is coming");
            Assert.Equal(["pause"], protocol.FlowEvents.Select(e => e.Event));

            // The peer reads everything: the transport flushes and resumes at the low mark.
            int expected = client.WriteBufferSize;
            Task<byte[]> reading = RawPeer.ReadExactlyAsync(peer, expected);
            while (protocol.IsWritingPaused)
            {
                await _test.YieldAsync(1);
            }

            Assert.Equal(["pause", "resume"], protocol.FlowEvents.Select(e => e.Event));
            Assert.True(protocol.FlowEvents[1].Buffered <= client.WriteBufferLowWaterMark);
            Assert.Equal(expected, (await reading).Length);
            client.Abort();
            await protocol.Lost;
            Assert.False(client.PauseWritingUntilLowWater(), "A closed transport waits for nothing");
        }
    });

    private static async Task<Exception?> Record(Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private sealed class NotAStreamProtocol : IBaseProtocol
    {
        public void ConnectionMade(ITransport transport)
        {
        }

        public void ConnectionLost(Exception? exception)
        {
        }
    }
}
