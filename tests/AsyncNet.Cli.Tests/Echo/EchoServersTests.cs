using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Echo;
using AsyncNet.Errors;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Cli.Tests.Echo;

public sealed class EchoServersTests
{
    public static TheoryData<EchoServerKind> ByteEchoKinds => [EchoServerKind.Protocol, EchoServerKind.Stream, EchoServerKind.ZeroCopy, EchoServerKind.Socket, EchoServerKind.Pipelines];

    public static TheoryData<EchoServerKind> AllKinds => [.. EchoServerKinds.All];

    [Theory]
    [MemberData(nameof(ByteEchoKinds))]
    public async Task ByteEcho_EchoesAStreamWritten_InOddChunks(EchoServerKind kind)
    {
        await using IEchoServer server = await EchoServers.StartAsync(kind);
        using Socket client = await ConnectAsync(server.EndPoint);
        byte[] sent = new byte[300_000];
        new Random(5).NextBytes(sent);

        Task<byte[]> echoed = ReceiveExactlyAsync(client, sent.Length);
        int offset = 0;
        int[] chunks = [1, 7, 1000, 65_536, 3];
        for (int i = 0; offset < sent.Length; i++)
        {
            int length = Math.Min(chunks[i % chunks.Length], sent.Length - offset);
            await client.SendAsync(sent.AsMemory(offset, length));
            offset += length;
        }

        Assert.Equal(sent, await echoed.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(kind, server.Kind);
        Assert.NotEqual(0, server.EndPoint.Port);
    }

    [Fact]
    public async Task FramedEcho_ReturnsEachFrameWhole_WithItsType()
    {
        var format = new LengthFieldFormat(typeFieldOffset: 4, typeFieldSize: 1, lengthAdjustment: 1);
        await using IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Framed, options: new EchoServerOptions { FrameFormat = format });
        using Socket client = await ConnectAsync(server.EndPoint);
        var encoder = new FrameEncoder(format);
        byte[] frames = [.. encoder.Encode(7, "hello"u8), .. encoder.Encode(0, []), .. encoder.Encode(255, new byte[70_000])];

        Task<byte[]> echoed = ReceiveExactlyAsync(client, frames.Length);

        // Three bytes at a time at first, so the first frames and the big one's header arrive split; then the rest at once.
        const int Dribbled = 36;
        for (int offset = 0; offset < Dribbled; offset += 3)
        {
            await client.SendAsync(frames.AsMemory(offset, 3));
        }

        await client.SendAsync(frames.AsMemory(Dribbled));

        Assert.Equal(frames, await echoed.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task FramedEcho_DefaultFormat_IsALengthPrefixThenThePayload()
    {
        await using IEchoServer server = await EchoServers.StartAsync(EchoServerKind.Framed);
        using Socket client = await ConnectAsync(server.EndPoint);
        byte[] frame = new byte[4 + 5];
        BinaryPrimitives.WriteUInt32BigEndian(frame, 5);
        "abcde"u8.CopyTo(frame.AsSpan(4));

        Task<byte[]> echoed = ReceiveExactlyAsync(client, frame.Length);
        await client.SendAsync(frame);

        Assert.Equal(frame, await echoed.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task Dispose_ClosesConnections_AndStopsListening(EchoServerKind kind)
    {
        IEchoServer server = await EchoServers.StartAsync(kind);
        IPEndPoint endPoint = server.EndPoint;
        using Socket client = await ConnectAsync(endPoint);
        byte[] ping = kind.IsFramed() ? [0, 0, 0, 1, 42] : [42];
        await client.SendAsync(ping);
        Assert.Equal(ping, await ReceiveExactlyAsync(client, ping.Length).WaitAsync(TimeSpan.FromSeconds(20)));

        await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

        // The client sees the end of the stream (or a reset), and nothing listens any more.
        byte[] rest = new byte[16];
        int n;
        try
        {
            n = await client.ReceiveAsync(rest).WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (SocketException)
        {
            n = 0;
        }

        Assert.Equal(0, n);
        var refused = await Assert.ThrowsAsync<SocketException>(() => ConnectAsync(endPoint));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        await server.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task Start_OnATakenPort_FailsWithAddressInUse(EchoServerKind kind)
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen(1);
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        await Assert.ThrowsAsync<AddressInUseException>(() => EchoServers.StartAsync(kind, "127.0.0.1", port));
    }

    public static TheoryData<EchoServerKind> LoopKinds => [EchoServerKind.Protocol, EchoServerKind.Stream, EchoServerKind.Framed];

    [Theory]
    [MemberData(nameof(LoopKinds))]
    public async Task GroupEcho_OnFourLoopsRoundRobin_EchoesOnEveryConnection_AndCountsTwoPerLoop(EchoServerKind kind)
    {
        var options = new EchoServerOptions { Loops = 4, Distribution = AcceptDistribution.RoundRobin };
        await using IEchoServer server = await EchoServers.StartAsync(kind, options: options);
        Assert.Equal(4, server.Loops);
        Assert.Equal(AcceptDistribution.RoundRobin, server.Distribution);

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                Socket client = await ConnectAsync(server.EndPoint);
                clients.Add(client);
                byte[] ping = kind.IsFramed() ? [0, 0, 0, 1, (byte)i] : [(byte)i, 1, 2];
                await client.SendAsync(ping);
                Assert.Equal(ping, await ReceiveExactlyAsync(client, ping.Length).WaitAsync(TimeSpan.FromSeconds(20)));
            }
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        Assert.Equal([2L, 2L, 2L, 2L], server.GetAcceptedCounts());
    }

    [Theory]
    [MemberData(nameof(LoopKinds))]
    public async Task GroupEcho_OneLoopByDefault_TakesThePortForItself_SoASecondServerFailsWithAddressInUse(EchoServerKind kind)
    {
        await using IEchoServer first = await EchoServers.StartAsync(kind);
        Assert.Equal(1, first.Loops);
        Assert.Equal(AcceptDistribution.RoundRobin, first.Distribution);

        await Assert.ThrowsAsync<AddressInUseException>(() => EchoServers.StartAsync(kind, "127.0.0.1", first.EndPoint.Port));
    }

    [Theory]
    [InlineData(EchoServerKind.Socket)]
    [InlineData(EchoServerKind.Pipelines)]
    public async Task BaselineEcho_RunsOnNoLoops_AndReportsNoSpread(EchoServerKind kind)
    {
        await using IEchoServer server = await EchoServers.StartAsync(kind, options: new EchoServerOptions { Loops = 4 });

        Assert.Equal(0, server.Loops);
        Assert.Null(server.Distribution);
        Assert.Empty(server.GetAcceptedCounts());
    }

    [Fact]
    public async Task Options_OutOfRange_AreRejected()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => EchoServers.StartAsync(EchoServerKind.Protocol, options: new EchoServerOptions { Loops = 0 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => EchoServers.StartAsync(EchoServerKind.Protocol, options: new EchoServerOptions { Distribution = (AcceptDistribution)42 }));
    }

    [Fact]
    public void Kinds_ParseTheCommandLineNames()
    {
        Assert.True(EchoServerKinds.TryParse("raw", out EchoServerKind raw));
        Assert.Equal(EchoServerKind.Protocol, raw);
        Assert.True(EchoServerKinds.TryParse("Pipelines", out EchoServerKind pipelines));
        Assert.Equal(EchoServerKind.Pipelines, pipelines);
        Assert.True(EchoServerKinds.TryParse("zero-copy", out EchoServerKind zeroCopy));
        Assert.Equal(EchoServerKind.ZeroCopy, zeroCopy);
        Assert.False(EchoServerKinds.TryParse("udp", out _));
        Assert.False(EchoServerKinds.TryParse(null, out _));
        Assert.Equal(6, EchoServerKinds.All.Count);
    }

    internal static async Task<Socket> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint).WaitAsync(TimeSpan.FromSeconds(10));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        int received = 0;
        while (received < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(received));
            if (n == 0)
            {
                throw new EndOfStreamException($"EOF after {received} of {count} bytes");
            }

            received += n;
        }

        return buffer;
    }
}
