using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Loop;

/// <summary>A loop on its own thread, and the tools that cross threads: RunCoroutineThreadSafe, RunInExecutorAsync, the any-thread entry points.</summary>
public sealed class CrossThreadTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task StartOnNewThread_RunsTheLoopOnADedicatedBackgroundThread_AndDisposeAsyncStopsAndClosesIt()
    {
        EventLoop loop = EventLoop.StartOnNewThread(threadName: "test loop");
        Assert.True(loop.IsRunning);
        Assert.False(loop.IsOnLoopThread);

        (string? name, bool background, int id) = await loop.RunCoroutineThreadSafe(() =>
            Task.FromResult((Thread.CurrentThread.Name, Thread.CurrentThread.IsBackground, Environment.CurrentManagedThreadId))).WaitAsync(s_limit);
        Assert.Equal("test loop", name);
        Assert.True(background);
        Assert.NotEqual(Environment.CurrentManagedThreadId, id);

        await loop.DisposeAsync().AsTask().WaitAsync(s_limit);
        Assert.True(loop.IsClosed);
        Assert.False(loop.IsRunning);
    }

    [Fact]
    public async Task DisposeAsync_FromTheLoopsOwnThread_StopsIt_AndTheThreadClosesItAsItUnwinds()
    {
        EventLoop loop = EventLoop.StartOnNewThread();
        var closedSeenFromLoop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.CallSoonThreadSafe(() =>
        {
            ValueTask disposing = loop.DisposeAsync();
            closedSeenFromLoop.SetResult(disposing.IsCompleted && !loop.IsClosed);
        });

        Assert.True(await closedSeenFromLoop.Task.WaitAsync(s_limit), "Disposing on the loop thread returns at once, before the close");
        while (!loop.IsClosed)
        {
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task RunCoroutineThreadSafe_RunsTheWorkOnTheLoop_AndResumesItsCallerOffTheLoop()
    {
        await using EventLoop loop = EventLoop.StartOnNewThread();
        bool workOnLoop = false;
        bool resumedOnLoop = true;
        await Task.Run(async () =>
        {
            int result = await loop.RunCoroutineThreadSafe(async () =>
            {
                await loop.SleepAsync(TimeSpan.FromMilliseconds(1));
                workOnLoop = loop.IsOnLoopThread;
                return 42;
            });
            resumedOnLoop = loop.IsOnLoopThread;
            Assert.Equal(42, result);
        }).WaitAsync(s_limit);

        Assert.True(workOnLoop);
        Assert.False(resumedOnLoop, "A caller that is not loop code must never resume on the loop thread");
    }

    [Fact]
    public async Task RunCoroutineThreadSafe_PassesFailuresAndCancellationThrough()
    {
        await using EventLoop loop = EventLoop.StartOnNewThread();
        var failure = await Assert.ThrowsAsync<InvalidDataException>(
            () => loop.RunCoroutineThreadSafe<int>(() => throw new InvalidDataException("bad")).WaitAsync(s_limit));
        Assert.Equal("bad", failure.Message);

        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        bool ran = false;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.RunCoroutineThreadSafe(() =>
        {
            ran = true;
            return Task.CompletedTask;
        }, cancelled.Token).WaitAsync(s_limit));
        Assert.False(ran, "Work cancelled before it started never runs");

        using var inside = new CancellationTokenSource();
        var canceledInside = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop.RunCoroutineThreadSafe(async () =>
        {
            await inside.CancelAsync();
            inside.Token.ThrowIfCancellationRequested();
        }).WaitAsync(s_limit));
        Assert.Equal(inside.Token, canceledInside.CancellationToken);
    }

    [Fact]
    public async Task RunCoroutineThreadSafe_OnALoopThatClosesBeforeTheWorkStarts_FailsInsteadOfHanging()
    {
        var loop = new EventLoop();
        Task<int> neverStarted = loop.RunCoroutineThreadSafe(() => Task.FromResult(1));
        loop.Close();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => neverStarted.WaitAsync(s_limit));
        Exception? thrown = Record.Exception(() =>
        {
            // Thrown at once, not through the task: a closed loop takes no new work.
            _ = loop.RunCoroutineThreadSafe(() => Task.FromResult(1));
        });
        Assert.IsType<ObjectDisposedException>(thrown);
    }

    [Fact]
    public async Task ATaskOnOneLoop_AwaitsWorkOnAnother_AndResumesOnItsOwnLoop()
    {
        await using EventLoop a = EventLoop.StartOnNewThread();
        await using EventLoop b = EventLoop.StartOnNewThread();
        (bool ranOnB, bool resumedOnA) = await a.RunCoroutineThreadSafe(async () =>
        {
            bool onB = await b.RunCoroutineThreadSafe(() => Task.FromResult(b.IsOnLoopThread));
            return (onB, a.IsOnLoopThread);
        }).WaitAsync(s_limit);

        Assert.True(ranOnB);
        Assert.True(resumedOnA);
    }

    [Fact]
    public async Task RunInExecutorAsync_RunsBlockingWorkOnThePool_AndCompletesOnTheLoopThread()
    {
        await using EventLoop loop = EventLoop.StartOnNewThread();
        (bool workOnLoop, bool resumedOnLoop, int value) = await loop.RunCoroutineThreadSafe(async () =>
        {
            bool onLoop = true;
            int result = await loop.RunInExecutorAsync(() =>
            {
                onLoop = loop.IsOnLoopThread;
                Thread.Sleep(10);
                return 7;
            });
            return (onLoop, loop.IsOnLoopThread, result);
        }).WaitAsync(s_limit);

        Assert.False(workOnLoop);
        Assert.True(resumedOnLoop);
        Assert.Equal(7, value);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => loop.ToThreadAsync(() => throw new InvalidOperationException("blocked")).WaitAsync(s_limit));
        Assert.Equal("blocked", error.Message);
    }

    [Fact]
    public async Task ConnectAndServe_FromThreadPoolThreads_RunOnTheLoop_AndTheirCallersResumeOffIt()
    {
        await using EventLoop loop = EventLoop.StartOnNewThread();
        var echo = new List<EchoProtocol>();
        Server server = await Task.Run(() => loop.CreateServerAsync(() => new EchoProtocol(), "127.0.0.1", 0)).WaitAsync(s_limit);
        Assert.False(loop.IsOnLoopThread);
        int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;

        // Sixteen threads connect at once; every transport is made on the loop, every caller resumes on its own side.
        (IStreamTransport Transport, RecordingProtocol Protocol)[] clients = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            var connected = await loop.CreateConnectionAsync(() => new RecordingProtocol(), "127.0.0.1", port);
            Assert.False(loop.IsOnLoopThread);
            return connected;
        }))).WaitAsync(s_limit);

        await loop.RunCoroutineThreadSafe(async () =>
        {
            foreach ((IStreamTransport transport, RecordingProtocol protocol) in clients)
            {
                transport.Write("ping"u8);
                await protocol.WaitForBytesAsync(4);
                transport.Close();
                await protocol.Lost;
            }

            server.Close();
        }).WaitAsync(s_limit);

        // The loop-bound members still refuse other threads.
        Assert.Throws<InvalidOperationException>(() => clients[0].Transport.Write("x"u8));
    }

    [Fact]
    public async Task UnixServeAndConnect_FromAnotherThread_WorkTheSameWay()
    {
        await using EventLoop loop = EventLoop.StartOnNewThread();
        string path = StreamFamily.TempSocketPath();
        Server server = await loop.CreateUnixServerAsync(() => new EchoProtocol(), path).WaitAsync(s_limit);
        (IStreamTransport transport, RecordingProtocol protocol) = await loop.CreateUnixConnectionAsync(() => new RecordingProtocol(), path).WaitAsync(s_limit);
        await loop.RunCoroutineThreadSafe(async () =>
        {
            transport.Write("unix"u8);
            await protocol.WaitForBytesAsync(4);
            transport.Abort();
            server.Close();
        }).WaitAsync(s_limit);
        Assert.Equal("unix"u8.ToArray(), protocol.Received);
    }

    [Fact]
    public async Task AConnectStartedFromAnotherThread_OnALoopThatThenCloses_FailsInsteadOfHanging()
    {
        var loop = new EventLoop();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var posted = new TaskCompletionSource();
        Task connecting = Task.Run(() =>
        {
            // The loop is not running: the connect waits in its queue.
            var queued = loop.CreateConnectionAsync(() => new RecordingProtocol(), "127.0.0.1", ((IPEndPoint)listener.LocalEndPoint!).Port);
            posted.SetResult();
            return queued;
        });
        await posted.Task.WaitAsync(s_limit);
        loop.Close();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => connecting.WaitAsync(s_limit));
    }
}
