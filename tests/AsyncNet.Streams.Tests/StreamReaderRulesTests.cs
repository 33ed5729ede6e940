using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// StreamReader's rules that hold for every kind of read: one read at a time, and once the connection was lost with
/// an error, every read throws that first error, even one that asks for nothing.
/// </summary>
public sealed class StreamReaderRulesTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    public static TheoryData<string> ReadKinds =>
        ["ReadAsync(buffer)", "ReadAsync(n)", "ReadExactlyAsync", "ReadUntilAsync", "ReadLineAsync", "ReadToEndAsync", "TryRead", "WaitBufferedAsync", "ReadFrameAsync"];

    /// <summary>Starts a read of the given kind; a synchronous throw surfaces as a faulted task.</summary>
    private static Task StartRead(StreamReader reader, string kind, int count = 4)
    {
        try
        {
            return kind switch
            {
                "ReadAsync(buffer)" => reader.ReadAsync(new byte[count].AsMemory()).AsTask(),
                "ReadAsync(n)" => reader.ReadAsync(count).AsTask(),
                "ReadExactlyAsync" => reader.ReadExactlyAsync(count).AsTask(),
                "ReadUntilAsync" => reader.ReadUntilAsync("|"u8.ToArray()).AsTask(),
                "ReadLineAsync" => reader.ReadLineAsync().AsTask(),
                "ReadToEndAsync" => reader.ReadToEndAsync().AsTask(),
                "TryRead" => Task.FromResult(reader.TryRead(new byte[count], out _)),
                "WaitBufferedAsync" => reader.WaitBufferedAsync(count).AsTask(),
                "ReadFrameAsync" => new FrameReader(reader, LengthFieldFormat.Default).ReadFrameAsync().AsTask(),
                _ => throw new ArgumentException(kind),
            };
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    [Theory]
    [MemberData(nameof(ReadKinds))]
    public void AnyRead_WhileAnotherWaits_ThrowsInvalidOperation_AndTheWaitingReadStillFinishes(string kind)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            ValueTask<byte[]> waiting = s.Reader.ReadExactlyAsync(3);

            Task second = StartRead(s.Reader, kind);

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => second);
            Assert.Contains("one read at a time", refused.Message, StringComparison.Ordinal);
            s.Feed("abc");
            Assert.Equal("abc", Bytes.Text(await waiting));
        });
    }

    public static TheoryData<string> EmptyReads => ["ReadAsync(empty buffer)", "ReadAsync(0)", "ReadExactlyAsync(0)", "TryRead(empty)"];

    [Theory]
    [MemberData(nameof(EmptyReads))]
    public void ReadOfNothing_AfterTheConnectionFailed_ThrowsTheError(string kind)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("still buffered");
            var broken = new IOException("reset by peer");
            s.Transport.Lose(broken);
            await _test.YieldAsync();

            Exception? thrown = kind switch
            {
                "ReadAsync(empty buffer)" => await Record.ExceptionAsync(async () => await s.Reader.ReadAsync(Memory<byte>.Empty)),
                "ReadAsync(0)" => await Record.ExceptionAsync(async () => await s.Reader.ReadAsync(0)),
                "ReadExactlyAsync(0)" => await Record.ExceptionAsync(async () => await s.Reader.ReadExactlyAsync(0)),
                _ => Record.Exception(() => s.Reader.TryRead(Span<byte>.Empty, out _)),
            };

            Assert.Same(broken, thrown);
        });
    }

    [Fact]
    public void ReadsOfNothing_OnAHealthyStream_ReturnAtOnceWithoutConsuming()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            s.Feed("abc");

            Assert.Equal(0, await s.Reader.ReadAsync(Memory<byte>.Empty));
            Assert.Empty(await s.Reader.ReadAsync(0));
            Assert.Empty(await s.Reader.ReadExactlyAsync(0));
            Assert.True(s.Reader.TryRead(Span<byte>.Empty, out int n));
            Assert.Equal(0, n);
            Assert.Equal(3, s.Reader.BufferedBytes);
        });
    }

    [Fact]
    public void TheFirstError_Wins_OverALaterOne()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            var first = new IOException("first");
            s.Reader.Fail(first);
            s.Reader.Fail(new IOException("second"));

            Assert.Same(first, s.Reader.Exception);
            Assert.Same(first, await Assert.ThrowsAsync<IOException>(async () => await s.Reader.ReadAsync(1)));
        });
    }
}
