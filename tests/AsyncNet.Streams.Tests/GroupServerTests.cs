using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using AsyncNet.Loop;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests;

/// <summary>Stream and framed servers on a loop group, and streams used from threads that are not loops.</summary>
public sealed class GroupServerTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EveryHandlersContinuations_RunOnItsOwnConnectionsLoopThread()
    {
        await using var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 4 });
        var wrongThread = new ConcurrentQueue<string>();
        var loopsUsed = new ConcurrentDictionary<EventLoop, int>();
        await using GroupServer server = await group.StartServerAsync(
            async (reader, writer) =>
            {
                EventLoop own = EventLoop.Current!;
                int thread = Environment.CurrentManagedThreadId;
                loopsUsed.AddOrUpdate(own, 1, (_, n) => n + 1);
                void Check(string where)
                {
                    if (Environment.CurrentManagedThreadId != thread || !own.IsOnLoopThread)
                    {
                        wrongThread.Enqueue(where);
                    }
                }

                byte[] line;
                while ((line = await reader.ReadLineAsync()).Length > 0)
                {
                    Check("after ReadLineAsync");
                    await Task.Yield();
                    Check("after Task.Yield");
                    await own.SleepAsync(TimeSpan.FromMilliseconds(1));
                    Check("after SleepAsync");
                    writer.Write(line);
                    await writer.DrainAsync();
                    Check("after DrainAsync");
                }
            },
            "127.0.0.1",
            0,
            serverOptions: new ServerOptions { Distribution = AcceptDistribution.RoundRobin });

        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => LineClient(server.Port, i)))).WaitAsync(s_limit);

        Assert.Empty(wrongThread);
        Assert.Equal(4, loopsUsed.Count);
        Assert.All(loopsUsed.Values, n => Assert.Equal(4, n));
    }

    [Fact]
    public async Task StreamsOpenedFromTheThreadPool_OnALoopOnItsOwnThread_EchoAndCloseFromThere()
    {
        await using EventLoop loop = EventLoop.StartOnNewThread();
        StreamServer server = await Task.Run(() => loop.StartServerAsync(
            async (reader, writer) =>
            {
                byte[] buffer = new byte[1024];
                int n;
                while ((n = await reader.ReadAsync(buffer)) > 0)
                {
                    writer.Write(buffer.AsSpan(0, n));
                    await writer.DrainAsync();
                }
            },
            "127.0.0.1",
            0)).WaitAsync(s_limit);
        int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;

        // Ordinary .NET code: no loop context anywhere below.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var (reader, writer) = await loop.OpenConnectionAsync("127.0.0.1", port);
            byte[] message = RandomNumberGenerator.GetBytes(10_000 + i);
            writer.Write(message);
            await writer.DrainAsync();
            Assert.Equal(message, await reader.ReadExactlyAsync(message.Length));
            writer.Close();
            await writer.WaitClosedAsync();
        }))).WaitAsync(s_limit);

        // Disposed from the pool too: the server hands its own shutdown to the loop.
        await Task.Run(async () => await server.DisposeAsync()).WaitAsync(s_limit);
        Assert.False(server.IsServing);
    }

    [Fact]
    public async Task GroupShutdown_WithEchoesInFlight_LosesNoAcknowledgedByte()
    {
        var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 4 });
        var acknowledged = new ConcurrentDictionary<int, long>();
        GroupServer server = await group.StartServerAsync(
            async (reader, writer) =>
            {
                int peerPort = ((IPEndPoint)writer.Transport.GetExtraInfo("peername")!).Port;
                byte[] buffer = new byte[4096];
                int n;
                while ((n = await reader.ReadAsync(buffer)) > 0)
                {
                    // Write returning is the acknowledgement: from here the bytes must reach the peer.
                    writer.Write(buffer.AsSpan(0, n));
                    acknowledged.AddOrUpdate(peerPort, n, (_, total) => total + n);
                    await writer.DrainAsync();

                    // Paced (4 KiB per millisecond at most), so the shutdown surely lands in mid-stream.
                    await EventLoop.Current!.SleepAsync(TimeSpan.FromMilliseconds(1));
                }
            },
            "127.0.0.1",
            0);

        var clients = new List<(Socket Socket, byte[] Sent, Task<byte[]> Received, Task Sending)>();
        using var stopSending = new CancellationTokenSource();
        for (int i = 0; i < 12; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 20_000, SendTimeout = 20_000 };
            socket.Connect(IPAddress.Loopback, server.Port);
            byte[] sent = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
            // Blocking peers on threads of their own: the group's shutdown must not wait for a starved thread pool.
            Task sending = Task.Factory.StartNew(() => SendUntilStopped(socket, sent, stopSending.Token), TaskCreationOptions.LongRunning);
            clients.Add((socket, sent, Task.Factory.StartNew(() => ReadToEnd(socket), TaskCreationOptions.LongRunning), sending));
        }

        // Let echoes flow, then shut the group down in the middle of them.
        while (acknowledged.Values.Sum() < 512 * 1024)
        {
            await Task.Delay(5).WaitAsync(s_limit);
        }

        await group.ShutdownAsync(TimeSpan.FromSeconds(10)).WaitAsync(s_limit);
        await stopSending.CancelAsync();
        long totalReceived = 0;
        foreach ((Socket socket, byte[] sent, Task<byte[]> receiving, Task sending) in clients)
        {
            byte[] received = await receiving.WaitAsync(s_limit);
            int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            long promised = acknowledged.GetValueOrDefault(port);
            Assert.Equal(promised, received.Length);
            Assert.True(sent.AsSpan(0, received.Length).SequenceEqual(received), "What arrives is the echo of what was sent, in order");
            totalReceived += received.Length;
            await sending.WaitAsync(s_limit);
            socket.Dispose();
        }

        Assert.True(totalReceived < clients.Sum(c => (long)c.Sent.Length), "The shutdown came while echoes were still flowing");
    }

    [Fact]
    public async Task FramedServerOnAGroup_EchoesFramesOnEveryLoop()
    {
        await using var group = new EventLoopGroup(new EventLoopGroupOptions { LoopCount = 2 });
        var format = new LengthFieldFormat(lengthFieldSize: 4);
        await using GroupServer server = await group.StartFramedServerAsync(
            async connection =>
            {
                while (await connection.Reader.ReadFrameAsync() is { } frame)
                {
                    await connection.Writer.WriteAsync(frame);
                }
            },
            "127.0.0.1",
            0,
            format,
            serverOptions: new ServerOptions { Distribution = AcceptDistribution.RoundRobin });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            EventLoop loop = group.Next();
            FramedConnection client = await loop.OpenFramedConnectionAsync("127.0.0.1", server.Port, format);
            byte[] payload = RandomNumberGenerator.GetBytes(100 + i);
            await client.Writer.WriteAsync(0, payload);
            Frame? echoed = await client.Reader.ReadFrameAsync();
            Assert.Equal(payload, System.Buffers.BuffersExtensions.ToArray(echoed!.Value.Payload));
            client.Close();
            await client.WaitClosedAsync();
        }))).WaitAsync(s_limit);
        Assert.Equal([2, 2], server.GetAcceptedCounts());
    }

    private static void LineClient(int port, int seed)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 20_000 };
        socket.Connect(IPAddress.Loopback, port);
        for (int i = 0; i < 5; i++)
        {
            byte[] line = System.Text.Encoding.ASCII.GetBytes($"client {seed} line {i}\n");
            socket.Send(line);
            byte[] back = new byte[line.Length];
            int got = 0;
            while (got < back.Length)
            {
                got += socket.Receive(back, got, back.Length - got, SocketFlags.None);
            }

            Assert.Equal(line, back);
        }

        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, socket.Receive(new byte[1]));
    }

    private static void SendUntilStopped(Socket socket, byte[] data, CancellationToken stop)
    {
        int sent = 0;
        try
        {
            while (sent < data.Length && !stop.IsCancellationRequested)
            {
                sent += socket.Send(data, sent, Math.Min(8192, data.Length - sent), SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            // The server closed: what it did not read was never acknowledged.
        }
    }

    private static byte[] ReadToEnd(Socket socket)
    {
        var all = new MemoryStream();
        byte[] buffer = new byte[65536];
        try
        {
            int n;
            while ((n = socket.Receive(buffer)) > 0)
            {
                all.Write(buffer, 0, n);
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // A reset after the graceful close's FIN (our unread sends) changes nothing already received.
        }

        return all.ToArray();
    }
}
