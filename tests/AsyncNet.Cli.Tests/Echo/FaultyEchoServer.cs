using System.Net.Sockets;
using AsyncNet.Cli.Tests.Support;

namespace AsyncNet.Cli.Tests.Echo;

/// <summary>What a <see cref="FaultyEchoServer"/> does wrong.</summary>
internal enum EchoFault
{
    /// <summary>Nothing: a correct byte echo.</summary>
    None,

    /// <summary>Flips every bit of the byte at the given offset of each connection's stream.</summary>
    FlipByte,

    /// <summary>Closes each connection (FIN) once it has echoed the given number of bytes.</summary>
    CloseAfter,

    /// <summary>Inserts one extra byte (0x42) at the given offset, then goes on echoing.</summary>
    ExtraByte,
}

/// <summary>
/// A byte echo server on plain blocking sockets, one thread per connection, with one planted fault at a chosen offset:
/// the load generator's and the bench command's tests need a server whose mistakes they choose.
/// </summary>
internal sealed class FaultyEchoServer : ThreadPerConnectionServer
{
    private readonly EchoFault _fault;
    private readonly long _offset;

    public FaultyEchoServer(EchoFault fault, long offset = 0)
        : base("faulty-echo")
    {
        _fault = fault;
        _offset = offset;
        Start();
    }

    protected override void Serve(Socket client)
    {
        byte[] buffer = new byte[64 * 1024];
        long echoed = 0;
        try
        {
            while (true)
            {
                int n = client.Receive(buffer);
                if (n == 0)
                {
                    return;
                }

                if (_fault == EchoFault.FlipByte && echoed <= _offset && _offset < echoed + n)
                {
                    buffer[_offset - echoed] ^= 0xFF;
                }

                if (_fault == EchoFault.ExtraByte && echoed <= _offset && _offset < echoed + n)
                {
                    int before = (int)(_offset - echoed);
                    client.Send(buffer.AsSpan(0, before));
                    client.Send([0x42]);
                    client.Send(buffer.AsSpan(before, n - before));
                    echoed += n;
                    continue;
                }

                if (_fault == EchoFault.CloseAfter && echoed + n >= _offset)
                {
                    client.Send(buffer.AsSpan(0, (int)(_offset - echoed)));
                    client.Shutdown(SocketShutdown.Send);
                    return;
                }

                client.Send(buffer.AsSpan(0, n));
                echoed += n;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client went away, or the test ended.
        }
    }
}
