using AsyncNet.Loop;
using BenchmarkDotNet.Attributes;

namespace AsyncNet.Benchmarks.Loop;

/// <summary>
/// One round trip from ordinary .NET code into a loop on its own thread and back: RunCoroutineThreadSafe against
/// Task.Run (a thread-pool work item and back), the nearest .NET way to hand work to another thread and await it.
/// </summary>
public class CrossThreadBenchmark
{
    private static readonly Func<Task<int>> s_work = static () => Task.FromResult(1);
    private EventLoop _loop = null!;
    private EventLoopGroup _group = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = EventLoop.StartOnNewThread();
        _group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 2 });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.DisposeAsync().AsTask().Wait();
        _group.ShutdownAsync(TimeSpan.Zero).Wait();
    }

    [Benchmark(Baseline = true)]
    public Task<int> ThreadPoolRoundTrip() => Task.Run(s_work);

    [Benchmark]
    public Task<int> RunCoroutineThreadSafeRoundTrip() => _loop.RunCoroutineThreadSafe(s_work);

    /// <summary>A task on one loop awaiting work on another (and resuming on its own): two cross-thread hops.</summary>
    [Benchmark]
    public Task<int> LoopToLoopRoundTrip()
    {
        EventLoop other = _group.Loops[1];
        return _group.Loops[0].RunCoroutineThreadSafe(() => other.RunCoroutineThreadSafe(s_work));
    }
}
