using AsyncNet.Loop;

namespace AsyncNet.Tests.Support;

/// <summary>Runs a loop's <see cref="EventLoop.RunForever"/> on a dedicated thread, for tests that poke it from outside.</summary>
internal sealed class LoopThread : IDisposable
{
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _started = new();

    public LoopThread(EventLoop loop)
    {
        Loop = loop;
        _thread = new Thread(() =>
        {
            Loop.CallSoon(() => _started.Set());
            Loop.RunForever();
        }) { IsBackground = true, Name = "test event loop" };
        _thread.Start();
        Assert.True(_started.Wait(TimeSpan.FromSeconds(10)), "the loop thread did not start");
    }

    public EventLoop Loop { get; }

    public int ManagedThreadId => _thread.ManagedThreadId;

    /// <summary>Waits for RunForever to return; false if it did not within the timeout.</summary>
    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    public void Dispose()
    {
        Loop.Stop();
        Assert.True(_thread.Join(TimeSpan.FromSeconds(10)), "the loop thread did not stop");
        Loop.Close();
        _started.Dispose();
    }
}
