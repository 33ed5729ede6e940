// FramedRequestResponseServer: a framed request/response server as one linked Dataflow pipeline per connection.
//
//   connection.Source → decoder → handler (TransformBlock) → encoder → connection.Target
//
// Everything else follows from the links: bounded blocks give backpressure end to end (a client that does not read
// its responses stops the server reading its requests); PropagateCompletion carries the client's EOF through to a
// graceful close, and any fault (a corrupt frame, a throwing handler) through to the target, which aborts the
// connection. The connection's Completion is the handler's task, so StreamServer reports such a fault to the loop's
// exception handler.

using System.Buffers;
using System.Net;
using System.Text;
using System.Threading.Tasks.Dataflow;
using AsyncNet.Loop;
using AsyncNet.Streams;
using AsyncNet.Streams.Dataflow;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;
using StreamReader = AsyncNet.Streams.StreamReader;
using StreamWriter = AsyncNet.Streams.StreamWriter;

namespace AsyncNet.Samples.Dataflow;

/// <summary>
/// A TCP server that answers each length-prefixed request frame with one response frame, in order, through a linked
/// Dataflow pipeline.
/// </summary>
public static class FramedRequestResponseServer
{
    /// <summary>How many frames the handler block holds: in flight, waiting, and answered but not yet encoded.</summary>
    private const int HandlerCapacity = 16;

    /// <summary>Starts the server; call it on the loop's thread.</summary>
    /// <param name="loop">The loop to serve on.</param>
    /// <param name="endPoint">Where to listen; port 0 lets the OS choose (see <see cref="StreamServer.Sockets"/>).</param>
    /// <param name="format">The frame layout of requests and responses.</param>
    /// <param name="handler">Turns a request into its response; runs on the thread pool, one request at a time per connection.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The server; shut it down with <see cref="StreamServer.ShutdownAsync"/>.</returns>
    public static Task<StreamServer> StartAsync(
        EventLoop loop, IPEndPoint endPoint, LengthFieldFormat format, Func<Frame, Frame> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(handler);
        return loop.StartServerAsync(
            (reader, writer) => ServeAsync(reader, writer, format, handler),
            endPoint.Address.ToString(),
            endPoint.Port,
            cancellationToken: cancellationToken);
    }

    /// <summary>Serves one connection: links its pipeline and completes when the connection is done.</summary>
    /// <param name="reader">The connection's reader.</param>
    /// <param name="writer">The connection's writer.</param>
    /// <param name="format">The frame layout.</param>
    /// <param name="handler">Turns a request into its response.</param>
    /// <returns>The connection's completion: it faults with whatever aborted the connection.</returns>
    public static Task ServeAsync(StreamReader reader, StreamWriter writer, LengthFieldFormat format, Func<Frame, Frame> handler)
    {
        var connection = new DataflowConnection(reader, writer);
        IPropagatorBlock<ReadOnlyMemory<byte>, Frame> decoder = FramingBlocks.CreateDecoder(format);
        var handle = new TransformBlock<Frame, Frame>(handler, new ExecutionDataflowBlockOptions { BoundedCapacity = HandlerCapacity });
        IPropagatorBlock<Frame, ReadOnlyMemory<byte>> encoder = FramingBlocks.CreateEncoder(format);

        var link = new DataflowLinkOptions { PropagateCompletion = true };
        connection.Source.LinkTo(decoder, link);
        decoder.LinkTo(handle, link);
        handle.LinkTo(encoder, link);
        encoder.LinkTo(connection.Target, link);
        return connection.Completion;
    }

    /// <summary>The demonstration handler: the request's payload in ASCII upper case, with the request's type.</summary>
    /// <param name="request">The request; its payload is an array of its own.</param>
    /// <returns>The response.</returns>
    public static Frame UpperCase(Frame request)
    {
        byte[] payload = request.Payload.ToArray();
        Ascii.ToUpperInPlace(payload, out _);
        return new Frame(request.Type, payload);
    }
}
