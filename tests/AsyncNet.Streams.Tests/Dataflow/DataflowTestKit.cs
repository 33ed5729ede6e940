using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Dataflow;
using AsyncNet.Loop;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests.Dataflow;

/// <summary>A TCP connection over 127.0.0.1 between a stream server's handler and a client, both on one loop.</summary>
/// <remarks>The server's handler runs until <see cref="DisposeAsync"/>; the server closes its writer then.</remarks>
internal sealed class Loopback : IAsyncDisposable
{
    private readonly TaskCompletionSource _release = new();

    private Loopback(StreamServer server)
    {
        Server = server;
    }

    public StreamServer Server { get; }

    public IPEndPoint EndPoint => (IPEndPoint)Server.Sockets[0].LocalEndPoint!;

    public StreamReader ServerReader { get; private set; } = null!;

    public StreamWriter ServerWriter { get; private set; } = null!;

    public StreamReader ClientReader { get; private set; } = null!;

    public StreamWriter ClientWriter { get; private set; } = null!;

    /// <summary>Starts a server and connects a stream client to it.</summary>
    public static async Task<Loopback> OpenAsync(
        EventLoop loop, StreamOptions? serverStreams = null, ServerOptions? serverOptions = null, StreamOptions? clientStreams = null, ConnectionOptions? clientOptions = null)
    {
        (Loopback loopback, Task<(StreamReader, StreamWriter)> accepted) = await ListenAsync(loop, serverStreams, serverOptions);
        (loopback.ClientReader, loopback.ClientWriter) = await loop.OpenConnectionAsync("127.0.0.1", loopback.EndPoint.Port, clientStreams, clientOptions);
        (loopback.ServerReader, loopback.ServerWriter) = await accepted;
        return loopback;
    }

    /// <summary>Starts a server and connects a raw socket to it (a peer whose every byte and reset the test decides).</summary>
    public static async Task<(Loopback Loopback, Socket Peer)> OpenRawAsync(EventLoop loop, StreamOptions? serverStreams = null, ServerOptions? serverOptions = null)
    {
        (Loopback loopback, Task<(StreamReader, StreamWriter)> accepted) = await ListenAsync(loop, serverStreams, serverOptions);
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await peer.ConnectAsync(loopback.EndPoint);
        (loopback.ServerReader, loopback.ServerWriter) = await accepted;
        return (loopback, peer);
    }

    public async ValueTask DisposeAsync()
    {
        _release.TrySetResult();
        ClientWriter?.Close();
        Server.Close();
        try
        {
            await Server.WaitClosedAsync().WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (TimeoutException)
        {
            Server.AbortClients();
            await Server.WaitClosedAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
    }

    private static async Task<(Loopback, Task<(StreamReader, StreamWriter)>)> ListenAsync(EventLoop loop, StreamOptions? serverStreams, ServerOptions? serverOptions)
    {
        var accepted = new TaskCompletionSource<(StreamReader, StreamWriter)>(TaskCreationOptions.RunContinuationsAsynchronously);
        Loopback? loopback = null;
        StreamServer server = await loop.StartServerAsync(
            (reader, writer) =>
            {
                accepted.TrySetResult((reader, writer));
                return loopback!._release.Task;
            },
            "127.0.0.1",
            0,
            serverStreams,
            serverOptions);
        loopback = new Loopback(server);
        return (loopback, accepted.Task);
    }
}

internal static class DataflowTestKit
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Frames with deterministic pseudo-random payloads (including empty ones) and types that fit <paramref name="format"/>.</summary>
    public static List<(uint Type, byte[] Payload)> Frames(LengthFieldFormat format, int count, int maxPayload, int seed)
    {
        var random = new Random(seed);
        var frames = new List<(uint, byte[])>();
        for (int i = 0; i < count; i++)
        {
            byte[] payload = new byte[i % 7 == 0 ? 0 : random.Next(1, maxPayload + 1)];
            random.NextBytes(payload);
            uint type = format.HasTypeField ? (uint)random.Next(0, (int)Math.Min(format.MaxType, 255) + 1) : 0;
            frames.Add((type, payload));
        }

        return frames;
    }

    public static byte[] Encode(LengthFieldFormat format, IEnumerable<(uint Type, byte[] Payload)> frames)
    {
        var encoder = new FrameEncoder(format);
        return frames.SelectMany(f => encoder.Encode(f.Type, f.Payload)).ToArray();
    }

    /// <summary>Cuts <paramref name="bytes"/> into chunks of 1 to <paramref name="maxChunk"/> bytes, each a fresh array.</summary>
    public static List<byte[]> Chunk(byte[] bytes, int maxChunk, int seed)
    {
        var random = new Random(seed);
        var chunks = new List<byte[]>();
        for (int offset = 0; offset < bytes.Length;)
        {
            int length = Math.Min(random.Next(1, maxChunk + 1), bytes.Length - offset);
            chunks.Add(bytes.AsSpan(offset, length).ToArray());
            offset += length;
        }

        return chunks;
    }

    /// <summary>Takes everything <paramref name="source"/> offers until it completes (whatever its outcome).</summary>
    public static async Task<List<T>> DrainAsync<T>(ISourceBlock<T> source)
    {
        var items = new List<T>();
        var receivable = (IReceivableSourceBlock<T>)source;
        while (await source.OutputAvailableAsync().WaitAsync(TestTimeout))
        {
            while (receivable.TryReceive(out T? item))
            {
                items.Add(item);
            }
        }

        return items;
    }

    /// <summary>
    /// Lets the loop run until <paramref name="condition"/> holds (Dataflow hands work between the loop and the thread
    /// pool, so a fixed number of iterations is not enough), then a little longer so that what should not happen could.
    /// </summary>
    public static async Task SettleAsync(EventLoop loop, Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + TestTimeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not come true in time.");
            await loop.SleepAsync(TimeSpan.FromMilliseconds(1));
        }

        await loop.SleepAsync(TimeSpan.FromMilliseconds(20));
    }

    /// <summary>The bytes of received segments, concatenated.</summary>
    public static byte[] Concat(IEnumerable<ReadOnlyMemory<byte>> segments) => segments.SelectMany(s => s.ToArray()).ToArray();

    /// <summary>The one exception a faulted Dataflow completion carries, however deeply propagation nested it.</summary>
    public static Exception FaultOf(Task completion)
    {
        Assert.True(completion.IsFaulted, $"Expected a faulted completion; it is {completion.Status}.");
        return Assert.Single(completion.Exception!.Flatten().InnerExceptions);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes from a raw socket.</summary>
    public static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        for (int offset = 0; offset < count;)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(offset), SocketFlags.None).AsTask().WaitAsync(TestTimeout);
            Assert.True(n > 0, $"The connection ended after {offset} of {count} bytes.");
            offset += n;
        }

        return buffer;
    }

    /// <summary>Reads from a raw socket until the peer closes (0) or resets; returns the bytes and whether it was a reset.</summary>
    /// <remarks>After a reset Linux drops what the socket had received and not yet read: only bytes read before it count.</remarks>
    public static async Task<(byte[] Bytes, bool Reset)> ReadToEndAsync(Socket socket)
    {
        var received = new List<byte>();
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TestTimeout);
                if (n == 0)
                {
                    return (received.ToArray(), false);
                }

                received.AddRange(buffer.AsSpan(0, n));
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return (received.ToArray(), true);
        }
    }
}
