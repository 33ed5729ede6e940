using AsyncNet.Errors;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// Idle detection through the stream endpoints, on real sockets with short timeouts: close-on-idle surfaces from reads,
/// drains and <see cref="StreamWriter.WaitClosedAsync"/>; <see cref="StreamOptions.OnIdle"/> sees reports with the writer.
/// </summary>
public sealed class IdleStreamTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void CloseOnIdle_SilentClient_ServersPendingReadThrowsIdleTimeout_AndTheClientSeesEof(string family)
    {
        StreamFamily f = StreamFamily.Get(family);
        _test.Run(async () =>
        {
            var serverOutcome = new TaskCompletionSource<(Exception Read, Exception? Closed)>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await f.StartServerAsync(
                _test.Loop,
                async (reader, writer) =>
                {
                    Exception read = await Assert.ThrowsAnyAsync<Exception>(async () => await reader.ReadAsync(10));
                    Exception? closed = await Record.ExceptionAsync(() => writer.WaitClosedAsync());
                    serverOutcome.SetResult((read, closed));
                },
                serverOptions: new ServerOptions { Idle = new IdleOptions { ReadIdle = TimeSpan.FromMilliseconds(100), CloseOnIdle = true } });

            (StreamReader reader, StreamWriter writer) = await f.OpenAsync(_test.Loop, server);
            (Exception read, Exception? closed) = await serverOutcome.Task;

            // The exception ConnectionLost got, itself: not wrapped, not turned into EOF.
            var timeout = Assert.IsType<IdleTimeoutException>(read);
            Assert.Equal(IdleKind.Read, timeout.Kind);
            Assert.Equal(TimeSpan.FromMilliseconds(100), timeout.Timeout);
            Assert.Same(timeout, closed);

            Assert.Empty(await reader.ReadAsync(10));
            Assert.True(reader.AtEof);
            writer.Close();
            await writer.WaitClosedAsync();
        });
    }

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void CloseOnIdle_ServerNeverAnswers_ClientsPendingDrainThrowsIdleTimeout(string family)
    {
        StreamFamily f = StreamFamily.Get(family);
        _test.Run(async () =>
        {
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await f.StartServerAsync(
                _test.Loop,
                async (_, _) => await release.Task,
                new StreamOptions { Limit = 1024 },
                new ServerOptions { ReceiveBufferSize = 4096 });

            (StreamReader reader, StreamWriter writer) = await f.OpenAsync(
                _test.Loop,
                server,
                connectionOptions: new ConnectionOptions
                {
                    SendBufferSize = 4096,
                    Idle = new IdleOptions { ReadIdle = TimeSpan.FromMilliseconds(150), CloseOnIdle = true },
                });

            // More than the kernels hold while nobody reads: the drain must wait, and the silence ends it.
            writer.Write(new byte[4 * 1024 * 1024]);
            ValueTask drain = writer.DrainAsync();
            Assert.False(drain.IsCompleted, "The drain should wait: the server reads nothing");

            var timeout = await Assert.ThrowsAsync<IdleTimeoutException>(async () => await drain);
            Assert.Equal(IdleKind.Read, timeout.Kind);
            Assert.Same(timeout, await Assert.ThrowsAsync<IdleTimeoutException>(async () => await reader.ReadAsync(1)));
            Assert.Same(timeout, await Assert.ThrowsAsync<IdleTimeoutException>(async () => await writer.DrainAsync()));
            Assert.Same(timeout, await Assert.ThrowsAsync<IdleTimeoutException>(() => writer.WaitClosedAsync()));
            release.SetResult();
        });
    }

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void OnIdle_WriteIdle_HeartbeatWrittenFromTheCallbackReachesTheServer(string family)
    {
        StreamFamily f = StreamFamily.Get(family);
        _test.Run(async () =>
        {
            var pings = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await f.StartServerAsync(_test.Loop, async (reader, _) =>
            {
                string first = Bytes.Text(await reader.ReadLineAsync());
                string second = Bytes.Text(await reader.ReadLineAsync());
                pings.SetResult(first + second);
            });

            var reports = new List<IdleEvent>();
            var options = new StreamOptions
            {
                OnIdle = (writer, idle) =>
                {
                    reports.Add(idle);
                    if (idle.Kind == IdleKind.Write)
                    {
                        writer.Write(Bytes.Ascii("ping\n"));
                    }
                },
            };
            (_, StreamWriter writer) = await f.OpenAsync(
                _test.Loop, server, options, new ConnectionOptions { Idle = new IdleOptions { WriteIdle = TimeSpan.FromMilliseconds(50) } });

            Assert.Equal("ping\nping\n", await pings.Task);

            // Each ping is a write, so each report starts a new quiet stretch.
            Assert.All(reports, r => Assert.True(r.Kind == IdleKind.Write && r.IsFirst, r.ToString()));
            writer.Close();
            await writer.WaitClosedAsync();
            Assert.Empty(_test.HandlerReports);
        });
    }

    [Fact]
    public void OnIdle_OnTheServer_GetsEachConnectionsWriter_AndCanCloseIt()
    {
        _test.Run(async () =>
        {
            var handlerSawEof = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(
                _test.Loop,
                async (reader, _) => handlerSawEof.SetResult((await reader.ReadAsync(10)).Length == 0),
                new StreamOptions { OnIdle = static (writer, idle) => writer.Close() },
                new ServerOptions { Idle = new IdleOptions { ReadIdle = TimeSpan.FromMilliseconds(100) } });

            (StreamReader reader, StreamWriter writer) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);

            // A close from the callback is a plain close: the client sees EOF, the server's read ends without an error.
            Assert.Empty(await reader.ReadAsync(10));
            Assert.True(await handlerSawEof.Task);
            writer.Close();
            await writer.WaitClosedAsync();
        });
    }
}
