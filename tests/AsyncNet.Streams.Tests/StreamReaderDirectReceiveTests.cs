using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests;

/// <summary>
/// Direct receives over real sockets: a large <c>ReadAsync(Memory)</c> waiting on the loop thread without a token has
/// the socket receive straight into its buffer; every other read takes the pooled path; both give the same bytes.
/// </summary>
public sealed class StreamReaderDirectReceiveTests : IDisposable
{
    private const int LargeBuffer = StreamTransportOptions.DefaultReadBufferSize;

    private readonly StreamTestLoop _test = new();

    public enum Reading
    {
        /// <summary>On the loop, no token, a buffer of the read size: received straight into it.</summary>
        Direct,

        /// <summary>The same read with a token that could cancel it.</summary>
        WithToken,

        /// <summary>A buffer smaller than the transport's read size.</summary>
        SmallBuffer,

        /// <summary>Awaited on the thread pool.</summary>
        OffTheLoop,
    }

    public void Dispose() => _test.Dispose();

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void ALargeReadOnTheLoop_ReceivesStraightIntoItsBuffer_AndEveryByteArrivesInOrder(string family)
    {
        byte[] data = Bytes.Random(3 * 1024 * 1024, seed: 11);
        (byte[] received, long direct) = Transfer(StreamFamily.Get(family), data, Reading.Direct);
        Assert.Equal(data, received);
        Assert.True(direct > 0, "the first read waited with nothing buffered, so it was received into directly");
    }

    [Theory]
    [InlineData(Reading.WithToken)]
    [InlineData(Reading.SmallBuffer)]
    [InlineData(Reading.OffTheLoop)]
    public void AnyOtherRead_TakesThePooledPath_WithTheSameBytes(Reading reading)
    {
        byte[] data = Bytes.Random(1024 * 1024, seed: 12);
        (byte[] received, long direct) = Transfer(StreamFamily.Tcp4, data, reading);
        Assert.Equal(data, received);
        Assert.Equal(0, direct);
    }

    [Fact]
    public void DirectReceives_InterleaveWithOtherReadKinds_InStreamOrder()
    {
        _test.Run(async () =>
        {
            await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                Assert.Equal("go\n", Bytes.Text(await reader.ReadLineAsync()));
                writer.Write(Bytes.Ascii("hello\nworld\n"));
                Assert.Equal("next\n", Bytes.Text(await reader.ReadLineAsync()));
                writer.Write(Bytes.Ascii("tail\nend"));
                writer.Close();
            });

            (StreamReader reader, StreamWriter writer) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
            byte[] buffer = new byte[LargeBuffer];
            writer.Write(Bytes.Ascii("go\n"));

            // Received straight into the buffer, as far as it came in one piece; the rest (if any) by a pooled read.
            int n = await reader.ReadAsync(buffer);
            string first = Bytes.Text(buffer[..n]);
            Assert.Equal(1, reader.DirectReceives);
            string rest = first.Length < 12 ? Bytes.Text(await reader.ReadExactlyAsync(12 - first.Length)) : string.Empty;
            Assert.Equal("hello\nworld\n", first + rest);

            writer.Write(Bytes.Ascii("next\n"));
            Assert.Equal("tail\n", Bytes.Text(await reader.ReadLineAsync()));
            n = await reader.ReadAsync(buffer);
            Assert.Equal("end", Bytes.Text(buffer[..n]));
            Assert.Equal(0, await reader.ReadAsync(buffer));
            Assert.True(reader.AtEof);
            writer.Close();
        });
    }

    /// <summary>The server sends <paramref name="data"/> once the client asks; the client reads it all as <paramref name="reading"/> says.</summary>
    private (byte[] Received, long DirectReceives) Transfer(StreamFamily family, byte[] data, Reading reading)
    {
        byte[] received = [];
        long direct = -1;
        _test.Run(async () =>
        {
            await using StreamServer server = await family.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                await reader.ReadExactlyAsync(1);
                for (int offset = 0; offset < data.Length; offset += 100_000)
                {
                    writer.Write(data.AsSpan(offset, Math.Min(100_000, data.Length - offset)));
                    await writer.DrainAsync();
                }

                writer.Close();
            });

            (StreamReader reader, StreamWriter writer) = await family.OpenAsync(_test.Loop, server);
            received = reading == Reading.OffTheLoop
                ? await Task.Run(() => ReadAllAsync(reader, writer, reading))
                : await ReadAllAsync(reader, writer, reading);
            direct = reader.DirectReceives;
            writer.Close();
        });
        return (received, direct);
    }

    private static async Task<byte[]> ReadAllAsync(StreamReader reader, StreamWriter writer, Reading reading)
    {
        // Asked for only now: the first read waits with nothing buffered.
        writer.Write("!"u8);
        using var cts = new CancellationTokenSource();
        CancellationToken token = reading == Reading.WithToken ? cts.Token : CancellationToken.None;
        byte[] buffer = new byte[reading == Reading.SmallBuffer ? LargeBuffer / 2 : LargeBuffer];
        using var all = new MemoryStream();
        int n;
        while ((n = await reader.ReadAsync(buffer, token)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        return all.ToArray();
    }
}
