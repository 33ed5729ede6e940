namespace AsyncNet.Streams.Tests;

/// <summary>
/// The reader's answers to bad arguments and to limits, in words a caller can act on; what it says about itself; and
/// an overlong line discarded across segments, with its newline anywhere in the next one.
/// </summary>
public sealed class StreamReaderContractTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Fact]
    public void NegativeCounts_AndAnEmptySeparator_AreRejected_BeforeTheReadStarts()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            StreamReader reader = s.Reader;
            Assert.Equal("maxBytes", Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadAsync(-1)).ParamName);
            Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadExactlyAsync(-1)).ParamName);
            Assert.Equal("minimumBytes", Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadBufferedAsync(0)).ParamName);
            Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => reader.WaitBufferedAsync(-1)).ParamName);
            var empty = Assert.Throws<ArgumentException>(() => reader.ReadUntilAsync(ReadOnlyMemory<byte>.Empty));
            Assert.Equal("separator", empty.ParamName);
            Assert.Contains("at least one byte", empty.Message);

            // None of them started a read: the next one works.
            s.Feed("ok");
            Assert.Equal("ok", Bytes.Text(await reader.ReadAsync(10)));
        });
    }

    [Fact]
    public void EveryReadKind_CanBeRepeated_AfterWaiting()
    {
        // Each kind reuses one pending read per reader: a second wait of the same kind must work like the first.
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            for (int round = 0; round < 2; round++)
            {
                ValueTask<byte[]> read = s.Reader.ReadAsync(10);
                s.Feed("a");
                Assert.Equal("a", Bytes.Text(await read));

                ValueTask<byte[]> exactly = s.Reader.ReadExactlyAsync(2);
                s.Feed("bc");
                Assert.Equal("bc", Bytes.Text(await exactly));

                ValueTask<byte[]> until = s.Reader.ReadUntilAsync(Bytes.Ascii(";"));
                s.Feed("d;");
                Assert.Equal("d;", Bytes.Text(await until));

                ValueTask<byte[]> line = s.Reader.ReadLineAsync();
                s.Feed("e\n");
                Assert.Equal("e\n", Bytes.Text(await line));

                ValueTask<bool> buffered = s.Reader.WaitBufferedAsync(1);
                s.Feed("f");
                Assert.True(await buffered);
                Assert.Equal("f", Bytes.Text(await s.Reader.ReadAsync(1)));
            }

            ValueTask<byte[]> rest = s.Reader.ReadToEndAsync();
            s.Feed("g");
            s.Transport.DeliverEof();
            Assert.Equal("g", Bytes.Text(await rest));
        });
    }

    [Fact]
    public void LimitMessages_SayWhatWasTooLong_AndWhatHappensToTheBytes()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 4);
            s.Feed("abcdef;");
            var found = await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadUntilAsync(Bytes.Ascii(";")));
            Assert.Contains("The separator was found", found.Message);
            Assert.Contains("longer than the limit", found.Message);
            Assert.Equal("abcdef;", Bytes.Text(await s.Reader.ReadExactlyAsync(7)));

            s.Feed("abcdefgh");
            var notFound = await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadUntilAsync(Bytes.Ascii(";")));
            Assert.Contains("The separator was not found within the limit", notFound.Message);
            Assert.Equal("abcdefgh", Bytes.Text(await s.Reader.ReadExactlyAsync(8)));

            s.Feed("abcdef\n");
            var line = await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadLineAsync());
            Assert.Contains("A line of 6 bytes", line.Message);

            s.Feed("abcdefgh");
            var open = await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadLineAsync());
            Assert.Contains("A line is longer than the limit", open.Message);
            Assert.Contains("discarded", open.Message);
        });
    }

    [Theory]
    [InlineData("\nnext\n")]
    [InlineData("more\nnext\n")]
    [InlineData("more")]
    public void AnOverlongLine_IsDiscardedUpToItsNewline_WhereverThatArrives(string after)
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted(limit: 4);
            s.Feed("abcdefgh");
            await Assert.ThrowsAsync<LimitOverrunException>(async () => await s.Reader.ReadLineAsync());

            // Still inside the discarded line: a read waits for its newline, whatever kind it is.
            ValueTask<byte[]> next = s.Reader.ReadAsync(100);
            Assert.False(next.IsCompleted);
            s.Feed(after);
            if (after.Contains('\n'))
            {
                Assert.Equal("next\n", Bytes.Text(await next));
            }
            else
            {
                Assert.False(next.IsCompleted, "no newline yet: the rest of the line is still discarded");
                s.Transport.DeliverEof();
                Assert.Empty(await next);
                Assert.True(s.Reader.AtEof);
            }
        });
    }

    [Fact]
    public void ToString_ShowsWhatAWaitingReadNeeds()
    {
        _test.Run(async () =>
        {
            Scripted s = _test.CreateScripted();
            Assert.DoesNotContain("Waiting", s.Reader.ToString());
            ValueTask<byte[]> exactly = s.Reader.ReadExactlyAsync(3);
            Assert.Contains("Waiting=3", s.Reader.ToString());
            s.Feed("abc");
            await exactly;

            ValueTask<byte[]> rest = s.Reader.ReadToEndAsync();
            Assert.Contains("Waiting=Eof", s.Reader.ToString());
            s.Transport.DeliverEof();
            await rest;
            Assert.Contains("Eof", s.Reader.ToString());
            Assert.DoesNotContain("Waiting", s.Reader.ToString());
        });
    }

    [Fact]
    public void AdvanceTo_WithNothingLent_SaysSo()
    {
        _test.Run(() =>
        {
            Scripted s = _test.CreateScripted();
            var error = Assert.Throws<InvalidOperationException>(() => s.Reader.AdvanceTo(0));
            Assert.Contains("Nothing is lent", error.Message);
            return Task.CompletedTask;
        });
    }
}
