using AsyncNet.Buffers;
using AsyncNet.Errors;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// StreamReader's edges (SEMANTICS.md, "Streams") over a scripted transport, so every segment boundary is the test's
/// choice: chunking is an axis (whole, split, split byte by byte).
/// </summary>
public sealed class StreamReaderTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    public static TheoryData<string[]> Chunkings => new()
    {
        new[] { "hello\r\nworld" },
        new[] { "hel", "lo\r", "\nwor", "ld" },
        new[] { "h", "e", "l", "l", "o", "\r", "\n", "w", "o", "r", "l", "d" },
    };

    [Fact]
    public void ReadAsync_BytesBuffered_CompletesSynchronously()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("abc", "def");
            ValueTask<byte[]> read = s.Reader.ReadAsync(4);
            Assert.True(read.IsCompletedSuccessfully);
            Assert.Equal("abcd", Bytes.Text(await read));

            var buffer = new byte[10];
            ValueTask<int> into = s.Reader.ReadAsync(buffer);
            Assert.True(into.IsCompletedSuccessfully);
            Assert.Equal(2, await into);
            Assert.Equal("ef", Bytes.Text(buffer[..2]));
        });
    }

    [Fact]
    public void ReadAsync_Waiting_ReturnsAtLeastOneByteAsSoonAsAnyArrives()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            ValueTask<byte[]> read = s.Reader.ReadAsync(100);
            Assert.False(read.IsCompleted);
            s.Feed("x");
            Assert.Equal("x", Bytes.Text(await read));
        });
    }

    [Fact]
    public void ReadAsync_AtEof_ReturnsEmpty_AndZeroCountReturnsEmptyAtOnce()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            Assert.Empty(await s.Reader.ReadAsync(0));
            s.Feed("ab");
            s.Transport.DeliverEof();
            Assert.False(s.Reader.AtEof);
            Assert.Equal("ab", Bytes.Text(await s.Reader.ReadAsync(10)));
            Assert.True(s.Reader.AtEof);
            Assert.Empty(await s.Reader.ReadAsync(10));
            Assert.Equal(0, await s.Reader.ReadAsync(new byte[4]));
        });
    }

    [Fact]
    public void ReadAsync_WaitingAtEof_CompletesEmpty()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            ValueTask<byte[]> read = s.Reader.ReadAsync(10);
            s.Transport.DeliverEof();
            Assert.Empty(await read);
        });
    }

    [Theory]
    [MemberData(nameof(Chunkings))]
    public void ReadExactlyAsync_AnyChunking_ReturnsExactlyTheBytes(string[] chunks)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            ValueTask<byte[]> first = s.Reader.ReadExactlyAsync(7);
            s.Feed(chunks);
            Assert.Equal("hello\r\n", Bytes.Text(await first));
            Assert.Equal("world", Bytes.Text(await s.Reader.ReadExactlyAsync(5)));
            Assert.Empty(await s.Reader.ReadExactlyAsync(0));
        });
    }

    [Fact]
    public void ReadExactlyAsync_EofFirst_ThrowsIncompleteReadWithPartial()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("abc", "de");
            ValueTask<byte[]> read = s.Reader.ReadExactlyAsync(10);
            s.Transport.DeliverEof();
            IncompleteReadException error = await Assert.ThrowsAsync<IncompleteReadException>(async () => await read);
            Assert.Equal("abcde", Bytes.Text(error.Partial));
            Assert.Equal(10, error.Expected);
            Assert.IsAssignableFrom<EndOfStreamException>(error);
            Assert.Equal(0, s.Reader.BufferedBytes);
            Assert.True(s.Reader.AtEof);
        });
    }

    [Fact]
    public void ReadExactlyAsync_MoreThanLimit_ResumesReadingInsteadOfDeadlocking()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 16);
            byte[] data = Bytes.Random(100);
            s.Feed(data[..20]);
            Assert.False(s.Transport.IsReading);

            ValueTask<byte[]> read = s.Reader.ReadExactlyAsync(100);
            Assert.True(s.Transport.IsReading, "A read that needs more than is buffered resumes reading first");
            for (int offset = 20; offset < 100; offset += 10)
            {
                s.Feed(data[offset..(offset + 10)]);
            }

            Assert.Equal(data, await read);
            Assert.True(s.Transport.IsReading);
        });
    }

    [Theory]
    [InlineData("\r\n", new[] { "ab\r", "\ncd" }, false)]
    [InlineData("\r\n", new[] { "ab", "\r", "\n", "cd" }, false)]
    [InlineData("--sep--", new[] { "ab--", "s", "e", "p-", "-cd" }, false)]
    [InlineData("--sep--", new[] { "ab-", "-sep--cd" }, false)]
    [InlineData("aab", new[] { "a", "a", "a", "a", "b", "cd" }, false)]
    [InlineData("--sep--", new[] { "ab--", "s", "e", "p-", "-cd" }, true)]
    [InlineData("aab", new[] { "a", "a", "a", "a", "b", "cd" }, true)]
    public void ReadUntilAsync_SeparatorSplitAcrossSegments_IsFound(string separator, string[] chunks, bool compact)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: compact);
            ValueTask<byte[]> read = s.Reader.ReadUntilAsync(Bytes.Ascii(separator));
            s.Feed(chunks);
            string expected = string.Concat(chunks);
            int end = expected.IndexOf(separator, StringComparison.Ordinal) + separator.Length;
            Assert.Equal(expected[..end], Bytes.Text(await read));
            Assert.Equal(expected[end..], Bytes.Text(await s.Reader.ReadAsync(100)));
        });
    }

    [Fact]
    public void ReadUntilAsync_NotFoundWithinLimit_ThrowsLimitOverrunAndKeepsData()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 8);
            s.Feed("0123", "4567", "89");
            LimitOverrunException error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadUntilAsync(Bytes.Ascii("\n")));
            Assert.Equal(10, error.Consumed);
            Assert.IsAssignableFrom<IOException>(error);
            Assert.Equal(10, s.Reader.BufferedBytes);
            Assert.Equal("0123456789", Bytes.Text(await s.Reader.ReadExactlyAsync(10)));
        });
    }

    [Fact]
    public void ReadUntilAsync_MultiByteSeparatorNotFound_ConsumedLeavesRoomForASplitSeparator()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 8);
            s.Feed("0123456789A");
            LimitOverrunException error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadUntilAsync(Bytes.Ascii("+++")));

            // asyncio's offset: the last separator.Length - 1 bytes could still begin a separator.
            Assert.Equal(9, error.Consumed);
            Assert.Equal(11, s.Reader.BufferedBytes);
        });
    }

    [Fact]
    public void ReadUntilAsync_SeparatorFoundBeyondLimit_ThrowsWithConsumedAtTheSeparator()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 4);
            s.Feed("abcdefg!rest");
            LimitOverrunException error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadUntilAsync(Bytes.Ascii("!")));
            Assert.Equal(7, error.Consumed);
            Assert.Equal("abcdefg!rest", Bytes.Text(await s.Reader.ReadExactlyAsync(12)));
        });
    }

    [Fact]
    public void ReadUntilAsync_ChunkOfExactlyTheLimit_Succeeds()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 4);
            s.Feed("abcd", "\r\n");
            Assert.Equal("abcd\r\n", Bytes.Text(await s.Reader.ReadUntilAsync(Bytes.Ascii("\r\n"))));
        });
    }

    [Fact]
    public void ReadUntilAsync_EofFirst_ThrowsIncompleteReadWithWholeBuffer()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("abc", "d\r");
            ValueTask<byte[]> read = s.Reader.ReadUntilAsync(Bytes.Ascii("\r\n"));
            s.Transport.DeliverEof();
            IncompleteReadException error = await Assert.ThrowsAsync<IncompleteReadException>(async () => await read);
            Assert.Equal("abcd\r", Bytes.Text(error.Partial));
            Assert.Null(error.Expected);
            Assert.True(s.Reader.AtEof);
        });
    }

    [Fact]
    public void ReadUntilAsync_EmptySeparator_ThrowsArgumentException()
    {
        Scripted s = _test.CreateScripted();
        Assert.Throws<ArgumentException>(() => s.Reader.ReadUntilAsync(ReadOnlyMemory<byte>.Empty));
    }

    [Theory]
    [MemberData(nameof(Chunkings))]
    public void ReadLineAsync_AnyChunking_ReturnsLinesWithNewline(string[] chunks)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            s.Feed(chunks);
            s.Feed("\nlast");
            s.Transport.DeliverEof();
            Assert.Equal("hello\r\n", Bytes.Text(await s.Reader.ReadLineAsync()));
            Assert.Equal("world\n", Bytes.Text(await s.Reader.ReadLineAsync()));
            Assert.Equal("last", Bytes.Text(await s.Reader.ReadLineAsync()));
            Assert.Empty(await s.Reader.ReadLineAsync());
        });
    }

    [Fact]
    public void ReadLineAsync_OverLimitWithNewlineBuffered_DiscardsTheLine()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 4);
            s.Feed("toolong\nok\n");
            LimitOverrunException error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadLineAsync());
            Assert.Equal(8, error.Consumed);
            Assert.Equal("ok\n", Bytes.Text(await s.Reader.ReadLineAsync()));
        });
    }

    [Fact]
    public void ReadLineAsync_OverLimitBeforeNewlineArrives_DiscardsTheRestOfTheLineToo()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 4);
            s.Feed("abcdef");
            LimitOverrunException error = await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadLineAsync());
            Assert.Equal(6, error.Consumed);
            Assert.Equal(0, s.Reader.BufferedBytes);

            ValueTask<byte[]> next = s.Reader.ReadLineAsync();
            s.Feed("ghi", "jk\nne", "xt\n");
            Assert.Equal("next\n", Bytes.Text(await next));
        });
    }

    [Fact]
    public void ZeroLengthReads_WhileDiscardingAnOverlongLine_ReturnAtOnce()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 2);
            s.Feed("abcdef");
            await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadLineAsync());
            Assert.True(s.Reader.ReadAsync(0).IsCompletedSuccessfully);
            Assert.True(s.Reader.ReadExactlyAsync(0).IsCompletedSuccessfully);
            Assert.True(s.Reader.ReadAsync(Memory<byte>.Empty).IsCompletedSuccessfully);
            Assert.True(s.Reader.TryRead([], out _));
            s.Feed("g\nh");
            Assert.Equal("h", Bytes.Text(await s.Reader.ReadAsync(5)));
        });
    }

    [Fact]
    public void ReadLineAsync_OverLimitAtEof_ThrowsThenReturnsEmpty()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 2);
            s.Feed("abcdef");
            s.Transport.DeliverEof();
            await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadLineAsync());
            Assert.Empty(await s.Reader.ReadLineAsync());
            Assert.True(s.Reader.AtEof);
        });
    }

    [Fact]
    public void ReadToEndAsync_ReturnsEverythingUntilEof()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 4);
            ValueTask<byte[]> read = s.Reader.ReadToEndAsync();
            s.Feed("abc", "defgh", "ij");
            Assert.True(s.Transport.IsReading, "Reading to the end buffers past the limit");
            s.Transport.DeliverEof();
            Assert.Equal("abcdefghij", Bytes.Text(await read));
        });
    }

    [Fact]
    public void SecondConcurrentRead_ThrowsInvalidOperation()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            ValueTask<byte[]> first = s.Reader.ReadExactlyAsync(3);
            Assert.Throws<InvalidOperationException>(() => s.Reader.ReadAsync(1));
            Assert.Throws<InvalidOperationException>(() => s.Reader.ReadLineAsync());
            Assert.Throws<InvalidOperationException>(() => s.Reader.TryRead(new byte[1], out _));
            s.Feed("abc");
            Assert.Equal("abc", Bytes.Text(await first));

            // Once the result is observed the next read may start.
            s.Feed("d");
            Assert.Equal("d", Bytes.Text(await s.Reader.ReadAsync(1)));
        });
    }

    [Fact]
    public void CancelledRead_WhileWaiting_ConsumesNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            using var cts = new CancellationTokenSource();
            ValueTask<byte[]> read = s.Reader.ReadExactlyAsync(10, cts.Token);
            s.Feed("abcde");
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
            Assert.Equal(5, s.Reader.BufferedBytes);
            Assert.Equal("abcde", Bytes.Text(await s.Reader.ReadExactlyAsync(5)));
        });
    }

    [Fact]
    public void CancelledRead_FromAnotherThread_CompletesOnTheLoopAndConsumesNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            using var cts = new CancellationTokenSource();
            s.Feed("ab");
            ValueTask<byte[]> read = s.Reader.ReadUntilAsync(Bytes.Ascii("\n"), cts.Token);
            _ = Task.Run(cts.Cancel);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
            Assert.True(AsyncNet.Loop.EventLoop.Current == _test.Loop, "A read started on the loop resumes on the loop");
            s.Feed("c\n");
            Assert.Equal("abc\n", Bytes.Text(await s.Reader.ReadLineAsync()));
        });
    }

    [Fact]
    public void CancelledRead_AlreadyCancelledToken_ConsumesNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("abc");
            ValueTask<byte[]> read = s.Reader.ReadAsync(3, new CancellationToken(canceled: true));
            Assert.True(read.IsCanceled);
            Assert.Equal("abc", Bytes.Text(await s.Reader.ReadAsync(3)));
        });
    }

    [Fact]
    public void FlowControl_PausesStrictlyAboveLimit_ResumesAtHalf()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 100);
            s.Feed(new byte[60]);
            s.Feed(new byte[40]);
            Assert.True(s.Transport.IsReading, "Exactly the limit does not pause");
            s.Feed(new byte[1]);
            Assert.False(s.Transport.IsReading, "Strictly above the limit pauses");
            Assert.Contains("Paused", s.Reader.ToString());

            await s.Reader.ReadExactlyAsync(50);
            Assert.False(s.Transport.IsReading, "51 unread is above half the limit");
            await s.Reader.ReadExactlyAsync(1);
            Assert.True(s.Transport.IsReading, "50 unread is half the limit: resumed");
            Assert.Equal([("pause", 101L), ("resume", 50L)], s.Transport.ReadingEvents);
        });
    }

    [Fact]
    public void FlowControl_UnreadNeverExceedsLimitPlusOneSegment()
    {
        _test.Run(async () =>
        {
            const int limit = 1000;
            Scripted s = _test.CreateScripted(limit: limit);
            long worst = 0;
            int delivered = 0;
            s.Transport.Delivered = n => worst = Math.Max(worst, s.Reader.BufferedBytes - n);
            byte[] data = Bytes.Random(20_000);
            while (delivered < data.Length)
            {
                int n = s.Transport.Deliver(data.AsSpan(delivered, Math.Min(300, data.Length - delivered)));
                if (n == 0)
                {
                    // Paused: the consumer reads a little, as a slow one would.
                    await s.Reader.ReadAsync(250);
                    continue;
                }

                delivered += n;
            }

            Assert.True(worst <= limit, $"Before the last segment there were {worst} unread bytes, over the limit {limit}");
        });
    }

    [Fact]
    public void ConnectionLostWithError_EveryReadThrowsIt()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            ValueTask<byte[]> waiting = s.Reader.ReadLineAsync();
            var reset = new ConnectionResetException("reset by test");
            s.Transport.Lose(reset);
            await _test.YieldAsync();
            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await waiting));
            Assert.Same(reset, s.Reader.Exception);
            await Assert.ThrowsAsync<ConnectionResetException>(async () => await s.Reader.ReadAsync(1));
            Assert.False(s.Reader.AtEof);
        });
    }

    [Fact]
    public void ConnectionLostWithError_BytesBufferedBeforeItAreStillRead_ThenTheReadThatWouldWaitThrows()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("one\ntwo\npart");
            var reset = new ConnectionResetException("reset by test");
            s.Transport.Lose(reset);
            await _test.YieldAsync();

            // Everything complete before the reset is delivered, by any kind of read...
            Assert.Equal("one\n", Bytes.Text(await s.Reader.ReadLineAsync()));
            Assert.Equal("tw", Bytes.Text(await s.Reader.ReadExactlyAsync(2)));
            Assert.Equal("o\n", Bytes.Text(await s.Reader.ReadUntilAsync("\n"u8.ToArray())));
            Assert.True(s.Reader.TryRead(new byte[2], out int read) && read == 2);

            // ...then a read the buffer cannot finish throws the reset, not EOF, not a partial result, and consumes nothing.
            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await s.Reader.ReadExactlyAsync(5)));
            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await s.Reader.ReadLineAsync()));
            Assert.Equal("rt", Bytes.Text(await s.Reader.ReadAsync(2)));
            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await s.Reader.ReadAsync(1)));
            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await s.Reader.ReadAsync(0)));
            Assert.False(s.Reader.AtEof);
        });
    }

    [Fact]
    public void ConnectionLostCleanly_IsEof()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("x");
            s.Transport.Lose(null);
            await _test.YieldAsync();
            Assert.Equal("x", Bytes.Text(await s.Reader.ReadAsync(5)));
            Assert.True(s.Reader.AtEof);
        });
    }

    [Fact]
    public void TryRead_ReturnsBufferedBytesOrFalse()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            var buffer = new byte[8];
            Assert.False(s.Reader.TryRead(buffer, out int n));
            s.Feed("abc");
            Assert.True(s.Reader.TryRead(buffer, out n));
            Assert.Equal("abc", Bytes.Text(buffer[..n]));
            s.Transport.DeliverEof();
            Assert.True(s.Reader.TryRead(buffer, out n));
            Assert.Equal(0, n);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void ToString_ShowsLiveState()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 10);
            s.Feed("0123456789ab");
            s.Transport.DeliverEof();
            Assert.Equal("StreamReader(Buffered=12, Limit=10, Paused, Eof)", s.Reader.ToString());
            ValueTask<byte[]> read = s.Reader.ReadAsync(2);
            await read;
        });
    }

    [Fact]
    public void LoopConsumer_ContinuesSynchronouslyInsideTheDelivery()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            bool continued = false;
            Task consumer = Consume();
            Assert.False(continued);
            s.Feed("ping");
            Assert.True(continued, "The awaiting consumer ran inside BufferUpdated, with no extra loop iteration");
            await consumer;

            async Task Consume()
            {
                byte[] bytes = await s.Reader.ReadExactlyAsync(4);
                Assert.Equal("ping", Bytes.Text(bytes));
                Assert.True(AsyncNet.Loop.EventLoop.Current == _test.Loop);
                continued = true;
            }
        });
    }

    [Fact]
    public void ThreadPoolConsumer_NeverContinuesOnTheLoopThread()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 64);
            byte[] data = Bytes.Random(5000, seed: 7);
            int loopThread = Environment.CurrentManagedThreadId;
            var threads = new List<int>();
            Task<byte[]> consumer = Task.Run(async () =>
            {
                var received = new MemoryStream();
                while (true)
                {
                    byte[] chunk = await s.Reader.ReadAsync(37);
                    threads.Add(Environment.CurrentManagedThreadId);
                    if (chunk.Length == 0)
                    {
                        return received.ToArray();
                    }

                    received.Write(chunk);
                }
            });

            int offset = 0;
            while (offset < data.Length)
            {
                offset += s.Transport.Deliver(data.AsSpan(offset, Math.Min(50, data.Length - offset)));
                await _test.YieldAsync(1);
            }

            s.Transport.DeliverEof();
            Assert.Equal(data, await consumer);
            Assert.DoesNotContain(loopThread, threads);
        });
    }

    [Fact]
    public void ConsumedSegments_GoBackToTheLoopsPool()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            BufferPool pool = _test.Loop.BufferPool;
            s.Feed("abc");
            long before = pool.RetainedBytes;
            Assert.Equal(1, s.Reader.Inbound.Reader.Count);
            await s.Reader.ReadExactlyAsync(3);
            Assert.Equal(0, s.Reader.QueuedSegments);
            Assert.True(pool.RetainedBytes > before, "The consumed segment's array returned to the pool");
        });
    }

    [Fact]
    public void TinySegmentsWhileBehind_AreCompacted()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("a");
            for (int i = 0; i < 200; i++)
            {
                s.Feed("b");
            }

            await s.Reader.ReadExactlyAsync(1);
            Assert.True(s.Reader.QueuedSegments <= 2, $"201 one-byte segments are held in {s.Reader.QueuedSegments} arrays");
            Assert.Equal(200, (await s.Reader.ReadExactlyAsync(200)).Length);
        });
    }

    [Fact]
    public void LoopConsumer_SteadyStateEcho_AllocatesNothingPerMessage()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Transport.RecordSent = false;
            byte[] message = Bytes.Random(64);
            var buffer = new byte[256];
            // Long enough that a one-off allocation (the JIT's tier-up, a pool growing under a loaded machine) stays
            // far below one byte a message, while any real per-message allocation (24 bytes at least) cannot.
            const int warmUp = 1_000;
            const int measured = 20_000;
            long allocated = 0;
            Task consumer = Echo();
            for (int i = 0; i < warmUp + measured; i++)
            {
                if (i == warmUp)
                {
                    allocated = GC.GetAllocatedBytesForCurrentThread();
                }

                // The consumer resumes inside this call, reads, echoes and waits again before it returns.
                s.Transport.Deliver(message);
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            s.Transport.DeliverEof();
            await consumer;
            Assert.True(allocated < measured, $"{allocated} bytes allocated for {measured} messages read, echoed and drained");

            async Task Echo()
            {
                int n;
                while ((n = await s.Reader.ReadAsync(buffer)) > 0)
                {
                    s.Writer.Write(buffer.AsSpan(0, n));
                    await s.Writer.DrainAsync();
                }
            }
        });
    }
}
