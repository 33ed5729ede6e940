using AsyncNet.Loop;
using BenchmarkDotNet.Attributes;

namespace AsyncNet.Benchmarks.Loop;

/// <summary>
/// Timers scheduled and cancelled per second (the shape of a read timeout that rarely fires), beside
/// .NET's <see cref="ITimer"/> from <see cref="TimeProvider.System"/> and <see cref="Task.Delay(TimeSpan, CancellationToken)"/>.
/// </summary>
[MemoryDiagnoser]
public class TimerBenchmark
{
    private const int Timers = 10_000;
    private static readonly Action<object?> s_noop = static _ => { };
    private static readonly TimerCallback s_timerNoop = static _ => { };
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(30);
    private EventLoop _loop = null!;

    [GlobalSetup]
    public void Setup() => _loop = new EventLoop();

    [GlobalCleanup]
    public void Cleanup() => _loop.Close();

    [Benchmark(Baseline = true, OperationsPerInvoke = Timers)]
    public void SystemTimerCreateDispose()
    {
        for (int i = 0; i < Timers; i++)
        {
            TimeProvider.System.CreateTimer(s_timerNoop, null, Delay, Timeout.InfiniteTimeSpan).Dispose();
        }
    }

    [Benchmark(OperationsPerInvoke = Timers)]
    public void TaskDelayCancel()
    {
        for (int i = 0; i < Timers; i++)
        {
            using var cts = new CancellationTokenSource();
            Task delay = Task.Delay(Delay, cts.Token);
            cts.Cancel();
            _ = delay.Exception;
        }
    }

    [Benchmark(OperationsPerInvoke = Timers)]
    public void LoopCallLaterCancel()
    {
        for (int i = 0; i < Timers; i++)
        {
            _loop.CallLater(Delay, s_noop, this).Cancel();
        }

        // One iteration compacts the heap, as a running loop would.
        _loop.CallSoon(s_noop, null);
        _loop.RunOnce();
    }
}
