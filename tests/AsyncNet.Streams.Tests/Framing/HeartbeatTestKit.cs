using System.Buffers;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Loop;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>Raw peers and framed endpoints for the heartbeat tests, over loopback TCP or Unix sockets.</summary>
internal static class HeartbeatTestKit
{
    public static TheoryData<string> Families => ["tcp4", "unix"];

    /// <summary>Starts a framed server on 127.0.0.1 (port chosen by the OS) or on a fresh Unix socket path.</summary>
    public static Task<StreamServer> StartFramedServerAsync(
        EventLoop loop, string family, Func<FramedConnection, Task> handler, LengthFieldFormat format, HeartbeatOptions? heartbeat, StreamOptions? options = null, ServerOptions? serverOptions = null) =>
        family switch
        {
            "tcp4" => loop.StartFramedServerAsync(handler, "127.0.0.1", 0, format, heartbeat, options, serverOptions),
            "unix" => loop.StartFramedUnixServerAsync(handler, Path.Combine(Path.GetTempPath(), $"asyncnet-hb-{Guid.NewGuid():N}.sock"), format, heartbeat, options, serverOptions),
            _ => throw new ArgumentException(family),
        };

    /// <summary>Opens a framed connection to <paramref name="server"/>, over the family it listens on.</summary>
    public static Task<FramedConnection> OpenFramedAsync(
        EventLoop loop, StreamServer server, LengthFieldFormat format, HeartbeatOptions? heartbeat, StreamOptions? options = null, ConnectionOptions? connectionOptions = null) =>
        server.Sockets[0].LocalEndPoint switch
        {
            IPEndPoint ip => loop.OpenFramedConnectionAsync(ip.Address.ToString(), ip.Port, format, heartbeat, options, connectionOptions),
            UnixDomainSocketEndPoint unix => loop.OpenFramedUnixConnectionAsync(unix.ToString(), format, heartbeat, options, connectionOptions),
            var other => throw new ArgumentException($"Unexpected endpoint {other}"),
        };

    /// <summary>A raw TCP client of <paramref name="server"/>: it sends and reads only what the test tells it to.</summary>
    public static async Task<Socket> ConnectRawAsync(StreamServer server, int? receiveBufferSize = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize is int size)
        {
            socket.ReceiveBufferSize = size;
        }

        await socket.ConnectAsync(server.Sockets[0].LocalEndPoint!);
        return socket;
    }

    /// <summary>Opens a framed client connection to a raw TCP listener and returns both ends; the raw end never sends unless told to.</summary>
    public static async Task<(FramedConnection Client, Socket Peer)> ConnectToRawPeerAsync(
        EventLoop loop, LengthFieldFormat format, HeartbeatOptions? heartbeat, ConnectionOptions? connectionOptions = null, int? peerReceiveBufferSize = null)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (peerReceiveBufferSize is int size)
        {
            // Set on the listener so the accepted socket starts with it (the window is agreed during the handshake).
            listener.ReceiveBufferSize = size;
        }

        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Task<Socket> accepting = listener.AcceptAsync();
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        FramedConnection client = await loop.OpenFramedConnectionAsync("127.0.0.1", endPoint.Port, format, heartbeat, connectionOptions: connectionOptions);
        return (client, await accepting);
    }

    /// <summary>Decodes every whole frame in <paramref name="wire"/>, copying each out; leftover bytes of a partial frame are ignored.</summary>
    public static List<DecodedFrame> DecodeAll(LengthFieldFormat format, byte[] wire)
    {
        var decoder = new FrameDecoder(format);
        var buffer = new ReadOnlySequence<byte>(wire);
        var frames = new List<DecodedFrame>();
        while (decoder.TryDecode(ref buffer, out Frame frame))
        {
            frames.Add(new DecodedFrame(frame.Type, frame.Payload.ToArray()));
        }

        return frames;
    }

    /// <summary>Reads from a raw socket until it has at least <paramref name="count"/> bytes, or the peer ends the connection.</summary>
    public static async Task<byte[]> ReceiveAtLeastAsync(Socket socket, int count)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (received.Count < count)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            }
            catch (SocketException)
            {
                break;
            }

            if (n == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, n));
        }

        return [.. received];
    }

    /// <summary>Reads frames until the stream ends, copying each out.</summary>
    public static async Task<List<DecodedFrame>> ReadAllAsync(FrameReader reader)
    {
        var frames = new List<DecodedFrame>();
        while (await reader.ReadFrameAsync() is { } frame)
        {
            frames.Add(new DecodedFrame(frame.Type, frame.Payload.ToArray()));
        }

        return frames;
    }
}
