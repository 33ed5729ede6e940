using AsyncNet.Loop;
using AsyncNet.Sync;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace AsyncNet.Benchmarks.Sync;

/// <summary>
/// Lock acquire/release per second: uncontended (the synchronous fast path) and contended (four tasks on one
/// loop taking turns, each holding the lock across an await), beside <see cref="SemaphoreSlim"/>(1, 1) doing the
/// same on the same loop (its continuations return through the loop's synchronization context).
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class LockBenchmark
{
    private const int Operations = 10_000;
    private const int Contenders = 4;
    private EventLoop _loop = null!;
    private AsyncLock _lock = null!;
    private SemaphoreSlim _semaphore = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = new EventLoop();
        _lock = new AsyncLock(_loop);
        _semaphore = new SemaphoreSlim(1, 1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop.Close();
        _semaphore.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    [BenchmarkCategory("Uncontended")]
    public void SemaphoreSlimUncontended()
    {
        for (int i = 0; i < Operations; i++)
        {
            _semaphore.WaitAsync().GetAwaiter().GetResult();
            _semaphore.Release();
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory("Uncontended")]
    public void AsyncLockUncontended()
    {
        for (int i = 0; i < Operations; i++)
        {
            _lock.AcquireAsync().GetAwaiter().GetResult().Dispose();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    [BenchmarkCategory("Contended")]
    public void SemaphoreSlimContendedOnLoop() => _loop.RunUntilComplete(() => Contend(async () =>
    {
        await _semaphore.WaitAsync();
        await Task.Yield();
        _semaphore.Release();
    }));

    [Benchmark(OperationsPerInvoke = Operations)]
    [BenchmarkCategory("Contended")]
    public void AsyncLockContendedOnLoop() => _loop.RunUntilComplete(() => Contend(async () =>
    {
        using (await _lock.AcquireAsync())
        {
            await Task.Yield();
        }
    }));

    private static Task Contend(Func<Task> criticalSection)
    {
        var contenders = new Task[Contenders];
        for (int c = 0; c < Contenders; c++)
        {
            contenders[c] = Run();
        }

        return Task.WhenAll(contenders);

        async Task Run()
        {
            for (int i = 0; i < Operations / Contenders; i++)
            {
                await criticalSection();
            }
        }
    }
}
