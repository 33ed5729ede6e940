using System.Net.Sockets;
using AsyncNet.Cli.Tests.Support;

namespace AsyncNet.Cli.Tests.Fuzz;

/// <summary>
/// A line echo server on plain blocking sockets, one thread per connection, with an optional planted bug: each line
/// (without its newline) goes through <c>reply</c> and comes back with a newline.
/// </summary>
internal sealed class ThreadedLineEchoServer : ThreadPerConnectionServer
{
    private readonly Func<byte[], byte[]> _reply;

    /// <param name="reply">The line to echo for a received line (the planted bug goes here).</param>
    public ThreadedLineEchoServer(Func<byte[], byte[]> reply)
        : base("line-fuzz-test")
    {
        _reply = reply;
        Start();
    }

    protected override void Serve(Socket client)
    {
        var line = new List<byte>();
        var chunk = new byte[4096];
        client.ReceiveTimeout = 10_000;
        try
        {
            int n;
            while ((n = client.Receive(chunk)) > 0)
            {
                foreach (byte b in chunk.AsSpan(0, n))
                {
                    if (b != '\n')
                    {
                        line.Add(b);
                        continue;
                    }

                    client.Send([.. _reply([.. line]), (byte)'\n']);
                    line.Clear();
                }
            }

            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The fuzzer sees the close; that is the point. (Or the test ended and closed the socket.)
        }
    }
}
