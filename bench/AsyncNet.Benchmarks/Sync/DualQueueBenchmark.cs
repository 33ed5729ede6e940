using System.Threading.Channels;
using AsyncNet.Loop;
using AsyncNet.Sync;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace AsyncNet.Benchmarks.Sync;

/// <summary>
/// Dual-queue hand-off per second between a plain thread and a task on a loop, both directions, beside a
/// bounded <see cref="Channel{T}"/> of the same capacity used the same way (the thread blocks on
/// <c>WaitToWriteAsync</c>/<c>WaitToReadAsync</c>, the loop task awaits).
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class DualQueueBenchmark
{
    private const int Items = 10_000;
    private const int Capacity = 64;
    private EventLoop _loop = null!;

    [GlobalSetup]
    public void Setup() => _loop = new EventLoop();

    [GlobalCleanup]
    public void Cleanup() => _loop.Close();

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [BenchmarkCategory("ThreadToLoop")]
    public long ChannelThreadToLoop()
    {
        Channel<int> channel = Channel.CreateBounded<int>(Capacity);
        return _loop.RunUntilComplete(async () =>
        {
            var producer = new Thread(() =>
            {
                ChannelWriter<int> writer = channel.Writer;
                for (int i = 0; i < Items; i++)
                {
                    while (!writer.TryWrite(i))
                    {
                        writer.WaitToWriteAsync().AsTask().GetAwaiter().GetResult();
                    }
                }
            });
            producer.Start();
            long sum = 0;
            for (int i = 0; i < Items; i++)
            {
                sum += await channel.Reader.ReadAsync();
            }

            producer.Join();
            return sum;
        });
    }

    [Benchmark(OperationsPerInvoke = Items)]
    [BenchmarkCategory("ThreadToLoop")]
    public long DualQueueThreadToLoop()
    {
        var queue = new DualQueue<int>(_loop, Capacity);
        return _loop.RunUntilComplete(async () =>
        {
            var producer = new Thread(() =>
            {
                for (int i = 0; i < Items; i++)
                {
                    queue.SyncSide.Put(i);
                }
            });
            producer.Start();
            long sum = 0;
            for (int i = 0; i < Items; i++)
            {
                sum += await queue.AsyncSide.GetAsync();
            }

            producer.Join();
            return sum;
        });
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    [BenchmarkCategory("LoopToThread")]
    public long ChannelLoopToThread()
    {
        Channel<int> channel = Channel.CreateBounded<int>(Capacity);
        long sum = 0;
        var consumer = new Thread(() =>
        {
            ChannelReader<int> reader = channel.Reader;
            for (int i = 0; i < Items; i++)
            {
                int item;
                while (!reader.TryRead(out item))
                {
                    reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();
                }

                sum += item;
            }
        });
        consumer.Start();
        _loop.RunUntilComplete(async () =>
        {
            for (int i = 0; i < Items; i++)
            {
                await channel.Writer.WriteAsync(i);
            }
        });
        consumer.Join();
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Items)]
    [BenchmarkCategory("LoopToThread")]
    public long DualQueueLoopToThread()
    {
        var queue = new DualQueue<int>(_loop, Capacity);
        long sum = 0;
        var consumer = new Thread(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                sum += queue.SyncSide.Get();
            }
        });
        consumer.Start();
        _loop.RunUntilComplete(async () =>
        {
            for (int i = 0; i < Items; i++)
            {
                await queue.AsyncSide.PutAsync(i);
            }
        });
        consumer.Join();
        return sum;
    }
}
