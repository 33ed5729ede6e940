using System.Threading.Channels;
using AsyncNet.Loop;
using AsyncNet.Sync;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace AsyncNet.Benchmarks.Sync;

/// <summary>
/// Queue put/get per second, beside a bounded <see cref="Channel{T}"/> of the same capacity: the synchronous
/// fast path (put then get in one task), and a producer task handing items to a consumer task on one loop
/// through a small bound, so both sides wait in turn.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class QueueBenchmark
{
    private const int Items = 10_000;
    private const int Capacity = 16;
    private EventLoop _loop = null!;
    private AsyncQueue<int> _queue = null!;
    private Channel<int> _channel = null!;

    [GlobalSetup]
    public void Setup()
    {
        _loop = new EventLoop();
        _queue = new AsyncQueue<int>(_loop, Capacity);
        _channel = Channel.CreateBounded<int>(new BoundedChannelOptions(Capacity) { SingleReader = false, SingleWriter = false });
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Close();

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [BenchmarkCategory("FastPath")]
    public int ChannelPutGet()
    {
        int sum = 0;
        for (int i = 0; i < Items; i++)
        {
            _channel.Writer.WriteAsync(i).GetAwaiter().GetResult();
            sum += _channel.Reader.ReadAsync().GetAwaiter().GetResult();
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Items)]
    [BenchmarkCategory("FastPath")]
    public int AsyncQueuePutGet()
    {
        int sum = 0;
        for (int i = 0; i < Items; i++)
        {
            _queue.PutAsync(i).GetAwaiter().GetResult();
            sum += _queue.GetAsync().GetAwaiter().GetResult();
        }

        return sum;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [BenchmarkCategory("HandOff")]
    public int ChannelProducerConsumerOnLoop() => _loop.RunUntilComplete(async () =>
    {
        Task producer = Produce();
        int sum = 0;
        for (int i = 0; i < Items; i++)
        {
            sum += await _channel.Reader.ReadAsync();
        }

        await producer;
        return sum;

        async Task Produce()
        {
            for (int i = 0; i < Items; i++)
            {
                await _channel.Writer.WriteAsync(i);
            }
        }
    });

    [Benchmark(OperationsPerInvoke = Items)]
    [BenchmarkCategory("HandOff")]
    public int AsyncQueueProducerConsumerOnLoop() => _loop.RunUntilComplete(async () =>
    {
        Task producer = Produce();
        int sum = 0;
        for (int i = 0; i < Items; i++)
        {
            sum += await _queue.GetAsync();
        }

        await producer;
        return sum;

        async Task Produce()
        {
            for (int i = 0; i < Items; i++)
            {
                await _queue.PutAsync(i);
            }
        }
    });
}
