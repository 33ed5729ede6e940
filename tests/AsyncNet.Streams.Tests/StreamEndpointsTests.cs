using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests;

/// <summary>Reader/writer pairs over real sockets (127.0.0.1, ::1 and Unix paths), opened with <see cref="StreamEndpoints"/>.</summary>
public sealed class StreamEndpointsTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void Echo_LinesRoundTrip(string family)
    {
        StreamFamily f = StreamFamily.Get(family);
        _test.Run(async () =>
        {
            await using StreamServer server = await f.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                while (await reader.ReadLineAsync() is { Length: > 0 } line)
                {
                    writer.Write(line);
                    await writer.DrainAsync();
                }
            });

            (StreamReader reader, StreamWriter writer) = await f.OpenAsync(_test.Loop, server);
            Assert.NotNull(writer.GetExtraInfo("peername"));
            writer.Write(Bytes.Ascii("hello\nwor"));
            writer.Write(Bytes.Ascii("ld\n"));
            Assert.Equal("hello\n", Bytes.Text(await reader.ReadLineAsync()));
            Assert.Equal("world\n", Bytes.Text(await reader.ReadLineAsync()));
            writer.WriteEof();
            Assert.Empty(await reader.ReadAsync(10));
            Assert.True(reader.AtEof);
            writer.Close();
            await writer.WaitClosedAsync();
        });
    }

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void BulkTransfer_TinySendBuffer_NoByteLostAndDrainBoundsTheBuffer(string family)
    {
        StreamFamily f = StreamFamily.Get(family);
        byte[] data = Bytes.Random(3 * 1024 * 1024, seed: 3);
        _test.Run(async () =>
        {
            var received = new TaskCompletionSource<byte[]>();
            await using StreamServer server = await f.StartServerAsync(
                _test.Loop,
                async (reader, _) => received.SetResult(await reader.ReadToEndAsync()));

            (_, StreamWriter writer) = await f.OpenAsync(_test.Loop, server, connectionOptions: new ConnectionOptions { SendBufferSize = 4096, WriteBufferHighWaterMark = 32 * 1024 });
            int worst = 0;
            for (int offset = 0; offset < data.Length; offset += 10_000)
            {
                writer.Write(data.AsSpan(offset, Math.Min(10_000, data.Length - offset)));
                await writer.DrainAsync();
                worst = Math.Max(worst, writer.Transport.WriteBufferSize);
            }

            writer.WriteEof();
            Assert.Equal(data, await received.Task);
            Assert.True(worst <= writer.Transport.WriteBufferLowWaterMark, $"After each drain at most the low mark is buffered; saw {worst}");
        }, seconds: 60);
    }

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void SlowReader_PausesTheTransportAboveTheLimit_AndResumesAtHalf(string family)
    {
        StreamFamily f = StreamFamily.Get(family);
        const int limit = 16 * 1024;
        _test.Run(async () =>
        {
            var serverSide = new TaskCompletionSource<(StreamReader, StreamWriter)>();
            var done = new TaskCompletionSource();
            await using StreamServer server = await f.StartServerAsync(
                _test.Loop,
                async (reader, writer) =>
                {
                    serverSide.SetResult((reader, writer));
                    await done.Task;
                },
                new StreamOptions { Limit = limit });

            (_, StreamWriter client) = await f.OpenAsync(_test.Loop, server);
            (StreamReader reader, StreamWriter serverWriter) = await serverSide.Task;
            IStreamTransport transport = serverWriter.Transport;

            client.Write(new byte[1024 * 1024]);
            while (transport.IsReading)
            {
                await _test.YieldAsync(1);
            }

            long atPause = reader.BufferedBytes;
            Assert.True(atPause > limit, $"Paused with {atPause} unread, above the limit");
            Assert.True(atPause <= limit + StreamTransportOptions.DefaultReadBufferSize, $"Paused with {atPause} unread: at most the limit and one segment");

            // Consume down to just above half: still paused. Then one byte more: resumed.
            await reader.ReadExactlyAsync((int)(atPause - (limit / 2) - 1));
            await _test.YieldAsync();
            Assert.False(transport.IsReading);
            await reader.ReadExactlyAsync(1);
            Assert.True(transport.IsReading);

            // Reading more than the limit in one go cannot deadlock.
            long rest = (1024 * 1024) - atPause + (limit / 2);
            Assert.Equal((int)rest, (await reader.ReadExactlyAsync((int)rest)).Length);
            done.SetResult();
        }, seconds: 60);
    }

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void ThreadPoolConsumer_ReadsAndWritesCorrectly(string family)
    {
        StreamFamily f = StreamFamily.Get(family);
        byte[] data = Bytes.Random(512 * 1024, seed: 11);
        _test.Run(async () =>
        {
            // The server handler hops to the thread pool for good: every read, write and drain comes from there.
            await using StreamServer server = await f.StartServerAsync(_test.Loop, (reader, writer) => Task.Run(async () =>
            {
                var buffer = new byte[7000];
                int n;
                while ((n = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    writer.Write(buffer.AsSpan(0, n));
                    await writer.DrainAsync().ConfigureAwait(false);
                }

                writer.WriteEof();
            }), new StreamOptions { Limit = 8192 });

            (StreamReader reader, StreamWriter writer) = await f.OpenAsync(_test.Loop, server);
            Task<byte[]> echoed = reader.ReadToEndAsync().AsTask();
            for (int offset = 0; offset < data.Length; offset += 20_000)
            {
                writer.Write(data.AsSpan(offset, Math.Min(20_000, data.Length - offset)));
                await writer.DrainAsync();
            }

            writer.WriteEof();
            Assert.Equal(data, await echoed);
        }, seconds: 60);
    }

    [Fact]
    public void OpenConnectionAsync_NothingListening_FailsWithConnectionRefused()
    {
        _test.Run(async () =>
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)probe.LocalEndPoint!).Port;
            await Assert.ThrowsAsync<ConnectionRefusedException>(() => _test.Loop.OpenConnectionAsync("127.0.0.1", port));
        });
    }

    [Fact]
    public void OpenConnectionAsync_InvalidArguments_ThrowSynchronously()
    {
        // Thrown by the call itself, not through the task.
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = _test.Loop.OpenConnectionAsync("127.0.0.1", 1, new StreamOptions { Limit = 0 }); });
        Assert.Throws<ArgumentNullException>(() => { _ = _test.Loop.StartServerAsync(null!, "127.0.0.1", 0); });
        Assert.Throws<ArgumentException>(() => { _ = _test.Loop.OpenUnixConnectionAsync(""); });
    }

    [Fact]
    public void PeerResets_ReadThrowsAndDrainThrows()
    {
        _test.Run(async () =>
        {
            await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, (_, writer) =>
            {
                // RST instead of FIN: linger 0, then close.
                ((Socket)writer.GetExtraInfo("socket")!).LingerState = new LingerOption(true, 0);
                writer.Transport.Abort();
                return Task.CompletedTask;
            });

            (StreamReader reader, StreamWriter writer) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
            await Assert.ThrowsAsync<ConnectionResetException>(async () => await reader.ReadAsync(10));
            await Assert.ThrowsAsync<ConnectionResetException>(async () => await writer.DrainAsync());
            await Assert.ThrowsAsync<ConnectionResetException>(() => writer.WaitClosedAsync());
        });
    }
}
