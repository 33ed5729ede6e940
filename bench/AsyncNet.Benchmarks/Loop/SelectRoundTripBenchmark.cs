using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Selectors;
using BenchmarkDotNet.Attributes;

namespace AsyncNet.Benchmarks.Loop;

/// <summary>
/// One idle loop iteration (a zero-timeout select that finds nothing, plus the loop's bookkeeping), beside
/// <see cref="Socket.Poll(int, SelectMode)"/> on an idle socket, the nearest .NET equivalent; and a
/// cross-thread wake-up round trip beside the thread pool's.
/// </summary>
public class SelectRoundTripBenchmark
{
    private static readonly Action<object?> s_noop = static _ => { };
    private EventLoop _loop = null!;
    private ISelector _selector = null!;
    private Socket _client = null!;
    private Socket _server = null!;
    private Thread _loopThread = null!;
    private EventLoop _wakeLoop = null!;
    private readonly SemaphoreSlim _done = new(0);

    [GlobalSetup]
    public void Setup()
    {
        _loop = new EventLoop();
        _selector = SelectorFactory.CreateDefault();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _client.Connect(listener.LocalEndPoint!);
        _server = listener.Accept();
        _server.Blocking = false;
        _selector.Register(_server, SelectorEvents.Read);

        _wakeLoop = new EventLoop();
        _loopThread = new Thread(_wakeLoop.RunForever) { IsBackground = true };
        _loopThread.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _wakeLoop.Stop();
        _loopThread.Join();
        _wakeLoop.Close();
        _selector.Dispose();
        _loop.Close();
        _client.Dispose();
        _server.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool SocketPollIdle() => _server.Poll(0, SelectMode.SelectRead);

    [Benchmark]
    public int SelectorSelectIdle() => _selector.Select(TimeSpan.Zero).Length;

    [Benchmark]
    public void LoopIterationWithOneCallback()
    {
        _loop.CallSoon(s_noop, null);
        _loop.RunOnce();
    }

    [Benchmark]
    public void ThreadPoolWakeRoundTrip()
    {
        ThreadPool.UnsafeQueueUserWorkItem(static s => ((SemaphoreSlim)s!).Release(), _done);
        _done.Wait();
    }

    [Benchmark]
    public void LoopCallSoonThreadSafeRoundTrip()
    {
        _wakeLoop.CallSoonThreadSafe(static s => ((SemaphoreSlim)s!).Release(), _done);
        _done.Wait();
    }
}
