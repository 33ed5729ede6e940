using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary>
/// Idle detection on the real clock with short timeouts: reports and close-on-idle over TCP and Unix sockets, and a peer
/// thread's trickle keeping a connection open.
/// </summary>
public sealed class IdleTimeoutTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public static TheoryData<string> Families => ["tcp4", "tcp6", "unix"];

    public void Dispose() => _test.Dispose();

    [Theory]
    [MemberData(nameof(Families))]
    public void ReadIdle_SilentPeer_ReportedAfterAtLeastTheTimeout(string family) => _test.Run(async () =>
    {
        TimeSpan timeout = TimeSpan.FromMilliseconds(100);
        IdlePair pair = await IdlePair.ConnectAsync(_test.Loop, Family(family), new IdleOptions { ReadIdle = timeout });
        IdleEvent first = await pair.ServerProtocol.NextIdleAsync();
        Assert.Equal(IdleKind.Read, first.Kind);
        Assert.True(first.IsFirst);
        Assert.True(first.IdleTime >= timeout, $"Reported after {first.IdleTime}");

        IdleEvent repeat = await pair.ServerProtocol.NextIdleAsync();
        Assert.False(repeat.IsFirst);
        Assert.True(repeat.IdleTime >= 2 * timeout, $"Repeat after {repeat.IdleTime}");
        await pair.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Theory]
    [MemberData(nameof(Families))]
    public void CloseOnIdle_SilentPeer_ClosedWithIdleTimeout_AndThePeerSeesTheClose(string family) => _test.Run(async () =>
    {
        IdlePair pair = await IdlePair.ConnectAsync(
            _test.Loop, Family(family), new IdleOptions { ReadIdle = TimeSpan.FromMilliseconds(100), CloseOnIdle = true });

        var timeout = Assert.IsType<IdleTimeoutException>(await pair.ServerProtocol.Lost);
        Assert.Equal(IdleKind.Read, timeout.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(100), timeout.Timeout);
        Assert.Contains("100 ms", timeout.Message, StringComparison.Ordinal);
        await pair.PeerSeesCloseAsync();
        await pair.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void CloseOnIdle_PeerThreadTrickles_StaysOpenPastSeveralTimeouts_ThenClosesOnceItStops() => _test.Run(async () =>
    {
        // The peer is a thread of its own, so a slow loop iteration cannot starve it: the bytes are in the socket
        // before the idle check runs (the loop handles readiness before timers in an iteration).
        TimeSpan timeout = TimeSpan.FromMilliseconds(300);
        var accepted = new TaskCompletionSource<IdleRecordingProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () =>
        {
            var protocol = new IdleRecordingProtocol();
            accepted.TrySetResult(protocol);
            return protocol;
        }, new ServerOptions { Idle = new IdleOptions { ReadIdle = timeout, CloseOnIdle = true } });
        using Socket peer = StreamFamily.Tcp4.ConnectRaw(server);
        IdleRecordingProtocol serverProtocol = await accepted.Task;
        await serverProtocol.Made;

        const int ticks = 75;
        var trickle = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < ticks; i++)
                {
                    peer.Send("t"u8);
                    Thread.Sleep(20);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Closed under the trickle: the assertions below report it.
            }
        }) { IsBackground = true, Name = "idle trickle peer" };
        TimeSpan start = _test.Loop.Time;
        trickle.Start();
        await serverProtocol.WaitForBytesAsync(ticks);
        TimeSpan open = _test.Loop.Time - start;

        Assert.False(serverProtocol.Transport.IsClosing, $"Closed during the trickle, after {open}");
        Assert.True(open > 3 * timeout, $"The trickle should outlast three timeouts; it lasted {open}");

        Assert.IsType<IdleTimeoutException>(await serverProtocol.Lost);
        Assert.Equal(0, peer.Receive(new byte[1]));
        trickle.Join();
        await server.DisposeAsync();
    });

    private static StreamFamily Family(string name) => name switch
    {
        "tcp4" => StreamFamily.Tcp4,
        "tcp6" => StreamFamily.Tcp6,
        _ => StreamFamily.Unix,
    };
}
