using System.Buffers;
using System.Runtime.InteropServices;
using AsyncNet.Buffers;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>The internal zero-copy read API of <see cref="StreamReader"/> that framing is built on (StreamReader.Buffered.cs).</summary>
public sealed class StreamReaderBufferedTests : IDisposable
{
    private static readonly StreamReader.BufferedAttempt<byte[]> s_takeExactly = TakeExactly;
    private static readonly StreamReader.BufferedAttempt<ReadOnlySequence<byte>> s_peekAll = PeekAll;

    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void PeekBuffered_SegmentsNotCompacted_IsAViewOverTheReceivedArraysWithoutACopy()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            s.Feed("abc", "de", "f");
            PendingRead<ReadOnlySequence<byte>> pending = s.Reader.CreatePendingRead<ReadOnlySequence<byte>>();
            ReadOnlySequence<byte> view = await s.Reader.ReadBufferedAsync(pending, s_peekAll, 6L, default);

            Assert.False(view.IsSingleSegment);
            Assert.Equal("abcdef", Bytes.Text(view.ToArray()));
            Assert.Equal(3, s.Reader.QueuedSegments);
            foreach (ReadOnlyMemory<byte> segment in view)
            {
                Assert.True(MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array));
                Assert.True(array.Array!.Length >= BufferPool.MinimumLength, "Each segment is a pooled receive array, not a copy");
            }
        });
    }

    [Fact]
    public void PeekBuffered_OneSegment_IsArrayBacked()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("hello");
            ReadOnlySequence<byte> view = await s.Reader.ReadBufferedAsync(
                s.Reader.CreatePendingRead<ReadOnlySequence<byte>>(), s_peekAll, 5L, default);
            Assert.True(view.IsSingleSegment);
            Assert.True(MemoryMarshal.TryGetArray(view.First, out ArraySegment<byte> _));
            Assert.Equal("hello", Bytes.Text(view.ToArray()));
        });
    }

    [Fact]
    public void Consume_LeavesBufferedBytesAtOnce_ButKeepsTheArraysUntilTheNextRead()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            BufferPool pool = _test.Loop.BufferPool;
            s.Feed("abc", "def");
            PendingRead<byte[]> pending = s.Reader.CreatePendingRead<byte[]>();
            long retained = pool.RetainedBytes;

            // TakeExactly returns the consumed bytes read through the view *after* Consume: they are still there.
            Assert.Equal("abcd", Bytes.Text(await s.Reader.ReadBufferedAsync(pending, s_takeExactly, 4L, default)));
            Assert.Equal(2, s.Reader.BufferedBytes);
            Assert.Equal(2, s.Reader.QueuedSegments);
            Assert.Equal(retained, pool.RetainedBytes);

            // The next read of any kind releases them: it sees only the rest, and the first array goes back to the pool.
            Assert.Equal("ef", Bytes.Text(await s.Reader.ReadAsync(10)));
            Assert.True(pool.RetainedBytes > retained, "The consumed arrays went back to the pool");
            Assert.Equal(0, s.Reader.QueuedSegments);
        });
    }

    [Fact]
    public void ReadBufferedAsync_WaitsUntilTheNeededBytesAreBuffered_AndTriesOnlyThen()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var counter = new CountingTake(10);
            ValueTask<byte[]> read = s.Reader.ReadBufferedAsync(s.Reader.CreatePendingRead<byte[]>(), CountingTake.Attempt, counter, default);
            Assert.False(read.IsCompleted);
            Assert.Equal(1, counter.Tries);
            Assert.Equal(10, s.Reader.Need);
            for (int i = 0; i < 9; i++)
            {
                s.Feed("x");
            }

            Assert.False(read.IsCompleted);
            Assert.Equal(1, counter.Tries);
            s.Feed("yz");
            Assert.True(read.IsCompleted, "The read finished inside the delivery that brought the tenth byte");
            Assert.Equal(2, counter.Tries);
            Assert.Equal("xxxxxxxxxy", Bytes.Text(await read));
            Assert.Equal(0, s.Reader.Need);
            Assert.Equal("z", Bytes.Text(await s.Reader.ReadAsync(5)));
        });
    }

    [Fact]
    public void WaitBufferedAsync_MoreThanLimit_ResumesReadingInsteadOfDeadlocking()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 16);
            byte[] data = Bytes.Random(100);
            s.Feed(data[..20]);
            Assert.False(s.Transport.IsReading);

            ValueTask<bool> wait = s.Reader.WaitBufferedAsync(100);
            Assert.True(s.Transport.IsReading, "A wait for more than is buffered resumes reading first");
            for (int offset = 20; offset < 100; offset += 10)
            {
                s.Feed(data[offset..(offset + 10)]);
            }

            Assert.True(await wait);
            Assert.Equal(100, s.Reader.BufferedBytes);
            Assert.Equal(data, await s.Reader.ReadExactlyAsync(100));
        });
    }

    [Fact]
    public void WaitBufferedAsync_EnoughBuffered_CompletesSynchronously_AndConsumesNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("abcd");
            ValueTask<bool> wait = s.Reader.WaitBufferedAsync(4);
            Assert.True(wait.IsCompletedSuccessfully);
            Assert.True(await wait);
            Assert.True(await s.Reader.WaitBufferedAsync(0));
            Assert.Equal("abcd", Bytes.Text(await s.Reader.ReadExactlyAsync(4)));
        });
    }

    [Fact]
    public void WaitBufferedAsync_EofFirst_ReturnsFalse_AndKeepsTheBytes()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("abc");
            ValueTask<bool> wait = s.Reader.WaitBufferedAsync(10);
            s.Transport.DeliverEof();
            Assert.False(await wait);
            Assert.Equal("abc", Bytes.Text(await s.Reader.ReadToEndAsync()));
        });
    }

    [Fact]
    public void WaitBufferedAsync_ConnectionLostWithError_ThrowsIt()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            ValueTask<bool> wait = s.Reader.WaitBufferedAsync(10);
            var error = new IOException("reset");
            s.Transport.Lose(error);
            Assert.Same(error, await Assert.ThrowsAsync<IOException>(async () => await wait));
        });
    }

    [Fact]
    public void WaitBufferedAsync_Cancelled_ConsumesNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            using var cts = new CancellationTokenSource();
            ValueTask<bool> wait = s.Reader.WaitBufferedAsync(10, cts.Token);
            s.Feed("abcde");
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
            Assert.Equal(0, s.Reader.Need);
            Assert.Equal("abcde", Bytes.Text(await s.Reader.ReadExactlyAsync(5)));
        });
    }

    [Fact]
    public void BufferedReads_AreOneReadAtATime_WithEveryOtherRead()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            ValueTask<bool> wait = s.Reader.WaitBufferedAsync(3);
            Assert.Throws<InvalidOperationException>(() => s.Reader.ReadAsync(1));
            Assert.Throws<InvalidOperationException>(() => s.Reader.WaitBufferedAsync(1));
            Assert.Throws<InvalidOperationException>(() =>
                s.Reader.ReadBufferedAsync(s.Reader.CreatePendingRead<byte[]>(), s_takeExactly, 1L, default));
            s.Feed("abc");
            Assert.True(await wait);

            ValueTask<byte[]> read = s.Reader.ReadExactlyAsync(5);
            Assert.Throws<InvalidOperationException>(() => s.Reader.WaitBufferedAsync(1));
            s.Feed("de");
            Assert.Equal("abcde", Bytes.Text(await read));
        });
    }

    /// <summary>Consumes <c>(long)state</c> bytes once they are buffered and returns them, read through the view after consuming.</summary>
    private static bool TakeExactly(StreamReader reader, object? state, out byte[] result, out long needed)
    {
        long count = (long)state!;
        ReadOnlySequence<byte> view = reader.PeekBuffered(out bool eof);
        if (view.Length < count)
        {
            result = [];
            needed = count;
            return eof;
        }

        ReadOnlySequence<byte> taken = view.Slice(0, count);
        reader.Consume(count);
        result = taken.ToArray();
        needed = 0;
        return true;
    }

    /// <summary>Returns the whole view once <c>(long)state</c> bytes are buffered, consuming nothing.</summary>
    private static bool PeekAll(StreamReader reader, object? state, out ReadOnlySequence<byte> result, out long needed)
    {
        long count = (long)state!;
        result = reader.PeekBuffered(out bool eof);
        needed = count;
        return result.Length >= count || eof;
    }

    private sealed class CountingTake(long count)
    {
        public static readonly StreamReader.BufferedAttempt<byte[]> Attempt = static (StreamReader reader, object? state, out byte[] result, out long needed) =>
        {
            var self = (CountingTake)state!;
            self.Tries++;
            return TakeExactly(reader, self.Count, out result, out needed);
        };

        public long Count => count;

        public int Tries { get; private set; }
    }
}
