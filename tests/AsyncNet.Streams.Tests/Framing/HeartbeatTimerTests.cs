using System.Reflection;
using AsyncNet.Loop;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using static AsyncNet.Streams.Tests.Framing.HeartbeatTestKit;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>
/// A heartbeat costs one timer per connection, re-armed rather than added to as pings go out, and none once the
/// connection is closed: a thousand framed connections, both ends with a heartbeat, over loopback TCP.
/// </summary>
public sealed class HeartbeatTimerTests : IDisposable
{
    private const int Connections = 1000;
    private const int Batch = 100;

    // The loop's timer heap size is internal to AsyncNet.Core, which shows its internals to AsyncNet.Streams but not to
    // these tests; read it by reflection rather than widen Core's InternalsVisibleTo for one number.
    private static readonly PropertyInfo s_scheduledTimerCount =
        typeof(EventLoop).GetProperty("ScheduledTimerCount", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("EventLoop.ScheduledTimerCount is gone; the timer-count tests need it.");

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    private int ScheduledTimers => (int)s_scheduledTimerCount.GetValue(_test.Loop)!;

    [Fact]
    public void ThousandHeartbeatConnections_OneTimerEachWhileOpen_ThroughTheirPings_NoneLeftAfterTheyClose() => _test.Run(async () =>
    {
        // Long enough that a busy loop opening a thousand connections never misses a deadline (3 s), even on a machine
        // loaded enough to stall the loop for a second (seen: 500 ms intervals lost connections); short enough that every
        // connection pings within the test.
        var heartbeat = new HeartbeatOptions { Interval = TimeSpan.FromSeconds(1) };
        var serverConnections = new List<FramedConnection>();
        var handlers = new List<Task>();
        StreamServer server = await StartFramedServerAsync(_test.Loop, "tcp4", connection =>
        {
            serverConnections.Add(connection);
            Task handler = ReadAllAsync(connection.Reader);
            handlers.Add(handler);
            return handler;
        }, LengthFieldFormat.Default, heartbeat, serverOptions: new Transports.ServerOptions { Backlog = Batch });
        await _test.YieldAsync();
        int baseline = ScheduledTimers;

        var clients = new List<FramedConnection>();
        while (clients.Count < Connections)
        {
            clients.AddRange(await Task.WhenAll(Enumerable.Range(0, Batch).Select(_ => OpenFramedAsync(_test.Loop, server, LengthFieldFormat.Default, heartbeat))));
            while (serverConnections.Count < clients.Count)
            {
                await _test.YieldAsync(1);
            }

            await _test.YieldAsync();
            Assert.Equal(baseline + (2 * clients.Count), ScheduledTimers);
        }

        // Every server reader skips at least one client ping: each connection's timer has fired and been re-armed.
        while (serverConnections.Any(c => c.Reader.PingsSkipped == 0))
        {
            await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(50));
        }

        await _test.YieldAsync();
        Assert.Equal(baseline + (2 * Connections), ScheduledTimers);

        // A graceful end, so no side closes with a ping still unread in its socket (which would reset the other):
        // each client half-closes and reads the server's pings until the server, its handler done, closes.
        Task[] clientsDone = clients.Select(async client =>
        {
            Task<List<DecodedFrame>> reading = ReadAllAsync(client.Reader);
            client.Writer.Writer.WriteEof();
            Assert.Empty(await reading);
            client.Close();
            await client.WaitClosedAsync();
        }).ToArray();
        await Task.WhenAll(clientsDone.Concat(handlers));
        while (server.Server.ConnectionCount > 0)
        {
            await _test.YieldAsync(1);
        }

        await _test.YieldAsync();
        Assert.Equal(baseline, ScheduledTimers);
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    }, seconds: 120);
}
