using System.Buffers;
using System.Runtime.InteropServices;
using AsyncNet.Errors;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// The lent reads of StreamReader (ReadBufferedAsync, TryReadBuffered, AdvanceTo) over a scripted transport: the bytes
/// are shown where they lie, the reader stays busy until they are given back, and flow control counts them until then.
/// </summary>
public sealed class StreamReaderLentTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void ReadBufferedAsync_BytesBuffered_LendsThemInPlace_UntilAdvanceToConsumesSome()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("abcdef");
            ValueTask<ReadOnlySequence<byte>> read = s.Reader.ReadBufferedAsync();
            Assert.True(read.IsCompletedSuccessfully);
            ReadOnlySequence<byte> lent = await read;
            Assert.Equal("abcdef", Bytes.Text(lent.ToArray()));

            // In place: the view is the reader's receive array, not a copy.
            Assert.True(MemoryMarshal.TryGetArray(lent.First, out ArraySegment<byte> array));
            Assert.True(array.Array!.Length >= 4096, "The lent bytes lie in the pooled receive buffer");
            Assert.Equal(6, s.Reader.BufferedBytes);
            Assert.Contains("Lent=6", s.Reader.ToString());

            s.Reader.AdvanceTo(lent.GetPosition(2));
            Assert.Equal(4, s.Reader.BufferedBytes);
            Assert.Equal("cdef", Bytes.Text(await s.Reader.ReadAsync(10)));
        });
    }

    [Fact]
    public void ReadBufferedAsync_WithAMinimum_WaitsAcrossSegments_AndLendsThemAll()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            ValueTask<ReadOnlySequence<byte>> read = s.Reader.ReadBufferedAsync(minimumBytes: 5);
            s.Feed("ab");
            s.Feed("cd");
            Assert.False(read.IsCompleted, "4 bytes are fewer than the minimum");
            s.Feed("ef");
            ReadOnlySequence<byte> lent = await read;
            Assert.False(lent.IsSingleSegment, "Three segments kept apart are lent as they lie");
            Assert.Equal("abcdef", Bytes.Text(lent.ToArray()));
            s.Reader.AdvanceTo(5);
            Assert.Equal("f", Bytes.Text(await s.Reader.ReadAsync(10)));
        });
    }

    [Fact]
    public void WhileLent_EveryOtherReadThrows_UntilAdvanceTo()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("abc");
            ReadOnlySequence<byte> lent = await s.Reader.ReadBufferedAsync();

            var error = Assert.Throws<InvalidOperationException>(() => s.Reader.ReadAsync(1));
            Assert.Contains("AdvanceTo", error.Message, StringComparison.Ordinal);
            Assert.Throws<InvalidOperationException>(() => s.Reader.TryRead(new byte[1], out _));
            Assert.Throws<InvalidOperationException>(() => s.Reader.ReadBufferedAsync());
            Assert.Throws<InvalidOperationException>(() => s.Reader.TryReadBuffered(out _));

            s.Reader.AdvanceTo(lent.End);
            Assert.Equal(0, s.Reader.BufferedBytes);
            Assert.DoesNotContain("Lent", s.Reader.ToString(), StringComparison.Ordinal);
            s.Feed("d");
            Assert.Equal("d", Bytes.Text(await s.Reader.ReadAsync(1)));
        });
    }

    [Fact]
    public void AdvanceTo_WithNothingLent_Throws_AndTooFarThrowsButKeepsTheLoan()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            Assert.Throws<InvalidOperationException>(() => s.Reader.AdvanceTo(0));
            s.Feed("abc");
            ReadOnlySequence<byte> lent = await s.Reader.ReadBufferedAsync();
            Assert.Throws<ArgumentOutOfRangeException>(() => s.Reader.AdvanceTo(4));
            Assert.Throws<ArgumentOutOfRangeException>(() => s.Reader.AdvanceTo(-1));

            s.Reader.AdvanceTo(lent.Start);
            Assert.Throws<InvalidOperationException>(() => s.Reader.AdvanceTo(lent.Start));
            Assert.Equal(3, s.Reader.BufferedBytes);
        });
    }

    [Fact]
    public void GivenBackUnconsumed_TheNextReadWithALargerMinimumWaitsForMore()
    {
        _test.Run(async () =>
        {
            // An incomplete message: give it back whole and ask for one byte more than was there.
            Scripted s = _test.CreateScripted();
            s.Feed("ab");
            ReadOnlySequence<byte> lent = await s.Reader.ReadBufferedAsync();
            long seen = lent.Length;
            s.Reader.AdvanceTo(lent.Start);

            ValueTask<ReadOnlySequence<byte>> more = s.Reader.ReadBufferedAsync(seen + 1);
            Assert.False(more.IsCompleted);
            s.Feed("c");
            lent = await more;
            Assert.Equal("abc", Bytes.Text(lent.ToArray()));
            s.Reader.AdvanceTo(lent.End);
        });
    }

    [Fact]
    public void AtEof_LendsWhatIsLeft_FewerThanTheMinimum_ThenAnEmptyLoan()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            ValueTask<ReadOnlySequence<byte>> read = s.Reader.ReadBufferedAsync(minimumBytes: 10);
            s.Feed("xyz");
            s.Transport.DeliverEof();
            ReadOnlySequence<byte> lent = await read;
            Assert.Equal("xyz", Bytes.Text(lent.ToArray()));
            s.Reader.AdvanceTo(lent.End);

            lent = await s.Reader.ReadBufferedAsync();
            Assert.True(lent.IsEmpty);
            Assert.True(s.Reader.AtEof);
            s.Reader.AdvanceTo(lent.End);
        });
    }

    [Fact]
    public void TryReadBuffered_LendsWhatIsBuffered_OrLendsNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            Assert.False(s.Reader.TryReadBuffered(out _));
            Assert.Throws<InvalidOperationException>(() => s.Reader.AdvanceTo(0));

            s.Feed("hi");
            Assert.True(s.Reader.TryReadBuffered(out ReadOnlySequence<byte> lent));
            Assert.Equal("hi", Bytes.Text(lent.ToArray()));
            s.Reader.AdvanceTo(1);
            Assert.Equal("i", Bytes.Text(await s.Reader.ReadAsync(5)));
        });
    }

    [Fact]
    public void CancelledWhileWaiting_LendsNothing_AndConsumesNothing()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("ab");
            using var cts = new CancellationTokenSource();
            ValueTask<ReadOnlySequence<byte>> read = s.Reader.ReadBufferedAsync(minimumBytes: 3, cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
            Assert.Equal("ab", Bytes.Text(await s.Reader.ReadAsync(5)));
        });
    }

    [Fact]
    public void ConnectionLostWithError_TheBytesBeforeItAreLentFirst_ThenTheLentReadThrowsIt()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("ab");
            var reset = new ConnectionResetException("reset");
            s.Transport.Lose(reset);
            await _test.YieldAsync(1);

            // Given back unconsumed, the two bytes are not enough for three: that read would wait, so it throws.
            ReadOnlySequence<byte> before = await s.Reader.ReadBufferedAsync();
            Assert.Equal("ab", Bytes.Text(before.ToArray()));
            s.Reader.AdvanceTo(before.Start);
            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await s.Reader.ReadBufferedAsync(minimumBytes: 3)));

            before = await s.Reader.ReadBufferedAsync();
            Assert.Equal("ab", Bytes.Text(before.ToArray()));
            s.Reader.AdvanceTo(before.End);

            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(async () => await s.Reader.ReadBufferedAsync()));
            Assert.Same(reset, Assert.Throws<ConnectionResetException>(() => s.Reader.TryReadBuffered(out _)));
        });
    }

    [Fact]
    public void FlowControl_LentBytesCountUntilGivenBack_AndAMinimumAboveTheLimitResumesReading()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 100);
            s.Feed(new byte[150]);
            Assert.False(s.Transport.IsReading, "150 unread is above the limit");
            ReadOnlySequence<byte> lent = await s.Reader.ReadBufferedAsync();
            Assert.False(s.Transport.IsReading, "Lent bytes are still unread");
            s.Reader.AdvanceTo(lent.End);
            Assert.True(s.Transport.IsReading, "Given back: nothing is unread");

            // A minimum above the limit: reading resumes until it is met, as ReadExactlyAsync does.
            ValueTask<ReadOnlySequence<byte>> big = s.Reader.ReadBufferedAsync(minimumBytes: 250);
            s.Feed(new byte[120]);
            s.Feed(new byte[130]);
            lent = await big;
            Assert.Equal(250, lent.Length);
            s.Reader.AdvanceTo(lent.End);
        });
    }

    [Fact]
    public void LoopConsumer_ConsumingALargeSegmentInsideItsDelivery_NeverPausesReading()
    {
        _test.Run(async () =>
        {
            // The consumer continues inside the delivery and reads the whole segment in small reads before it returns:
            // pausing at its first read and resuming at its last would be two system calls for nothing.
            Scripted s = _test.CreateScripted(limit: 1000);
            var buffer = new byte[100];
            long consumed = 0;
            Task consumer = Consume();
            s.Feed(new byte[5000]);
            Assert.Equal(5000, consumed);
            Assert.Empty(s.Transport.ReadingEvents);
            s.Transport.DeliverEof();
            await consumer;

            async Task Consume()
            {
                int n;
                while ((n = await s.Reader.ReadAsync(buffer)) > 0)
                {
                    consumed += n;
                }
            }
        });
    }

    [Fact]
    public void WriteOfALentSequence_InSeveralSegments_SendsEveryByteInOrder()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            s.Feed("one");
            s.Feed("two");
            s.Feed("three");
            ReadOnlySequence<byte> lent = await s.Reader.ReadBufferedAsync();
            Assert.False(lent.IsSingleSegment);
            s.Writer.Write(lent);
            s.Reader.AdvanceTo(lent.End);
            Assert.Equal("onetwothree", Bytes.Text(s.Transport.Sent));
        });
    }

    [Fact]
    public void WriteOfALentSequence_FromAnotherThread_ArrivesWhole()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(compact: false);
            s.Feed("left-");
            s.Feed("right");
            ReadOnlySequence<byte> lent = await s.Reader.ReadBufferedAsync();
            await Task.Run(() => s.Writer.Write(lent));
            s.Reader.AdvanceTo(lent.End);
            await s.Writer.DrainAsync();
            Assert.Equal("left-right", Bytes.Text(s.Transport.Sent));
        });
    }

    [Fact]
    public void LoopConsumer_ZeroCopyEcho_AllocatesNothingPerMessage()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Transport.RecordSent = false;
            byte[] message = Bytes.Random(64);
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

                s.Transport.Deliver(message);
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            s.Transport.DeliverEof();
            await consumer;
            Assert.True(allocated < measured, $"{allocated} bytes allocated for {measured} messages lent, echoed and given back");

            async Task Echo()
            {
                while (true)
                {
                    ReadOnlySequence<byte> data = await s.Reader.ReadBufferedAsync();
                    if (data.IsEmpty)
                    {
                        s.Reader.AdvanceTo(data.End);
                        return;
                    }

                    s.Writer.Write(data);
                    s.Reader.AdvanceTo(data.End);
                    await s.Writer.DrainAsync();
                }
            }
        });
    }
}
