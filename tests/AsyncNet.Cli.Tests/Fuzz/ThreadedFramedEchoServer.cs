using System.Buffers;
using System.Net;
using System.Net.Sockets;
using AsyncNet.Streams.Framing;

namespace AsyncNet.Cli.Tests.Fuzz;

/// <summary>
/// A framed echo server on plain blocking sockets, one thread per connection, with an optional planted bug: the
/// fuzzer's tests need a server whose faults they choose, independent of the AsyncNet code under test elsewhere.
/// </summary>
internal sealed class ThreadedFramedEchoServer : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly LengthFieldFormat _format;
    private readonly Func<Frame, byte[]> _reply;
    private readonly Thread _acceptor;

    /// <param name="format">The wire format.</param>
    /// <param name="reply">The payload to echo for a received frame (the planted bug goes here).</param>
    public ThreadedFramedEchoServer(LengthFieldFormat format, Func<Frame, byte[]> reply)
    {
        _format = format;
        _reply = reply;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        _acceptor = new Thread(AcceptLoop) { IsBackground = true, Name = "fuzz-test-acceptor" };
        _acceptor.Start();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    public int Connections;

    public void Dispose()
    {
        _listener.Dispose();
        _acceptor.Join(TimeSpan.FromSeconds(5));
    }

    private void AcceptLoop()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref Connections);
            new Thread(() => Serve(client)) { IsBackground = true, Name = "fuzz-test-connection" }.Start();
        }
    }

    private void Serve(Socket client)
    {
        using (client)
        {
            var decoder = new FrameDecoder(_format);
            var encoder = new FrameEncoder(_format);
            var pending = new ArrayBufferWriter<byte>();
            var chunk = new byte[4096];
            client.ReceiveTimeout = 10_000;
            try
            {
                while (true)
                {
                    int n = client.Receive(chunk);
                    if (n == 0)
                    {
                        client.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    pending.Write(chunk.AsSpan(0, n));
                    var buffer = new ReadOnlySequence<byte>(pending.WrittenMemory);
                    while (decoder.TryDecode(ref buffer, out Frame frame))
                    {
                        client.Send(encoder.Encode(frame.Type, _reply(frame)));
                    }

                    byte[] rest = buffer.ToArray();
                    pending.Clear();
                    pending.Write(rest);
                }
            }
            catch (Exception e) when (e is SocketException or InvalidFrameException)
            {
                // The fuzzer sees the close; that is the point.
            }
        }
    }
}
