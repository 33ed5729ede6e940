using System.Net;
using AsyncNet.Errors;
using AsyncNet.Streams;
using AsyncNet.Transports;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Echo.Servers;

/// <summary>
/// The stream-level echo, asyncio's canonical one: <c>n = await reader.ReadAsync(buffer)</c>, <c>writer.Write</c>,
/// <c>await writer.DrainAsync()</c>, on <see cref="StreamEndpoints.StartServerAsync(Loop.EventLoop, Func{StreamReader, StreamWriter, Task}, string?, int, StreamOptions?, ServerOptions?, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// Each handler runs on the loop thread; a read waiting there completes inside the transport's read callback, so the
/// write is queued and sent with the callback's others, and the drain completes synchronously unless the client falls
/// behind. One buffer per connection; nothing is allocated per message.
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

/// <summary>What the stream and framed echoes share: a <see cref="StreamServer"/>, its graceful close, and quiet ends.</summary>
internal abstract class StreamServerEchoBase(EchoServerOptions options) : LoopEchoServer(options)
{
    private StreamServer? _server;

    protected override async Task<IPEndPoint> ListenAsync(string host, int port)
    {
        _server = await Loop.StartServerAsync(ServeAsync, host, port, serverOptions: new ServerOptions { Backlog = Options.Backlog });
        return (IPEndPoint)_server.Sockets[0].LocalEndPoint!;
    }

    protected override Task CloseAsync(TimeSpan grace)
    {
        // Closing the writers flushes each connection's echo, then closes it; the handlers' reads then see the end.
        StreamServer server = _server!;
        return CloseGracefullyAsync(server.Close, server.CloseClients, server.AbortClients, () => server.WaitClosedAsync(), grace);
    }

    /// <summary>Echoes one connection until the client's EOF.</summary>
    protected abstract Task EchoAsync(StreamReader reader, StreamWriter writer);

    private async Task ServeAsync(StreamReader reader, StreamWriter writer)
    {
        try
        {
            await EchoAsync(reader, writer);
        }
        catch (NetworkException)
        {
            // The client reset or aborted the connection: nothing to echo to any more.
        }
        catch (InvalidOperationException) when (writer.IsClosing)
        {
            // The server is closing: its writers are closed, so this handler's last write was refused.
        }
    }
}
