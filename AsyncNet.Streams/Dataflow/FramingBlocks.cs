using System.Threading.Tasks.Dataflow;
using AsyncNet.Streams.Framing;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Dataflow;

/// <summary>
/// The length-field codec as Dataflow blocks: a decoder from received segments to <see cref="Frame"/>s and an encoder
/// from frames to segments to send, to put between a <see cref="DataflowConnection"/>'s source and target.
/// </summary>
/// <remarks>
/// <para>A framed request/response pipeline over a connection, faults and completion propagating along it:</para>
/// <code>
/// var link = new DataflowLinkOptions { PropagateCompletion = true };
/// connection.Source.LinkTo(decoder, link);
/// decoder.LinkTo(handler, link);            // a TransformBlock&lt;Frame, Frame&gt;
/// handler.LinkTo(encoder, link);
/// encoder.LinkTo(connection.Target, link);  // a fault anywhere ends here and aborts the connection
/// </code>
/// <para>
/// Both blocks process one message at a time, in order, and are bounded: with <see langword="null"/> options the input
/// and the output each hold <see cref="DefaultBoundedCapacity"/> messages. Given options apply to both (an unbounded
/// capacity there is the caller's choice).
/// </para>
/// </remarks>
public static class FramingBlocks
{
    /// <summary>The input's and the output's BoundedCapacity when no options are given: 16 messages each.</summary>
    public const int DefaultBoundedCapacity = 16;

    /// <summary>Creates a decoder block: segments of a byte stream in, in any chunking; whole frames out, in order.</summary>
    /// <param name="format">The frame layout.</param>
    /// <param name="options">
    /// The block's settings (BoundedCapacity, CancellationToken, TaskScheduler, MaxMessagesPerTask); <see langword="null"/>
    /// for a capacity of <see cref="DefaultBoundedCapacity"/>.
    /// </param>
    /// <returns>The block; it also implements <see cref="IReceivableSourceBlock{TOutput}"/>.</returns>
    /// <remarks>
    /// <para>
    /// Ownership: each frame's payload is an array of its own, copied out of the segments, so frames may be kept for as
    /// long as wanted. Segments are read in place, possibly after the offer returned and across several frames: their
    /// memory must not change once offered (as every Dataflow message's).
    /// </para>
    /// <para>
    /// Faults: a corrupt frame (<see cref="FrameTooLargeException"/>, <see cref="CorruptFrameException"/>,
    /// <see cref="ChecksumMismatchException"/>) stops decoding, but the block faults only after every frame before it was
    /// taken by a target, so nothing decoded is lost. When the input completes inside a frame (the stream was cut),
    /// the block faults with <see cref="IncompleteReadException"/> carrying that frame's bytes and the length it needed.
    /// With <see cref="LengthFieldFormat.DiscardOversizedFrames"/> an oversized frame is skipped and decoding goes on.
    /// Linked to a <see cref="DataflowConnection.Source"/> with PropagateCompletion, a fault also aborts the connection.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="format"/> is null.</exception>
    public static IPropagatorBlock<ReadOnlyMemory<byte>, Frame> CreateDecoder(LengthFieldFormat format, DataflowBlockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(format);
        return new FrameDecoderBlock(format, options);
    }

    /// <summary>Creates an encoder block: frames in; each frame's bytes (header, payload, trailer) out as one segment.</summary>
    /// <param name="format">The frame layout.</param>
    /// <param name="options">
    /// The block's settings (BoundedCapacity, CancellationToken, TaskScheduler, MaxMessagesPerTask); <see langword="null"/>
    /// for a capacity of <see cref="DefaultBoundedCapacity"/>.
    /// </param>
    /// <returns>The block; it also implements <see cref="IReceivableSourceBlock{TOutput}"/>.</returns>
    /// <remarks>
    /// Each output segment is a fresh array the message owns. A frame the format cannot carry (its payload or type does
    /// not fit, see <see cref="FrameEncoder.WriteHeader"/>) faults the block with <see cref="ArgumentException"/> after
    /// the segments encoded before it were taken. Linked to a <see cref="DataflowConnection.Target"/> with
    /// PropagateCompletion, completing the encoder half-closes the connection and faulting it aborts the connection.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="format"/> is null.</exception>
    public static IPropagatorBlock<Frame, ReadOnlyMemory<byte>> CreateEncoder(LengthFieldFormat format, DataflowBlockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(format);
        return new FrameEncoderBlock(format, options);
    }
}
