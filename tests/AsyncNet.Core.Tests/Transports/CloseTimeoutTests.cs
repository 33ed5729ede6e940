using AsyncNet.Errors;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary>
/// <see cref="StreamTransportOptions.CloseTimeout"/> over real TCP connections on a manual clock: a graceful close that
/// cannot flush to a peer that stops reading is aborted at the timeout; one that flushes in time closes cleanly.
/// </summary>
public sealed class CloseTimeoutTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);

    // Far more than loopback's kernel buffers on both sides hold, so a peer that does not read leaves bytes queued.
    private const int Flood = 32 * 1024 * 1024;

    private readonly ManualClockLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void Close_PeerTakesNothing_AbortedAtTheTimeout_WithCloseTimeoutException() => _test.Run(async () =>
    {
        (Server server, IStreamTransport client, RecordingProtocol clientProtocol, RecordingProtocol serverProtocol) = await ConnectAsync();
        client.PauseReading();
        serverProtocol.Transport.Write(new byte[Flood]);
        Assert.True(serverProtocol.Transport.WriteBufferSize > 0, "The kernel cannot take it all");
        serverProtocol.Transport.Close();

        await _test.AdvanceAsync(199);
        Assert.False(serverProtocol.Lost.IsCompleted, "Still flushing before the timeout");
        await _test.AdvanceAsync(1);
        var timedOut = Assert.IsType<CloseTimeoutException>(await serverProtocol.Lost);
        Assert.Equal(Timeout, timedOut.Timeout);
        Assert.True(timedOut.Unsent > 0 && timedOut.Unsent < Flood, $"Unsent {timedOut.Unsent}");
        Assert.Contains("did not take the last", timedOut.Message);
        Assert.Equal(System.Net.Sockets.SocketError.TimedOut, timedOut.SocketError);

        client.Abort();
        await clientProtocol.Lost;
        await server.DisposeAsync();
        Assert.Empty(_test.HandlerReports);
    });

    [Fact]
    public void Close_PeerReadsEverything_ClosesCleanly_AndLeavesNoTimer() => _test.Run(async () =>
    {
        (Server server, IStreamTransport client, RecordingProtocol clientProtocol, RecordingProtocol serverProtocol) = await ConnectAsync();
        int timers = _test.Loop.ScheduledTimerCount;
        byte[] data = RawPeer.Pattern(4 * 1024 * 1024);
        serverProtocol.Transport.Write(data);
        serverProtocol.Transport.Close();

        Assert.Null(await serverProtocol.Lost);
        await clientProtocol.WaitForBytesAsync(data.Length);
        Assert.Equal(data, clientProtocol.Received);

        // The timer, if the close had to wait, was cancelled: it leaves the heap once its time comes.
        await _test.AdvanceAsync(Timeout);
        await _test.AdvanceAsync(1);
        Assert.Equal(timers, _test.Loop.ScheduledTimerCount);
        client.Abort();
        await clientProtocol.Lost;
        await server.DisposeAsync();
    });

    [Fact]
    public void CloseTimeout_NotPositive_Refused() => _test.Run(async () =>
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () => new RecordingProtocol(), new ServerOptions { CloseTimeout = TimeSpan.Zero }));
    });

    private async Task<(Server Server, IStreamTransport Client, RecordingProtocol ClientProtocol, RecordingProtocol ServerProtocol)> ConnectAsync()
    {
        var accepted = new TaskCompletionSource<RecordingProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await StreamFamily.Tcp4.CreateServerAsync(_test.Loop, () =>
        {
            var protocol = new RecordingProtocol();
            accepted.TrySetResult(protocol);
            return protocol;
        }, new ServerOptions { CloseTimeout = Timeout });
        (IStreamTransport client, RecordingProtocol clientProtocol) = await StreamFamily.Tcp4.ConnectAsync(_test.Loop, server, () => new RecordingProtocol());
        RecordingProtocol serverProtocol = await accepted.Task;
        await serverProtocol.Made;
        return (server, client, clientProtocol, serverProtocol);
    }
}
