using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary>One idle timer per connection while it is open, none once it is closed, over a thousand real connections.</summary>
/// <remarks>
/// In the non-parallel collection: two thousand sockets opening and closing would disturb the tests that count the
/// process's descriptors or memory.
/// </remarks>
[Collection(DescriptorCountingCollection.Name)]
public sealed class IdleTimerLeakTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void ThousandConnections_OneTimerEachWhileOpen_NoneLeftAfterTheyClose() => _test.Run(async () =>
    {
        const int batch = 50;
        const int batches = 20;
        var idle = new IdleOptions { ReadIdle = TimeSpan.FromSeconds(60), CloseOnIdle = true };
        var serverProtocols = new List<RecordingProtocol>();
        Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () =>
        {
            var protocol = new RecordingProtocol();
            serverProtocols.Add(protocol);
            return protocol;
        }, new ServerOptions { Idle = idle, Backlog = batch });
        await _test.YieldAsync();
        int baseline = _test.Loop.ScheduledTimerCount;

        for (int round = 0; round < batches; round++)
        {
            serverProtocols.Clear();
            var connecting = new List<Task<(IStreamTransport Transport, RecordingProtocol Protocol)>>();
            for (int i = 0; i < batch; i++)
            {
                connecting.Add(StreamFamily.Tcp4.ConnectAsync(_test.Loop, server, () => new RecordingProtocol(), new ConnectionOptions { Idle = idle }));
            }

            (IStreamTransport Transport, RecordingProtocol Protocol)[] clients = await Task.WhenAll(connecting);
            while (serverProtocols.Count < batch)
            {
                await _test.YieldAsync(1);
            }

            await _test.YieldAsync();
            Assert.Equal(baseline + (2 * batch), _test.Loop.ScheduledTimerCount);

            foreach ((IStreamTransport transport, _) in clients)
            {
                transport.Close();
            }

            await Task.WhenAll(clients.Select(c => c.Protocol.Lost).Concat(serverProtocols.Select(p => p.Lost)));
            await _test.YieldAsync();
            Assert.Equal(baseline, _test.Loop.ScheduledTimerCount);
        }

        Assert.Equal(0, server.ConnectionCount);
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    }, seconds: 60);
}
