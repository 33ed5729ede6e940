using System.Net.Sockets;
using AsyncNet.Diagnostics;
using AsyncNet.Tests.Shared;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Diagnostics;

/// <summary>The stream transports' instruments of the "AsyncNet" meter, read with a MeterListener over real sockets.</summary>
public sealed class ConnectionMetricsTests : IDisposable
{
    private readonly StreamTestLoop _test = new();
    private readonly MetricsRecorder _metrics;

    public ConnectionMetricsTests() => _metrics = new MetricsRecorder(_test.Loop);

    public static TheoryData<string> Families => ["tcp4", "tcp6", "unix"];

    public void Dispose()
    {
        _metrics.Dispose();
        _test.Dispose();
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Bytes_ReceivedByOneSide_EqualWhatThePeerSent_AndSentByIt(string familyName) => _test.Run(async () =>
    {
        (StreamFamily family, string transport) = Family(familyName);
        Server server = await family.CreateServerAsync(_test.Loop, () => new EchoProtocol());
        (IStreamTransport client, RecordingProtocol protocol) = await family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        // Large enough to take many receive and send calls, and partial sends, on both sides.
        byte[] data = RawPeer.Pattern(3 * 1024 * 1024 + 17);
        client.Write(data);
        await protocol.WaitForBytesAsync(data.Length);
        client.Close();
        await protocol.Lost;
        await server.DisposeAsync();

        Assert.Equal(data.Length, _metrics.Sum(AsyncNetMetrics.BytesSent, (AsyncNetMetrics.TransportTag, transport), (AsyncNetMetrics.SideTag, "client")));
        Assert.Equal(data.Length, _metrics.Sum(AsyncNetMetrics.BytesReceived, (AsyncNetMetrics.TransportTag, transport), (AsyncNetMetrics.SideTag, "server")));
        Assert.Equal(data.Length, _metrics.Sum(AsyncNetMetrics.BytesSent, (AsyncNetMetrics.TransportTag, transport), (AsyncNetMetrics.SideTag, "server")));
        Assert.Equal(data.Length, _metrics.Sum(AsyncNetMetrics.BytesReceived, (AsyncNetMetrics.TransportTag, transport), (AsyncNetMetrics.SideTag, "client")));

        // Counted per system call: a 3 MiB echo cannot have been one receive.
        Assert.True(_metrics.Of(AsyncNetMetrics.BytesReceived).Count > 2, "bytes are recorded once per receive call");
        Assert.Empty(_test.HandlerReports);
    });

    [Theory]
    [MemberData(nameof(Families))]
    public void ConnectionsActive_GoesUpOnOpenAndBackDownOnClose_PerSide(string familyName) => _test.Run(async () =>
    {
        (StreamFamily family, string transport) = Family(familyName);
        var serverProtocols = new List<RecordingProtocol>();
        var allAccepted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await family.CreateServerAsync(_test.Loop, () =>
        {
            var accepted = new RecordingProtocol();
            serverProtocols.Add(accepted);
            if (serverProtocols.Count == 3)
            {
                allAccepted.TrySetResult();
            }

            return accepted;
        });
        var clients = new List<(IStreamTransport Transport, RecordingProtocol Protocol)>();
        for (int i = 0; i < 3; i++)
        {
            clients.Add(await family.ConnectAsync(_test.Loop, server, () => new RecordingProtocol()));
        }

        await allAccepted.Task;
        await Task.WhenAll(serverProtocols.Select(p => p.Made));
        (string, string) tcp = (AsyncNetMetrics.TransportTag, transport);
        Assert.Equal(3, _metrics.Sum(AsyncNetMetrics.ConnectionsActive, tcp, (AsyncNetMetrics.SideTag, "client")));
        Assert.Equal(3, _metrics.Sum(AsyncNetMetrics.ConnectionsActive, tcp, (AsyncNetMetrics.SideTag, "server")));
        Assert.Equal(3, _metrics.Sum(AsyncNetMetrics.ConnectionsOpened, tcp, (AsyncNetMetrics.SideTag, "server")));
        Assert.Equal(0, _metrics.Sum(AsyncNetMetrics.ConnectionsClosed));

        clients[0].Transport.Close();
        await clients[0].Protocol.Lost;
        await serverProtocols[0].Lost;
        Assert.Equal(2, _metrics.Sum(AsyncNetMetrics.ConnectionsActive, tcp, (AsyncNetMetrics.SideTag, "client")));
        Assert.Equal(2, _metrics.Sum(AsyncNetMetrics.ConnectionsActive, tcp, (AsyncNetMetrics.SideTag, "server")));

        foreach ((IStreamTransport client, RecordingProtocol protocol) in clients.Skip(1))
        {
            client.Close();
            await protocol.Lost;
        }

        await Task.WhenAll(serverProtocols.Select(p => p.Lost));
        await server.DisposeAsync();
        Assert.Equal(0, _metrics.Sum(AsyncNetMetrics.ConnectionsActive));
        Assert.Equal(6, _metrics.Sum(AsyncNetMetrics.ConnectionsOpened, tcp));
        Assert.Equal(6, _metrics.Sum(AsyncNetMetrics.ConnectionsClosed, tcp));
        Assert.All(_metrics.Of(AsyncNetMetrics.ConnectionsClosed), closed => Assert.False(closed.Tags.ContainsKey(AsyncNetMetrics.ErrorTypeTag)));
    });

    [Fact]
    public void ConnectionsClosed_ByAPeerReset_CarriesTheErrorType() => _test.Run(async () =>
    {
        var serverProtocol = new RecordingProtocol();
        Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () => serverProtocol);
        Socket peer = StreamFamily.Tcp4.ConnectRaw(server);
        await RawPeer.SendAsync(peer, RawPeer.Pattern(10));
        await serverProtocol.WaitForBytesAsync(10);
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();
        Assert.IsType<AsyncNet.Errors.ConnectionResetException>(await serverProtocol.Lost);
        await server.DisposeAsync();

        MetricsRecorder.Recorded closed = Assert.Single(_metrics.Of(AsyncNetMetrics.ConnectionsClosed));
        Assert.Equal("ConnectionResetException", closed.Tags[AsyncNetMetrics.ErrorTypeTag]);
        Assert.Equal("server", closed.Tags[AsyncNetMetrics.SideTag]);
        Assert.Equal(0, _metrics.Sum(AsyncNetMetrics.ConnectionsActive));
    });

