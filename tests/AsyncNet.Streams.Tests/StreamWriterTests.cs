using AsyncNet.Errors;

namespace AsyncNet.Streams.Tests;

/// <summary>StreamWriter's drain, close and threading rules over a scripted transport whose partial sends the test decides.</summary>
public sealed class StreamWriterTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    /// <summary>A pair whose transport takes nothing on its own: every send is a <see cref="Testing.ScriptedTransport.Pump"/>.</summary>
    private Scripted CreateStalled(int high, int low)
    {
        Scripted s = _test.CreateScripted();
        s.Transport.SetWriteBufferLimits(high, low);
        for (int i = 0; i < 1000; i++)
        {
            s.Transport.SendSchedule.Enqueue(0);
        }

        return s;
    }

    private static void Send(Scripted s, int bytes)
    {
        s.Transport.SendSchedule.Clear();
        s.Transport.SendSchedule.Enqueue(bytes);
        s.Transport.Pump();
        for (int i = 0; i < 1000; i++)
        {
            s.Transport.SendSchedule.Enqueue(0);
        }
    }

    [Fact]
    public void DrainAsync_AtOrBelowLowMark_CompletesSynchronously()
    {
        _test.Run(async () =>
        {
            Scripted s = CreateStalled(high: 100, low: 40);
            Assert.True(s.Writer.DrainAsync().IsCompletedSuccessfully);
            s.Writer.Write(new byte[40]);
            ValueTask drain = s.Writer.DrainAsync();
            Assert.True(drain.IsCompletedSuccessfully, "40 buffered = the low mark: complete at once");
            await drain;
        });
    }

    [Fact]
    public void DrainAsync_BetweenTheMarks_CompletesOnlyWhenBufferFallsToLow()
    {
        _test.Run(async () =>
        {
            Scripted s = CreateStalled(high: 100, low: 40);
            s.Writer.Write(new byte[70]);
            ValueTask drain = s.Writer.DrainAsync();
            Assert.False(drain.IsCompleted, "70 buffered is above the low mark");
            Send(s, 29);
            Assert.False(drain.IsCompleted, "41 buffered is still above the low mark");
            Send(s, 1);
            Assert.True(drain.IsCompleted, "40 buffered: drained");
            await drain;
            Assert.Equal(100, s.Transport.WriteBufferHighWaterMark);
            Assert.Equal(40, s.Transport.WriteBufferLowWaterMark);
        });
    }

    [Fact]
    public void DrainAsync_AboveHighMark_CompletesOnlyAtLowMark()
    {
        _test.Run(async () =>
        {
            Scripted s = CreateStalled(high: 100, low: 40);
            s.Writer.Write(new byte[150]);
            Assert.Contains("Paused", s.Writer.ToString());
            ValueTask drain = s.Writer.DrainAsync();
            Send(s, 100);
            Assert.False(drain.IsCompleted);
            Send(s, 10);
            Assert.True(drain.IsCompleted);
            await drain;
            Assert.Equal(150, s.Transport.Sent.Length + s.Transport.WriteBufferSize);
        });
    }

    [Fact]
    public void DrainAsync_ManyConcurrentDrainers_AllWake()
    {
        _test.Run(async () =>
        {
            Scripted s = CreateStalled(high: 100, low: 10);
            s.Writer.Write(new byte[50]);
            ValueTask[] drains = Enumerable.Range(0, 20).Select(_ => s.Writer.DrainAsync()).ToArray();
            using var cts = new CancellationTokenSource();
            ValueTask cancelled = s.Writer.DrainAsync(cts.Token);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
            Assert.All(drains, d => Assert.False(d.IsCompleted));
            Send(s, 40);
            foreach (ValueTask drain in drains)
            {
                Assert.True(drain.IsCompleted);
                await drain;
            }
        });
    }

    [Fact]
    public void DrainAsync_AfterConnectionLost_ThrowsConnectionReset()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Transport.Lose(null);
            await _test.YieldAsync();
            await Assert.ThrowsAsync<ConnectionResetException>(async () => await s.Writer.DrainAsync());
            Assert.True(s.Writer.IsClosing);
        });
    }

    [Fact]
    public void DrainAsync_StoredReadError_IsThrownFirst()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var broken = new BrokenPipeException("broken by test");
            s.Transport.Lose(broken);
            await _test.YieldAsync();
            Assert.Same(broken, await Assert.ThrowsAsync<BrokenPipeException>(async () => await s.Writer.DrainAsync()));
        });
    }

    [Fact]
    public void DrainAsync_WaitingWhenAborted_ThrowsConnectionReset()
    {
        _test.Run(async () =>
        {
            Scripted s = CreateStalled(high: 100, low: 10);
            s.Writer.Write(new byte[500]);
            ValueTask drain = s.Writer.DrainAsync();
            s.Transport.Abort();
            await _test.YieldAsync();
            await Assert.ThrowsAsync<ConnectionResetException>(async () => await drain);
        });
    }

    [Fact]
    public void DrainAsync_WaitingWhenClosedGracefully_CompletesOnceFlushed()
    {
        _test.Run(async () =>
        {
            Scripted s = CreateStalled(high: 100, low: 10);
            s.Writer.Write(new byte[500]);
            ValueTask drain = s.Writer.DrainAsync();
            s.Writer.Close();
            Send(s, 500);
            await drain;
            await s.Writer.WaitClosedAsync();
            Assert.Equal(500, s.Transport.Sent.Length);
        });
    }

    [Fact]
    public void Write_AfterCloseOrWriteEof_Throws()
    {
        _test.Run(() =>
        {
            Scripted a = _test.CreateScripted();
            a.Writer.WriteEof();
            Assert.True(a.Writer.CanWriteEof);
            Assert.True(a.Transport.EofSent);
            Assert.Throws<InvalidOperationException>(() => a.Writer.Write("x"u8));

            Scripted b = _test.CreateScripted();
            b.Writer.Close();
            Assert.Throws<InvalidOperationException>(() => b.Writer.Write("x"u8));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void WaitClosedAsync_RethrowsTheLossError_OrCompletesOnCleanClose()
    {
        _test.Run(async () =>
        {
            Scripted clean = _test.CreateScripted();
            Task closed = clean.Writer.WaitClosedAsync();
            clean.Writer.Close();
            await closed;
            await clean.Writer.WaitClosedAsync();

            Scripted broken = _test.CreateScripted();
            Task waiting = broken.Writer.WaitClosedAsync();
            var reset = new ConnectionResetException("reset by test");
            broken.Transport.Lose(reset);
            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(() => waiting));
            Assert.Same(reset, await Assert.ThrowsAsync<ConnectionResetException>(() => broken.Writer.WaitClosedAsync()));
        });
    }

    [Fact]
    public void WriteLines_GathersInOrder_AndGetExtraInfoPassesThrough()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            s.Writer.WriteLines([Bytes.Ascii("ab"), Bytes.Ascii("cd"), Bytes.Ascii("e")]);
            s.Writer.Write(Bytes.Ascii("f").AsMemory());
            Assert.Equal("abcdef", Bytes.Text(s.Transport.Sent));
            Assert.Equal("scripted", s.Writer.GetExtraInfo("peername"));
            Assert.Equal(42, s.Writer.GetExtraInfo("nonsense", 42));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void WritesFromOtherThreads_ArriveInOrder_AndDrainWorksThere()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            for (int i = 0; i < 500; i++)
            {
                s.Transport.SendSchedule.Enqueue(i % 7);
            }

            StreamWriter writer = s.Writer;
            Task producer = Task.Run(async () =>
            {
                for (int i = 0; i < 200; i++)
                {
                    writer.Write(Bytes.Ascii($"{i:D4}"));
                    if (i % 10 == 0)
                    {
                        await writer.DrainAsync();
                    }
                }

                await writer.DrainAsync();
                writer.WriteEof();
            });

            while (!producer.IsCompleted || s.Transport.WriteBufferSize > 0)
            {
                s.Transport.Pump();
                await _test.YieldAsync(1);
            }

            await producer;

            // The producer's WriteEof went through the outbox: the loop replays it on a later iteration.
            while (!s.Transport.EofSent)
            {
                s.Transport.Pump();
                await _test.YieldAsync(1);
            }

            string expected = string.Concat(Enumerable.Range(0, 200).Select(i => $"{i:D4}"));
            Assert.Equal(expected, Bytes.Text(s.Transport.Sent));
            Assert.True(s.Transport.EofSent);
        });
    }

    [Fact]
    public void DisposeAsync_ClosesAndWaits()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Writer.Write("bye"u8);
            await s.Writer.DisposeAsync();
            Assert.True(s.Transport.IsLost);
            Assert.Equal("bye", Bytes.Text(s.Transport.Sent));
        });
    }
}
