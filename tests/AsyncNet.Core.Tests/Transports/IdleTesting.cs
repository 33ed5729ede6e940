using AsyncNet.Loop;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

/// <summary>A recording protocol that also records idle reports, and can answer them.</summary>
internal sealed class IdleRecordingProtocol : RecordingProtocol, IIdleAwareProtocol
{
    private TaskCompletionSource<IdleEvent>? _idleWaiter;

    /// <summary>Every report, in order.</summary>
    public List<IdleEvent> IdleEvents { get; } = [];

    /// <summary>Runs inside IdleDetected (after recording), for heartbeats and failures.</summary>
    public Action<IdleRecordingProtocol, IdleEvent>? OnIdle { get; set; }

    public void IdleDetected(IdleEvent idle)
    {
        Assert.Equal("made", Events.FirstOrDefault());
        Assert.DoesNotContain("lost", Events);
        Assert.False(Transport.IsClosing, "Idle reports stop once the transport is closing");
        IdleEvents.Add(idle);
        Events.Add("idle");
        OnIdle?.Invoke(this, idle);
        if (_idleWaiter is { } waiter)
        {
            _idleWaiter = null;
            waiter.TrySetResult(idle);
        }
    }

    /// <summary>Completes with the next report (not one already recorded).</summary>
    public Task<IdleEvent> NextIdleAsync()
    {
        _idleWaiter = new TaskCompletionSource<IdleEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _idleWaiter.Task;
    }
}

/// <summary>A buffered protocol that counts bytes and records idle reports: the transport's other read path.</summary>
internal sealed class BufferedIdleProtocol : IBufferedProtocol, IIdleAwareProtocol
{
    private readonly byte[] _buffer = new byte[1024];

    public List<IdleEvent> IdleEvents { get; } = [];

    public IStreamTransport Transport { get; private set; } = null!;

    public int ReceivedCount { get; private set; }

    public void ConnectionMade(ITransport transport) => Transport = (IStreamTransport)transport;

    public Memory<byte> GetBuffer(int sizeHint) => _buffer;

    public void BufferUpdated(int bytesWritten)
    {
        ReceivedCount += bytesWritten;

        // Answer each read, as a request/response server does: the flush ending this callback is the write.
        Transport.Write(_buffer.AsSpan(0, bytesWritten));
    }

    public void IdleDetected(IdleEvent idle) => IdleEvents.Add(idle);

    public void ConnectionLost(Exception? exception)
    {
    }
}

/// <summary>A loop on a clock that only the test moves, with real sockets, bounded by a real-time guard.</summary>
/// <remarks>Idle rules are checked here to the tick: nothing fires until the test advances the clock.</remarks>
internal sealed class ManualClockLoop : IDisposable
{
    public ManualClockLoop()
    {
        Loop = new EventLoop(new EventLoopOptions { TimeProvider = Clock });
        Loop.ExceptionHandler = (_, context) =>
        {
            lock (HandlerReports)
            {
                HandlerReports.Add(context);
            }
        };
    }

    public ManualTimeProvider Clock { get; } = new();

    public EventLoop Loop { get; }

    public List<LoopExceptionContext> HandlerReports { get; } = [];

    /// <summary>Runs <paramref name="body"/> on the loop; a real-time timer stops it (and the test fails) past <paramref name="seconds"/>.</summary>
    public void Run(Func<Task> body, int seconds = 20)
    {
        // The loop's own timers follow the manual clock, so the guard must be a real one.
        using var guard = new Timer(_ => Loop.Stop(), null, TimeSpan.FromSeconds(seconds), Timeout.InfiniteTimeSpan);
        Task task = Loop.CreateTask(body);
        try
        {
            Loop.RunUntilComplete(task);
        }
        catch (InvalidOperationException) when (!task.IsCompleted)
        {
            throw new TimeoutException($"The test body did not finish within {seconds} s.");
        }
    }

    /// <summary>Moves the clock on, then lets the timers that came due (and what they schedule) run.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        await Loop.YieldAsync(3);
    }

    /// <summary>Moves the clock on by <paramref name="milliseconds"/>, then lets due timers run.</summary>
    public Task AdvanceAsync(int milliseconds) => AdvanceAsync(TimeSpan.FromMilliseconds(milliseconds));

    public void Dispose() => Loop.Close();
}

/// <summary>A connected pair on one loop: a plain client and a server-side protocol that records idle reports.</summary>
internal sealed record IdlePair(Server Server, IStreamTransport Client, RecordingProtocol ClientProtocol, IdleRecordingProtocol ServerProtocol)
{
    public SocketStreamTransport ServerTransport => (SocketStreamTransport)ServerProtocol.Transport;

    /// <summary>Starts a server whose accepted connections use <paramref name="idle"/>, and connects one client to it.</summary>
    public static async Task<IdlePair> ConnectAsync(EventLoop loop, StreamFamily family, IdleOptions idle, Func<IdleRecordingProtocol>? factory = null)
    {
        var accepted = new TaskCompletionSource<IdleRecordingProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await family.CreateServerAsync(loop, () =>
        {
            IdleRecordingProtocol protocol = factory?.Invoke() ?? new IdleRecordingProtocol();
            accepted.TrySetResult(protocol);
            return protocol;
        }, new ServerOptions { Idle = idle });
        (IStreamTransport client, RecordingProtocol clientProtocol) = await family.ConnectAsync(loop, server, () => new RecordingProtocol());
        IdleRecordingProtocol serverProtocol = await accepted.Task;
        await serverProtocol.Made;
        return new IdlePair(server, client, clientProtocol, serverProtocol);
    }

    /// <summary>The client sends one byte and the test waits until the server has it.</summary>
    public async Task PeerSendsAsync()
    {
        int before = ServerProtocol.ReceivedCount;
        Client.Write("x"u8);
        await ServerProtocol.WaitForBytesAsync(before + 1);
    }

    /// <summary>Asserts the client saw the connection end: EOF, or a reset if bytes were left unread.</summary>
    public async Task PeerSeesCloseAsync()
    {
        Exception? lost = await ClientProtocol.Lost;
        Assert.True(
            lost is null ? ClientProtocol.Events.Contains("eof") : lost is AsyncNet.Errors.ConnectionResetException,
            $"The peer should see EOF or a reset; saw {lost?.GetType().Name ?? "null"} after {string.Join(",", ClientProtocol.Events)}");
    }

    public async Task DisposeAsync()
    {
        Client.Abort();
        await ClientProtocol.Lost;
        await ServerProtocol.Lost;
        await Server.DisposeAsync();
    }
}
