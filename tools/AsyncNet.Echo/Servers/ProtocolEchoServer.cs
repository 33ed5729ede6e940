using AsyncNet.Loop;
using AsyncNet.Transports;

namespace AsyncNet.Echo.Servers;

/// <summary>The transport-level echo: an <see cref="IProtocol"/> whose <c>DataReceived</c> writes the bytes back.</summary>
/// <remarks>
/// Inside <c>DataReceived</c> the transport queues the write and sends everything queued once the callback returns, so
/// each read costs one send, and nothing is allocated per message.
/// </remarks>
internal sealed class ProtocolEchoServer(EchoServerOptions options) : GroupEchoServer(options)
{
    public override EchoServerKind Kind => EchoServerKind.Protocol;

    protected override Task<GroupServer> ListenAsync(EventLoopGroup group, string host, int port, ServerOptions serverOptions) =>
        group.CreateServerAsync(() => new EchoProtocol(), host, port, serverOptions);

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
