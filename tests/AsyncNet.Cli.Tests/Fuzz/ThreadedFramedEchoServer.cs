using System.Buffers;
using System.Net.Sockets;
using AsyncNet.Cli.Tests.Support;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Cli.Tests.Fuzz;

/// <summary>
/// A framed echo server on plain blocking sockets, one thread per connection, with an optional planted bug: the
/// fuzzer's tests need a server whose faults they choose, independent of the AsyncNet code under test elsewhere.
/// </summary>
internal sealed class ThreadedFramedEchoServer : ThreadPerConnectionServer
{
    private readonly LengthFieldFormat _format;
    private readonly Func<Frame, byte[]> _reply;

    /// <param name="format">The wire format.</param>
    /// <param name="reply">The payload to echo for a received frame (the planted bug goes here).</param>
    public ThreadedFramedEchoServer(LengthFieldFormat format, Func<Frame, byte[]> reply)
        : base("fuzz-test")
    {
        _format = format;
        _reply = reply;
        Start();
    }

    protected override void Serve(Socket client)
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
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidFrameException)
        {
            // The fuzzer sees the close; that is the point. (Or the test ended and closed the socket.)
        }
    }
}
