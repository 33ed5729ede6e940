// A framed echo round trip on loopback, server and client on one event loop: every payload must come back intact.
using System.Buffers;
using System.Net;
using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

byte[][] payloads = ["hello"u8.ToArray(), [], [.. Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31))]];
LengthFieldFormat format = LengthFieldFormat.Default;
using var loop = new EventLoop();
long echoed = loop.RunUntilComplete(async () =>
{
    await using StreamServer server = await loop.StartFramedServerAsync(
        async connection =>
        {
            while (await connection.Reader.ReadFrameAsync() is { } frame)
            {
                await connection.Writer.WriteAsync(frame);
            }
        },
        "127.0.0.1",
        0,
        format);
    int port = ((IPEndPoint)server.Sockets[0].LocalEndPoint!).Port;
    await using FramedConnection client = await loop.OpenFramedConnectionAsync("127.0.0.1", port, format);
    long bytes = 0;
    foreach (byte[] payload in payloads)
    {
        await client.Writer.WriteAsync(0, payload);
        Frame echo = await client.Reader.ReadFrameAsync() ?? throw new InvalidDataException("The server closed early.");
        if (!echo.Payload.ToArray().AsSpan().SequenceEqual(payload))
        {
            throw new InvalidDataException($"A {payload.Length}-byte payload came back different.");
        }

        bytes += payload.Length;
    }

    return bytes;
});
Console.WriteLine($"csharp echo OK: {payloads.Length} frames, {echoed} bytes");
