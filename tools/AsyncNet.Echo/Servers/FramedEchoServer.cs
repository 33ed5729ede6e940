using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using AsyncNet.Transports;

namespace AsyncNet.Echo.Servers;

/// <summary>
/// The framed echo: each frame a <see cref="FrameReader"/> reads is written back whole with a <see cref="FrameWriter"/>
/// (same type, same payload), and after every frame that arrived together (<see cref="FrameReader.TryReadFrame"/>),
/// one <c>DrainAsync</c>, on
/// <see cref="FramedEndpoints.StartFramedServerAsync(EventLoopGroup, Func{FramedConnection, Task}, string?, int, LengthFieldFormat, HeartbeatOptions?, StreamOptions?, ServerOptions?, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// Frames already buffered are read synchronously, and the payload is written from the receive buffer where it lies
/// (no copy), before the next read releases it. Inside the transport's read callback every frame's write joins one
/// gathered send. A client that stops inside a frame ends its connection quietly; a malformed frame closes the
/// connection and goes to the loop's exception handler.
/// </remarks>
internal sealed class FramedEchoServer(EchoServerOptions options) : GroupEchoServer(options)
{
    public override EchoServerKind Kind => EchoServerKind.Framed;

    protected override Task<GroupServer> ListenAsync(EventLoopGroup group, string host, int port, ServerOptions serverOptions) =>
        group.StartFramedServerAsync(
            connection => QuietEnds.ServeAsync(EchoAsync(connection), connection.Writer.Writer), host, port, Options.FrameFormat, serverOptions: serverOptions);

    private static async Task EchoAsync(FramedConnection connection)
    {
        var (frames, output) = connection;
        try
        {
            while (await frames.ReadFrameAsync() is { } first)
            {
                // Every frame that arrived with the first is answered before the one drain.
                Frame frame = first;
                do
                {
                    output.Write(frame);
                }
                while (frames.TryReadFrame(out frame));

                await output.DrainAsync();
            }
        }
        catch (IncompleteReadException)
        {
            // The client closed inside a frame (a load generator stopping with frames in flight): nothing to echo.
        }
    }
}
