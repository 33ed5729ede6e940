using System.Buffers;
using AsyncNet.Errors;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// What a <see cref="StreamWriter"/> says about itself (ToString, its error messages), and its multi-part writes from the
/// loop thread and from other threads: a sequence or a header and payload is written whole, in order, after every
/// earlier write.
/// </summary>
public sealed class StreamWriterStateTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void ToString_ShowsBuffered_Outbox_Paused_Draining_AndTheSendingSidesState()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            StreamWriter writer = s.Writer;
            Assert.Equal("StreamWriter(Buffered=0)", writer.ToString());

            Assert.True(Task.Run(() => writer.Write("abc"u8)).Wait(TimeSpan.FromSeconds(10)));
            Assert.Equal("StreamWriter(Buffered=0, Outbox=1)", writer.ToString());
            await _test.YieldAsync();
            Assert.Equal("StreamWriter(Buffered=0)", writer.ToString());

            s.Transport.SetWriteBufferLimits(high: 4, low: 2);
            s.Transport.SendSchedule.Enqueue(0);
            writer.Write("sixteen bytes..."u8);
            ValueTask drain = writer.DrainAsync();
            Assert.False(drain.IsCompleted);
            Assert.Equal("StreamWriter(Buffered=16, Paused, Draining)", writer.ToString());
            s.Transport.Pump();
            await drain;
            Assert.Equal("StreamWriter(Buffered=0)", writer.ToString());

            writer.WriteEof();
            Assert.Equal("StreamWriter(Buffered=0, EofWritten)", writer.ToString());
            writer.Close();
            Assert.Equal("StreamWriter(Buffered=0, Closing)", writer.ToString());
            s.Transport.Lose(null);
            await _test.YieldAsync();
            Assert.Equal("StreamWriter(Buffered=0, Lost)", writer.ToString());
        });
    }

    [Fact]
    public void AWriteAfterClose_SaysWhichCallClosedIt_AndADrainAfterLoss_SaysTheConnectionIsLost()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Writer.Close();
            Assert.Throws<InvalidOperationException>(() => s.Writer.Write("x"u8));
            var closed = await Task.Run(() => Assert.Throws<InvalidOperationException>(() => s.Writer.Write("x"u8)));
            Assert.Contains("Cannot write: the stream's sending side was closed", closed.Message);

            s.Transport.Lose(null);
            await _test.YieldAsync();
            var lost = await Assert.ThrowsAsync<ConnectionResetException>(async () => await s.Writer.DrainAsync());
            Assert.Contains("Connection lost", lost.Message);
        });
    }

    [Fact]
    public void WriteLines_Null_IsRejected_OnAndOffTheLoop()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            Assert.Equal("buffers", Assert.Throws<ArgumentNullException>(() => s.Writer.WriteLines(null!)).ParamName);
            var offLoop = await Task.Run(() => Assert.Throws<ArgumentNullException>(() => s.Writer.WriteLines(null!)));
            Assert.Equal("buffers", offLoop.ParamName);
        });
    }

    [Fact]
    public void WriteLines_FromAnotherThread_ArriveInOrder_AfterEarlierWrites()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            Assert.True(Task.Run(() =>
            {
                s.Writer.Write("one "u8);
                s.Writer.WriteLines([Bytes.Ascii("two "), Bytes.Ascii("three")]);
            }).Wait(TimeSpan.FromSeconds(10)));
            await _test.YieldAsync();
            Assert.Equal("one two three", Bytes.Text(s.Transport.Sent));
        });
    }

    public static TheoryData<bool> Threads => [true, false];

    [Theory]
    [MemberData(nameof(Threads))]
    public void AMultiSegmentSequence_IsWrittenWhole_AfterEarlierWrites(bool fromAnotherThread)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            ReadOnlySequence<byte> sequence = Segments("alpha ", "beta ", "gamma");
            Assert.False(sequence.IsSingleSegment);

            // An earlier write waits in the outbox: the sequence must come after it, on either thread.
            Assert.True(Task.Run(() => s.Writer.Write("first: "u8)).Wait(TimeSpan.FromSeconds(10)));
            if (fromAnotherThread)
            {
                Assert.True(Task.Run(() => s.Writer.Write(sequence)).Wait(TimeSpan.FromSeconds(10)));
            }
            else
            {
                s.Writer.Write(sequence);
                Assert.Equal("first: alpha beta gamma", Bytes.Text(s.Transport.Sent));
            }

            s.Writer.Write(ReadOnlySequence<byte>.Empty);
            s.Writer.Write(new ReadOnlySequence<byte>(Bytes.Ascii(" end")));
            await _test.YieldAsync();
            Assert.Equal("first: alpha beta gamma end", Bytes.Text(s.Transport.Sent));
        });
    }

    [Fact]
    public void AMultiSegmentSequence_AfterClose_IsRefused_FromAnotherThreadToo()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Writer.Close();
            ReadOnlySequence<byte> sequence = Segments("a", "b");
            Assert.Throws<InvalidOperationException>(() => s.Writer.Write(sequence));
            await Task.Run(() => Assert.Throws<InvalidOperationException>(() => s.Writer.Write(sequence)));
        });
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void AFrame_IsWrittenAsHeaderThenPayload_AfterEarlierWrites(bool fromAnotherThread)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameWriter(s.Writer, LengthFieldFormat.Default);
            Assert.True(Task.Run(() => s.Writer.Write("<"u8)).Wait(TimeSpan.FromSeconds(10)));
            if (fromAnotherThread)
            {
                Assert.True(Task.Run(() =>
                {
                    frames.Write(new Frame(0, Bytes.Ascii("hi")));
                    frames.Write(new Frame(0, ReadOnlyMemory<byte>.Empty));
                }).Wait(TimeSpan.FromSeconds(10)));
            }
            else
            {
                frames.Write(new Frame(0, Bytes.Ascii("hi")));
                frames.Write(new Frame(0, ReadOnlyMemory<byte>.Empty));
            }

            await _test.YieldAsync();
            Assert.Equal([(byte)'<', 0, 0, 0, 2, (byte)'h', (byte)'i', 0, 0, 0, 0], s.Transport.Sent);
        });
    }

    [Fact]
    public void AFrame_AfterClose_IsRefused_FromAnotherThread()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var frames = new FrameWriter(s.Writer, LengthFieldFormat.Default);
            s.Writer.Close();
            await Task.Run(() => Assert.Throws<InvalidOperationException>(() => frames.Write(new Frame(0, Bytes.Ascii("late")))));
        });
    }

    [Fact]
    public void WaitClosedAsync_WithAToken_StopsWaitingWhenCancelled_AndTheConnectionGoesOn()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            using var cts = new CancellationTokenSource();
            Task waiting = s.Writer.WaitClosedAsync(cts.Token);
            Assert.False(waiting.IsCompleted);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

            s.Writer.Write("still open"u8);
            Assert.Equal("still open", Bytes.Text(s.Transport.Sent));
            s.Writer.Close();
            await s.Writer.WaitClosedAsync().WaitAsync(TimeSpan.FromSeconds(10));
        });
    }

    [Fact]
    public void AWriteLargerThanThePoolsArrays_FromAnotherThread_ArrivesWhole()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            byte[] large = Bytes.Random((3 * 1024 * 1024) / 2, seed: 21);
            Assert.True(Task.Run(() => s.Writer.Write(large)).Wait(TimeSpan.FromSeconds(10)));
            for (int i = 0; i < 100 && s.Transport.Sent.Length < large.Length; i++)
            {
                await _test.YieldAsync(1);
            }

            Assert.Equal(large, s.Transport.Sent);
        });
    }

    private static ReadOnlySequence<byte> Segments(params string[] parts)
    {
        var first = new Segment(Bytes.Ascii(parts[0]), 0);
        Segment last = first;
        foreach (string part in parts.Skip(1))
        {
            last = last.Append(Bytes.Ascii(part));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
