using AsyncNet.Buffers;
using AsyncNet.Loop;
using AsyncNet.Tests.Support;
using AsyncNet.Transports;

namespace AsyncNet.Tests.Transports;

public sealed class WriteQueueTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly BufferPool _pool;

    public WriteQueueTests() => _pool = _loop.BufferPool;

    public void Dispose() => _loop.Close();

    [Fact]
    public void Append_SmallWrites_FillOneSegment()
    {
        var queue = new WriteQueue(_pool);
        for (int i = 0; i < 100; i++)
        {
            queue.Append([(byte)i, (byte)i]);
        }

        Assert.Equal(200, queue.Bytes);
        Assert.Equal(1, queue.SegmentCount);
        Assert.Equal(Enumerable.Range(0, 100).SelectMany(i => new[] { (byte)i, (byte)i }).ToArray(), Drain(queue));
    }

    [Fact]
    public void Append_LargeWrite_SpansSegmentsOfAtMostTheMaximumLength()
    {
        var queue = new WriteQueue(_pool);
        byte[] data = RawPeer.Pattern(3 * BufferPool.MaximumLength + 5);
        queue.Append(data);

        Assert.Equal(4, queue.SegmentCount);
        Assert.Equal(data, Drain(queue));
    }

    [Fact]
    public void AppendBorrowed_ContiguousWindowsOfOneBuffer_Merge()
    {
        var queue = new WriteQueue(_pool);
        byte[] readBuffer = RawPeer.Pattern(100);
        queue.AppendBorrowed(readBuffer, 0, 10);
        queue.AppendBorrowed(readBuffer, 10, 20);
        queue.AppendBorrowed(readBuffer, 50, 5);

        Assert.Equal(2, queue.SegmentCount);
        Assert.True(queue.HasBorrowed);
        Assert.Equal([.. readBuffer[..30], .. readBuffer[50..55]], Drain(queue));
        Assert.False(queue.HasBorrowed);
    }

    [Fact]
    public void DetachBorrowed_CopiesBorrowedBytesAndKeepsTheOrderOfEverything()
    {
        var queue = new WriteQueue(_pool);
        byte[] readBuffer = RawPeer.Pattern(1000, seed: 5);
        queue.Append([1, 2, 3]);
        queue.AppendBorrowed(readBuffer, 100, 50);
        queue.Append([4, 5]);
        queue.AppendBorrowed(readBuffer, 0, 10);
        queue.Consume(2);

        queue.DetachBorrowed();
        Array.Clear(readBuffer);

        Assert.False(queue.HasBorrowed);
        Assert.Equal([3, .. RawPeer.Pattern(1000, seed: 5)[100..150], 4, 5, .. RawPeer.Pattern(1000, seed: 5)[..10]], Drain(queue));
    }

    [Fact]
    public void FillGather_TakesAtMostTheGivenNumberOfSegments()
    {
        var queue = new WriteQueue(_pool);
        byte[] buffer = new byte[100];
        for (int i = 0; i < 12; i++)
        {
            queue.AppendBorrowed(buffer, i * 8, 4);
        }

        var list = new List<ArraySegment<byte>>();
        Assert.Equal(8 * 4, queue.FillGather(list, 8));
        Assert.Equal(8, list.Count);
    }

    [Fact]
    public void ConsumeAndClear_ReturnOwnedArraysToThePool()
    {
        var queue = new WriteQueue(_pool);
        queue.Append(new byte[40_000]);
        queue.Consume(40_000);
        Assert.True(_pool.RetainedBytes >= 40_000);

        long retained = _pool.RetainedBytes;
        queue.Append(new byte[40_000]);
        Assert.True(_pool.RetainedBytes < retained, "the next append reuses a pooled array");
        queue.Clear();
        Assert.Equal(retained, _pool.RetainedBytes);
        Assert.True(queue.IsEmpty);
        Assert.Equal(0, queue.Bytes);
    }

    private static byte[] Drain(WriteQueue queue)
    {
        var all = new List<byte>();
        while (!queue.IsEmpty)
        {
            // Consume in odd-sized steps, across segment boundaries.
            ReadOnlySpan<byte> first = queue.First;
            int n = Math.Min(first.Length, 7);
            all.AddRange(first[..n].ToArray());
            queue.Consume(n);
        }

        return [.. all];
    }
}