    [Fact]
    public void ReadPauses_CountsEachPauseReadingThatStopsReading() => _test.Run(async () =>
    {
        Server server = await StreamFamily.Unix.CreateServerAsync(_test.Loop, () => new RecordingProtocol());
        (IStreamTransport client, RecordingProtocol protocol) = await StreamFamily.Unix.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());

        client.PauseReading();
        client.PauseReading(); // already paused: not a second pause
        client.ResumeReading();
        client.PauseReading();

        Assert.Equal(2, _metrics.Sum(AsyncNetMetrics.ReadPauses, (AsyncNetMetrics.TransportTag, "unix"), (AsyncNetMetrics.SideTag, "client")));
        client.Close();
        await protocol.Lost;
        await server.DisposeAsync();
    });

    [Fact]
    public void WritePauses_CountsEveryPauseWritingTheProtocolHears() => _test.Run(async () =>
    {
        (Socket listener, var connect) = StreamFamily.Tcp4.Listen();
        using (listener)
        {
            Task<Socket> accepting = RawPeer.AcceptAsync(listener);
            (IStreamTransport client, RecordingProtocol protocol) = await connect(_test.Loop, () => new RecordingProtocol(), null);
            using Socket peer = await accepting;
            client.SetWriteBufferLimits(high: 64 * 1024);

            // The peer reads nothing yet: the kernel's buffers fill and the transport's queue goes above the high mark.
            byte[] chunk = RawPeer.Pattern(256 * 1024);
            for (int i = 0; i < 32 && !protocol.IsWritingPaused; i++)
            {
                client.Write(chunk);
            }

            Assert.True(protocol.IsWritingPaused, "the protocol was paused");
            Task<byte[]> draining = RawPeer.ReadToEndAsync(peer);
            client.Close(); // flushes everything (resuming the protocol on the way), then closes
            await protocol.Lost;
            await draining;

            int pauses = protocol.Events.Count(e => e == "pause");
            Assert.True(pauses >= 1);
            Assert.Equal(pauses, _metrics.Sum(AsyncNetMetrics.WritePauses, (AsyncNetMetrics.TransportTag, "tcp"), (AsyncNetMetrics.SideTag, "client")));
        }
    });

    private static (StreamFamily Family, string Transport) Family(string name) => name switch
    {
        "tcp4" => (StreamFamily.Tcp4, "tcp"),
        "tcp6" => (StreamFamily.Tcp6, "tcp"),
        _ => (StreamFamily.Unix, "unix"),
    };
}
