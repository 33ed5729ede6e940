using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Transports;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Echo.Servers;

/// <summary>
/// The stream-level echo, asyncio's canonical one: <c>n = await reader.ReadAsync(buffer)</c>, <c>writer.Write</c>,
/// <c>await writer.DrainAsync()</c>, on <see cref="StreamEndpoints.StartServerAsync(EventLoopGroup, Func{StreamReader, StreamWriter, Task}, string?, int, StreamOptions?, ServerOptions?, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// Each handler runs on its connection's loop thread; a read waiting there completes inside the transport's read
/// callback, so the write is queued and sent with the callback's others, and the drain completes synchronously unless
/// the client falls behind. The buffer (256 KiB by default) is as large as the transport's read size, so a read that
/// waits has the socket receive straight into it, and a large write leaves at once: no copy either way. One buffer per
/// connection; nothing is allocated per message.
/// </remarks>
internal sealed class StreamEchoServer(EchoServerOptions options) : StreamServerEchoBase(options)
{
    public override EchoServerKind Kind => EchoServerKind.Stream;

    protected override async Task EchoAsync(StreamReader reader, StreamWriter writer)
    {
        byte[] buffer = new byte[Options.BufferSize];
        while (true)
        {
            int n = await reader.ReadAsync(buffer);
            if (n == 0)
            {
                return;
            }

            writer.Write(buffer.AsSpan(0, n));
            await writer.DrainAsync();
        }
    }
}

/// <summary>What the stream echoes (plain and TLS) share: a stream server on the group, and quiet ends.</summary>
internal abstract class StreamServerEchoBase(EchoServerOptions options) : GroupEchoServer(options)
{
    protected override Task<GroupServer> ListenAsync(EventLoopGroup group, string host, int port, ServerOptions serverOptions) =>
        group.StartServerAsync((reader, writer) => QuietEnds.ServeAsync(EchoAsync(reader, writer), writer), host, port, serverOptions: serverOptions);

    /// <summary>Echoes one connection until the client's EOF.</summary>
    protected abstract Task EchoAsync(StreamReader reader, StreamWriter writer);
}
