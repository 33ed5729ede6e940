using System.Net;
using AsyncNet.Transports;

namespace AsyncNet.Echo.Servers;

/// <summary>The transport-level echo: an <see cref="IProtocol"/> whose <c>DataReceived</c> writes the bytes back.</summary>
/// <remarks>
/// Inside <c>DataReceived</c> the transport queues the write and sends everything queued once the callback returns, so
/// each read costs one send, and nothing is allocated per message.
/// </remarks>
internal sealed class ProtocolEchoServer(EchoServerOptions options) : LoopEchoServer(options)
{
    private Server? _server;

    public override EchoServerKind Kind => EchoServerKind.Protocol;

    protected override async Task<IPEndPoint> ListenAsync(string host, int port)
    {
        _server = await Loop.CreateServerAsync(() => new EchoProtocol(), host, port, new ServerOptions { Backlog = Options.Backlog });
        return (IPEndPoint)_server.Sockets[0].LocalEndPoint!;
    }

    protected override Task CloseAsync(TimeSpan grace)
    {
        Server server = _server!;
        return CloseGracefullyAsync(server.Close, server.CloseClients, server.AbortClients, () => server.WaitClosedAsync(), grace);
    }

    private sealed class EchoProtocol : IProtocol
    {
        private IStreamTransport _transport = null!;

        public void ConnectionMade(ITransport transport) => _transport = (IStreamTransport)transport;

        public void DataReceived(ReadOnlySpan<byte> data) => _transport.Write(data);

        public void ConnectionLost(Exception? exception)
        {
        }
    }
}
