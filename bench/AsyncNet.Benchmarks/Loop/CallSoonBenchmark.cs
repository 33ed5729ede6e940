using AsyncNet.Loop;
using BenchmarkDotNet.Attributes;

namespace AsyncNet.Benchmarks.Loop;

/// <summary>
/// Callbacks per second: <see cref="EventLoop.CallSoon(Action{object?}, object?)"/> plus the loop
/// iteration that runs them, beside the thread pool's own queue (the nearest .NET baseline).
/// </summary>
[MemoryDiagnoser]
public class CallSoonBenchmark
{
    private const int Callbacks = 10_000;
    private static readonly Action<object?> s_noop = static _ => { };
    private EventLoop _loop = null!;
    private CountdownEvent _countdown = null!;
    private Action<CountdownEvent> _signal = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = new EventLoop();
        _countdown = new CountdownEvent(Callbacks);
        _signal = static c => c.Signal();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.Close();
        _countdown.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Callbacks)]
    public void ThreadPoolUnsafeQueueUserWorkItem()
    {
        _countdown.Reset();
        for (int i = 0; i < Callbacks; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_signal, _countdown, preferLocal: false);
        }

        _countdown.Wait();
    }

    [Benchmark(OperationsPerInvoke = Callbacks)]
    public void LoopCallSoon()
    {
        for (int i = 0; i < Callbacks; i++)
        {
            _loop.CallSoon(s_noop, this);
        }

        _loop.RunOnce();
    }
}
