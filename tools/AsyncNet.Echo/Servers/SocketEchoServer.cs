using System.Net.Sockets;

namespace AsyncNet.Echo.Servers;

/// <summary>The idiomatic .NET baseline: <c>ReceiveAsync</c> into a buffer, <c>SendAsync</c> it back, on the thread pool.</summary>
/// <remarks>Both calls take <see cref="Memory{T}"/> and return cached value tasks, so the loop allocates nothing per message.</remarks>
internal sealed class SocketEchoServer(EchoServerOptions options) : ThreadPoolEchoServer(options)
{
    public override EchoServerKind Kind => EchoServerKind.Socket;

    protected override async Task EchoAsync(Socket connection, CancellationToken stop)
    {
        byte[] buffer = new byte[Options.BufferSize];
        while (true)
        {
            int n = await connection.ReceiveAsync(buffer, SocketFlags.None, stop).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }

            await connection.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, stop).ConfigureAwait(false);
        }
    }
}
