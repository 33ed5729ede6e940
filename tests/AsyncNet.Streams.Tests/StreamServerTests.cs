using System.Net;
using System.Net.Sockets;
using AsyncNet.Errors;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests;

/// <summary>StreamServer: handlers per connection and graceful close.</summary>
public sealed class StreamServerTests : IDisposable
{
    private readonly StreamTestLoop _test = new();

    public void Dispose() => _test.Dispose();

    [Theory]
    [MemberData(nameof(StreamFamily.Names), MemberType = typeof(StreamFamily))]
    public void ShutdownAsync_StopsAcceptingAndLetsRunningHandlersFinish(string family)
    {
        StreamFamily f = StreamFamily.Get(family);
        _test.Run(async () =>
        {
            var started = new TaskCompletionSource();
            StreamServer server = await f.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                started.TrySetResult();
                byte[] request = await reader.ReadExactlyAsync(4);
                await _test.Loop.SleepAsync(TimeSpan.FromMilliseconds(50));
                writer.Write(request);
            });

            (StreamReader reader, StreamWriter writer) = await f.OpenAsync(_test.Loop, server);
            await started.Task;
            Assert.Equal(1, server.ActiveHandlers);
            Task shutdown = server.ShutdownAsync();
            Assert.False(server.IsServing);
            Assert.False(shutdown.IsCompleted, "A handler is still running");
            await Assert.ThrowsAnyAsync<NetworkException>(() => f.OpenAsync(_test.Loop, server));

            writer.Write("ping"u8);
            Assert.Equal("ping", Bytes.Text(await reader.ReadExactlyAsync(4)));

            // The handler returned, so its writer was closed: the client sees EOF.
            Assert.Empty(await reader.ReadAsync(1));
            await shutdown;
            Assert.Equal(0, server.ActiveHandlers);
            Assert.Equal(0, server.Server.ConnectionCount);
        });
    }

    [Fact]
    public void ShutdownAsync_GracePeriodOver_ClosesWritersSoHandlersSeeEof()
    {
        _test.Run(async () =>
        {
            var handlerSawEof = new TaskCompletionSource<bool>();
            StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, async (reader, _) =>
            {
                byte[] rest = await reader.ReadToEndAsync();
                handlerSawEof.SetResult(rest.Length == 0);
            });

            (StreamReader reader, _) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
            while (server.ActiveHandlers == 0)
            {
                await _test.YieldAsync(1);
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            await server.ShutdownAsync(grace.Token);
            Assert.True(await handlerSawEof.Task);
            Assert.Empty(await reader.ReadAsync(1));
        });
    }

    [Fact]
    public void HandlerThrows_ReportedToLoopAndConnectionClosed()
    {
        _test.Run(async () =>
        {
            await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, (_, writer) =>
            {
                writer.Write("partial"u8);
                throw new InvalidDataException("handler bug");
            });

            (StreamReader reader, _) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
            Assert.Equal("partial", Bytes.Text(await reader.ReadToEndAsync()));
            Assert.Contains(_test.HandlerReports, r => r.Exception is InvalidDataException);
        });
    }

    [Fact]
    public void ManyConnections_EachGetsItsOwnHandler()
    {
        _test.Run(async () =>
        {
            await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                byte[] line = await reader.ReadLineAsync();
                writer.Write(line);
                writer.Write(line);
            });

            var clients = new List<Task<string>>();
            for (int i = 0; i < 20; i++)
            {
                int id = i;
                clients.Add(Client());

                async Task<string> Client()
                {
                    (StreamReader reader, StreamWriter writer) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
                    writer.Write(Bytes.Ascii($"client {id}\n"));
                    return Bytes.Text(await reader.ReadToEndAsync());
                }
            }

            string[] replies = await Task.WhenAll(clients);
            for (int i = 0; i < 20; i++)
            {
                Assert.Equal($"client {i}\nclient {i}\n", replies[i]);
            }
        });
    }

    [Fact]
    public void Sockets_ReportTheBoundPort()
    {
        _test.Run(async () =>
        {
            await using StreamServer server = await _test.Loop.StartServerAsync((_, _) => Task.CompletedTask, "127.0.0.1", 0);
            Assert.True(((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port > 0);
            Assert.Contains("StreamServer", server.ToString());
            Assert.Equal(AddressFamily.InterNetwork, server.Sockets[0].AddressFamily);
        });
    }

    [Fact]
    public void Handler_DrainInsideTheReadCallback_SendsTheDeferredWritesInsteadOfWaiting()
    {
        _test.Run(async () =>
        {
            // Between the default marks (16 KiB low, 64 KiB high): deferred whole, and above the low mark. Written in
            // pieces below the transport's gather limit: a single write that large would be sent at once, not deferred.
            byte[] answer = Bytes.Random(40 * 1024);
            var observed = new TaskCompletionSource<(int Deferred, bool DrainedAtOnce, int After)>();
            await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                // A read waiting on the loop thread continues inside the transport's read callback.
                await reader.ReadExactlyAsync(1);
                for (int offset = 0; offset < answer.Length; offset += 8 * 1024)
                {
                    writer.Write(answer.AsSpan(offset, 8 * 1024));
                }

                int deferred = writer.Transport.WriteBufferSize;
                ValueTask drain = writer.DrainAsync();
                observed.SetResult((deferred, drain.IsCompletedSuccessfully, writer.Transport.WriteBufferSize));
                await drain;
            });

            (StreamReader reader, StreamWriter writer) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
            while (server.ActiveHandlers == 0)
            {
                await _test.YieldAsync(1);
            }

            writer.Write("x"u8);
            (int deferred, bool drainedAtOnce, int after) = await observed.Task;
            Assert.True(deferred == answer.Length, $"The write inside the read callback is deferred, not sent: {deferred} buffered");
            Assert.True(drainedAtOnce, "The drain sends the deferred bytes rather than waiting for the callback to return");
            Assert.Equal(0, after);
            Assert.Equal(answer, await reader.ReadExactlyAsync(answer.Length));
        });
    }

    [Fact]
    public void Handler_LargeWriteInsideTheReadCallback_IsSentAtOnceWithoutACopyInTheQueue()
    {
        _test.Run(async () =>
        {
            // The canonical echo of a large message: the write is not deferred (it would be copied into the transport's
            // queue only for the drain to send it at once), so nothing is buffered after it and the drain has no work.
            byte[] answer = Bytes.Random(64 * 1024);
            var observed = new TaskCompletionSource<(int Buffered, bool DrainedAtOnce)>();
            await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(
                _test.Loop,
                async (reader, writer) =>
                {
                    await reader.ReadExactlyAsync(1);
                    writer.Write(answer);
                    int buffered = writer.Transport.WriteBufferSize;
                    ValueTask drain = writer.DrainAsync();
                    observed.SetResult((buffered, drain.IsCompletedSuccessfully));
                    await drain;
                },
                serverOptions: new ServerOptions { SendBufferSize = 1 << 20 });

            (StreamReader reader, StreamWriter writer) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
            while (server.ActiveHandlers == 0)
            {
                await _test.YieldAsync(1);
            }

            writer.Write("x"u8);
            (int buffered, bool drainedAtOnce) = await observed.Task;
            Assert.Equal(0, buffered);
            Assert.True(drainedAtOnce, "Nothing is left for the drain to wait for");
            Assert.Equal(answer, await reader.ReadExactlyAsync(answer.Length));
        });
    }

    [Fact]
    public void PeerThatFloodsAndNeverReads_DoesNotStallTheOthers_AndItsConnectionStaysBounded()
    {
        _test.Run(async () =>
        {
            // An echo handler per connection; the flooder's is the first accepted.
            var flooderSide = new TaskCompletionSource<(StreamReader Reader, StreamWriter Writer)>();
            await using StreamServer server = await StreamFamily.Tcp4.StartServerAsync(_test.Loop, async (reader, writer) =>
            {
                flooderSide.TrySetResult((reader, writer));
                byte[] buffer = new byte[64 * 1024];
                int n;
                while ((n = await reader.ReadAsync(buffer)) > 0)
                {
                    writer.Write(buffer.AsSpan(0, n));
                    await writer.DrainAsync();
                }
            });

            // The flooder: a blocking socket on a thread of its own, sending as fast as the kernel lets it, never reading.
            // Task.Run, not Task.Factory.StartNew: this body runs as a task on the loop's TaskScheduler, which StartNew
            // would inherit while every await so far completed synchronously; the flood then ran on the loop thread,
            // blocked in Send before the server could accept it, and the loop (and its test guard) never ran again.
            using var flooder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await flooder.ConnectAsync((IPEndPoint)server.Sockets[0].LocalEndPoint!);
            long flooded = 0;
            Task flood = Task.Run(
                () =>
                {
                    byte[] chunk = new byte[64 * 1024];
                    try
                    {
                        while (true)
                        {
                            Interlocked.Add(ref flooded, flooder.Send(chunk));
                        }
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        // The test shut the socket down.
                    }
                });
            (StreamReader floodReader, StreamWriter floodWriter) = await flooderSide.Task;

            // Let the flood back up: its echoes stop draining, so its handler stops reading and its reader fills to the limit.
            while (floodReader.BufferedBytes < StreamOptions.DefaultLimit)
            {
                await _test.YieldAsync(1);
            }

            // Meanwhile a well-behaved client gets every one of its echoes.
            (StreamReader reader, StreamWriter writer) = await StreamFamily.Tcp4.OpenAsync(_test.Loop, server);
            byte[] message = Bytes.Random(1024, seed: 5);
            for (int i = 0; i < 200; i++)
            {
                writer.Write(message);
                Assert.Equal(message, await reader.ReadExactlyAsync(message.Length));
            }

            // The flood is held back by flow control on both sides of the flooder's connection, not buffered: the
            // reader stops at its limit plus one read, the writer at its high mark plus the handler's last write.
            Assert.False(flood.IsCompleted, "The flooder is still sending (blocked by TCP flow control)");
            Assert.True(Interlocked.Read(ref flooded) > floodReader.BufferedBytes + floodWriter.Transport.WriteBufferSize, "The rest waits in the kernel");
            Assert.True(floodReader.BufferedBytes <= StreamOptions.DefaultLimit + StreamTransportOptions.DefaultReadBufferSize, floodReader.ToString());
            Assert.True(floodWriter.Transport.WriteBufferSize <= StreamTransportOptions.DefaultWriteBufferHighWaterMark + 64 * 1024, floodWriter.ToString());

            // Shutdown first: it wakes the flooder's blocked Send (closing under it would wait for that Send to end).
            flooder.Shutdown(SocketShutdown.Both);
            await flood.WaitAsync(TimeSpan.FromSeconds(10));

            // The server's disposal waits for every connection: end both.
            flooder.Dispose();
            writer.Close();
            await writer.WaitClosedAsync();
        });
    }
}
