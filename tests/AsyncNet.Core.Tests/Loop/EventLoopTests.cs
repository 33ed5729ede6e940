using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Selectors;
using AsyncNet.Tests.Support;

namespace AsyncNet.Tests.Loop;

public sealed class EventLoopTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly EventLoop _loop = new();

    public void Dispose() => _loop.Close();

    [Fact]
    public void CallSoon_RunsCallbacksInFifoOrder()
    {
        var order = new List<int>();
        for (int i = 0; i < 5; i++)
        {
            _loop.CallSoon(s => order.Add((int)s!), i);
        }

        _loop.RunOnce();

        Assert.Equal([0, 1, 2, 3, 4], order);
    }

    [Fact]
    public void CallSoon_ScheduledDuringIteration_RunsOnNextIteration()
    {
        var order = new List<string>();
        _loop.CallSoon(() =>
        {
            order.Add("first");
            _loop.CallSoon(() => order.Add("scheduled by first"));
        });
        _loop.CallSoon(() => order.Add("second"));

        _loop.RunOnce();
        Assert.Equal(["first", "second"], order);

        _loop.RunOnce();
        Assert.Equal(["first", "second", "scheduled by first"], order);
    }

    [Fact]
    public void Handle_Cancel_PreventsTheCallbackAndIsIdempotent()
    {
        int runs = 0;
        Handle handle = _loop.CallSoon(() => runs++);
        handle.Cancel();
        handle.Cancel();
        _loop.CallSoon(() => runs += 10);

        _loop.RunOnce();

        Assert.True(handle.IsCancelled);
        Assert.Equal(10, runs);
    }

    [Fact]
    public void IsOnLoopThread_TrueOnlyOnTheThreadRunningTheLoop()
    {
        Assert.False(_loop.IsOnLoopThread, "Not running: no thread is the loop's");
        (bool inside, bool fromOtherThread) = _loop.RunUntilComplete(async () =>
        {
            bool other = await Task.Run(() => _loop.IsOnLoopThread);
            return (_loop.IsOnLoopThread, other);
        });

        Assert.True(inside);
        Assert.False(fromOtherThread);
        Assert.False(_loop.IsOnLoopThread, "Stopped: no thread is the loop's");
    }

    [Fact]
    public void CallSoon_FromAnotherThreadWhileRunning_Throws()
    {
        using var thread = new LoopThread(_loop);
        var ex = Assert.Throws<InvalidOperationException>(() => _loop.CallSoon(() => { }));
        Assert.Contains("CallSoonThreadSafe", ex.Message);
    }

    [Fact]
    public void CallSoonThreadSafe_FromAnotherThread_WakesABlockedSelect()
    {
        // No timers and no ready callbacks: the loop blocks in select without a timeout until woken. The signalling
        // selector says when the loop has committed to that select, so the call below cannot slip in before it.
        var selector = new SignallingSelector(SelectorFactory.CreateDefault());
        using var loop = new EventLoop(new EventLoopOptions { Selector = selector });
        var ranOn = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var thread = new LoopThread(loop);
        Assert.True(selector.WaitForUntimedSelect(Bound), "the idle loop never entered a select without a timeout");

        loop.CallSoonThreadSafe(() => ranOn.SetResult(Environment.CurrentManagedThreadId));

        Assert.True(ranOn.Task.Wait(Bound), "the blocked loop was not woken");
        Assert.Equal(thread.ManagedThreadId, ranOn.Task.Result);
    }

    [Fact]
    public void CallSoonThreadSafe_ManyThreads_RunsEveryCallbackOnce()
    {
        const int Threads = 4, PerThread = 5_000;
        int count = 0;
        using var all = new CountdownEvent(Threads * PerThread);
        using var thread = new LoopThread(_loop);

        Parallel.For(0, Threads, _ =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                _loop.CallSoonThreadSafe(_ =>
                {
                    count++; // loop thread only, so no interlocking is needed
                    all.Signal();
                }, null);
            }
        });

        Assert.True(all.Wait(Bound));
        Assert.Equal(Threads * PerThread, count);
    }

    [Fact]
    public void Stop_FromAnotherThread_EndsRunForever()
    {
        var thread = new LoopThread(_loop);
        _loop.Stop();
        Assert.True(thread.Join(Bound), "RunForever did not return after Stop");
    }

    [Fact]
    public void Stop_BeforeRunForever_RunsOneIteration()
    {
        int runs = 0;
        _loop.CallSoon(() => runs++);
        _loop.Stop();

        _loop.RunForever();

        Assert.Equal(1, runs);
        Assert.False(_loop.IsRunning);
    }

    [Fact]
    public void RunForever_WhileRunning_Throws()
    {
        Exception? nested = null;
        _loop.CallSoon(() =>
        {
            nested = Record.Exception(_loop.RunForever);
            _loop.Stop();
        });

        _loop.RunForever();

        Assert.IsType<InvalidOperationException>(nested);
    }

    [Fact]
    public void ExceptionInCallback_GoesToTheHandler_AndTheLoopKeepsRunning()
    {
        var contexts = new List<LoopExceptionContext>();
        _loop.ExceptionHandler = (_, context) => contexts.Add(context);
        bool laterRan = false;
        Handle bad = _loop.CallSoon(() => throw new InvalidDataException("boom"));
        _loop.CallSoon(() => laterRan = true);
        _loop.CallLater(TimeSpan.Zero, () => _loop.Stop());

        _loop.RunForever();

        LoopExceptionContext context = Assert.Single(contexts);
        Assert.IsType<InvalidDataException>(context.Exception);
        Assert.Same(bad, context.Handle);
        Assert.Contains("Exception in callback", context.Message);
        Assert.True(laterRan);
    }

    [Fact]
    public void ExceptionHandler_ThatThrows_DoesNotStopTheLoop()
    {
        _loop.ExceptionHandler = (_, _) => throw new InvalidOperationException("handler failed");
        bool laterRan = false;
        _loop.CallSoon(() => throw new InvalidDataException("boom"));
        _loop.CallSoon(() => laterRan = true);

        _loop.RunOnce();

        Assert.True(laterRan);
    }

    [Fact]
    public void Close_ThenSchedule_ThrowsObjectDisposed()
    {
        _loop.Close();
        _loop.Close();

        Assert.True(_loop.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => _loop.CallSoon(() => { }));
        Assert.Throws<ObjectDisposedException>(() => _loop.CallSoonThreadSafe(() => { }));
        Assert.Throws<ObjectDisposedException>(() => _loop.CallLater(TimeSpan.Zero, () => { }));
        Assert.Throws<ObjectDisposedException>(_loop.RunForever);
    }

    [Fact]
    public void Close_WhileRunning_Throws()
    {
        Exception? thrown = null;
        _loop.CallSoon(() =>
        {
            thrown = Record.Exception(_loop.Close);
            _loop.Stop();
        });

        _loop.RunForever();

        Assert.IsType<InvalidOperationException>(thrown);
    }

    [Fact]
    public void Current_IsTheRunningLoopOnItsThread_AndNullElsewhere()
    {
        EventLoop? inside = null;
        _loop.CallSoon(() =>
        {
            inside = EventLoop.Current;
            _loop.Stop();
        });

        _loop.RunForever();

        Assert.Same(_loop, inside);
        Assert.Null(EventLoop.Current);
    }

    [Fact]
    public void CallSoon_WithState_AllocatesOnlyTheHandle()
    {
        Action<object?> callback = static _ => { };
        object state = new();

        // Many calls, so the runtime's one-off work on this thread (a method tiering up) adds under a byte per call.
        const int Calls = 10_000;
        for (int i = 0; i < Calls; i++)
        {
            _loop.CallSoon(callback, state);
        }

        _loop.RunOnce(); // warm up the ready queue's capacity and the JIT

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            _loop.CallSoon(callback, state);
        }

        _loop.RunOnce();
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / Calls;

        // A Handle is an object header plus four fields (loop, callback, state, flag): 48 bytes on 64-bit.
        Assert.InRange(perCall, 1, 56);
    }

    [Fact]
    public void AddReader_FiresWhileReadable_AndRemoveReaderStopsIt()
    {
        (Socket a, Socket b) = ConnectedPair();
        using (a)
        using (b)
        {
            int fired = 0;
            _loop.AddReader(b, _ => fired++, null);

            _loop.CallSoon(() => { });
            _loop.RunOnce();
            Assert.Equal(0, fired);

            a.Send("x"u8);
            RunUntil(() => fired > 0);
            _loop.CallSoon(() => { });
            _loop.RunOnce();
            Assert.True(fired >= 2, "level-triggered: an unread byte keeps the socket ready");

            Assert.True(_loop.RemoveReader(b));
            Assert.False(_loop.RemoveReader(b));
            int afterRemove = fired;
            _loop.CallSoon(() => { });
            _loop.RunOnce();
            Assert.Equal(afterRemove, fired);
        }
    }

    [Fact]
    public void AddWriter_FiresWhenWritable_AlongsideAReader()
    {
        (Socket a, Socket b) = ConnectedPair();
        using (a)
        using (b)
        {
            int reads = 0, writes = 0;
            _loop.AddReader(b, () => reads++);
            _loop.AddWriter(b, () => writes++);

            RunUntil(() => writes > 0);
            Assert.Equal(0, reads);

            Assert.True(_loop.RemoveWriter(b));
            a.Send("x"u8);
            RunUntil(() => reads > 0);
            Assert.True(_loop.RemoveReader(b));
            Assert.Equal(0, _loop.Selector.Count - 1); // only the loop's own waker remains
        }
    }

    [Fact]
    public void AddReader_Twice_ReplacesTheCallback()
    {
        (Socket a, Socket b) = ConnectedPair();
        using (a)
        using (b)
        {
            int first = 0, second = 0;
            _loop.AddReader(b, () => first++);
            _loop.AddReader(b, () => second++);
            a.Send("x"u8);

            RunUntil(() => second > 0);

            Assert.Equal(0, first);
            _loop.RemoveReader(b);
        }
    }

    private void RunUntil(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + Bound;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            _loop.CallLater(TimeSpan.FromMilliseconds(20), () => { });
            _loop.RunOnce();
        }
    }

    internal static (Socket Client, Socket Server) ConnectedPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        Socket server = listener.Accept();
        client.Blocking = false;
        server.Blocking = false;
        return (client, server);
    }
}
