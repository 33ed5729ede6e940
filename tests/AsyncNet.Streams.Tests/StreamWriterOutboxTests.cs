using AsyncNet.Errors;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// Writes from other threads wait in the writer's outbox until the loop replays them; whatever the loop thread does
/// next on the writer (write, drain, write EOF, close) comes after them, and a closed writer refuses them.
/// </summary>
public sealed class StreamWriterOutboxTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    /// <summary>Writes from a pool thread and waits for it there, so the loop has not replayed the outbox yet.</summary>
    private static void WriteFromAnotherThread(StreamWriter writer, string text) =>
        Assert.True(Task.Run(() => writer.Write(Bytes.Ascii(text))).Wait(TimeSpan.FromSeconds(10)));

    public static TheoryData<string> LoopThreadCalls => ["Write", "WriteLines", "WriteEof", "Close"];

    [Theory]
    [MemberData(nameof(LoopThreadCalls))]
    public void LoopThreadCall_AfterWritesFromAnotherThread_ComesAfterThem(string call)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            WriteFromAnotherThread(s.Writer, "from a pool thread, ");

            // Still in the same loop callback: the outbox has not been replayed by the loop.
            switch (call)
            {
                case "Write": s.Writer.Write(Bytes.Ascii("then the loop")); break;
                case "WriteLines": s.Writer.WriteLines([Bytes.Ascii("then "), Bytes.Ascii("the loop")]); break;
                case "WriteEof": s.Writer.WriteEof(); break;
                case "Close": s.Writer.Close(); break;
            }

            await _test.YieldAsync();
            string expected = call.StartsWith("Write", StringComparison.Ordinal) && call != "WriteEof" ? "from a pool thread, then the loop" : "from a pool thread, ";
            Assert.Equal(expected, Bytes.Text(s.Transport.Sent));
            Assert.Equal(call == "WriteEof", s.Transport.EofSent);
            Assert.Empty(_test.HandlerReports);
        });
    }

    [Fact]
    public void DrainOnTheLoop_AfterAWriteFromAnotherThread_WaitsForThatWrite()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Transport.SetWriteBufferLimits(high: 8, low: 4);
            s.Transport.SendSchedule.Enqueue(0); // the kernel takes nothing of the next write
            WriteFromAnotherThread(s.Writer, "sixteen bytes...");

            // The drain replays the outbox first, so it sees 16 queued bytes over the low mark and waits.
            ValueTask drain = s.Writer.DrainAsync();
            Assert.False(drain.IsCompleted, "The drain counted the write from the other thread");
            Assert.Equal(16, s.Transport.WriteBufferSize);
            s.Transport.Pump();
            await drain;
            Assert.Equal("sixteen bytes...", Bytes.Text(s.Transport.Sent));
        });
    }

    [Theory]
    [InlineData("WriteEof")]
    [InlineData("Close")]
    public void WriteFromAnotherThread_AfterTheSendingSideClosed_Throws(string call)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            if (call == "WriteEof")
            {
                s.Writer.WriteEof();
            }
            else
            {
                s.Writer.Close();
            }

            Exception? thrown = await Task.Run(() => Record.Exception(() => s.Writer.Write(Bytes.Ascii("late"))));

            Assert.IsType<InvalidOperationException>(thrown);
            await _test.YieldAsync();
            Assert.Empty(s.Transport.Sent);
        });
    }

    [Fact]
    public void WritesFromAnotherThread_ThenWriteEofFromIt_ArriveInOrderThenEof()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            await Task.Run(() =>
            {
                s.Writer.Write(Bytes.Ascii("one "));
                s.Writer.Write(Bytes.Ascii("two"));
                s.Writer.WriteEof();
                Assert.Throws<InvalidOperationException>(() => s.Writer.Write(Bytes.Ascii("three")));
            });

            for (int i = 0; i < 100 && !s.Transport.EofSent; i++)
            {
                await _test.YieldAsync(1);
            }

            Assert.Equal("one two", Bytes.Text(s.Transport.Sent));
            Assert.True(s.Transport.EofSent);
        });
    }

    [Fact]
    public void CloseFromAnotherThread_Twice_ClosesOnce_AfterTheWritesBeforeIt()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            await Task.Run(() =>
            {
                s.Writer.Write(Bytes.Ascii("last words"));
                s.Writer.Close();
                s.Writer.Close();
                Assert.True(s.Writer.IsClosing);
            });

            await s.Writer.WaitClosedAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("last words", Bytes.Text(s.Transport.Sent));
            Assert.Empty(_test.HandlerReports);
        });
    }

    [Fact]
    public void ADrainFromAnotherThread_AfterTheConnectionWasLost_FailsWithTheLoss()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var reset = new ConnectionResetException("reset");
            s.Transport.Lose(reset);
            await _test.YieldAsync();

            Exception? thrown = await Task.Run(async () => await Record.ExceptionAsync(async () => await s.Writer.DrainAsync()));
            Assert.Same(reset, thrown);
        });
    }

    [Fact]
    public void ADrainFromAnotherThread_WithAToken_CanBeCancelledWhileItWaits()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Transport.SetWriteBufferLimits(high: 8, low: 4);
            s.Transport.SendSchedule.Enqueue(0);
            using var cts = new CancellationTokenSource();
            Task drain = Task.CompletedTask;
            Assert.True(Task.Run(() =>
            {
                s.Writer.Write(Bytes.Ascii("sixteen bytes..."));
                drain = s.Writer.DrainAsync(cts.Token).AsTask();
            }).Wait(TimeSpan.FromSeconds(10)));

            await _test.YieldAsync();
            Assert.False(drain.IsCompleted, "16 bytes wait above the low mark");
            cts.Cancel();
            Assert.Same(drain, await Task.WhenAny(drain, Task.Delay(TimeSpan.FromSeconds(10))));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => drain);
        });
    }
}
